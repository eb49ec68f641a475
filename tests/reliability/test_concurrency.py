"""Four processes learning at once while a fifth edits, rejects and approves what they wrote:
every acknowledged write is in the store exactly once, with its one create event, and every
acknowledged review is the memory's final state.

Each process appends what it was acknowledged (ids, review steps) to its own file right after
each call returns, so the check compares the store with what callers were told. The count per
writer is ALMA_RELIABILITY_WRITES (default 500).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from alma_app import ALMA
from alma_app.memory.types import new_id

WRITES = int(os.environ.get("ALMA_RELIABILITY_WRITES", "500"))
WRITERS = ("writer-0", "writer-1", "writer-2", "writer-3")
PROJECT = "shared"

WRITER = textwrap.dedent(
    """
    import hashlib, sys
    from alma_app import ALMA
    store_dir, name, count, acks = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    # two successes before a heuristic: each strategy is used once, so none forms
    agents = {name: {"min_occurrences_for_heuristic": 2}}
    alma = ALMA(
        project_id="shared", storage_dir=store_dir, embedding="hashing", compact_every=64,
        agents=agents,
    )
    with open(acks, "a", encoding="utf-8") as out:
        for i in range(count):
            token = hashlib.sha256(f"{name}/{i}".encode()).hexdigest()
            # distinct strategies: each call stores one new outcome and forms nothing else
            result = alma.learn(
                name,
                f"{name} task {i} {token[:12]}",
                "success" if i % 4 else "failure",
                f"{token[12:24]} {token[24:36]} {token[36:48]}",
                task_type="testing",
            )
            out.write(result.outcome.id + "\\n")
            out.flush()
    """
)

EDITOR = textwrap.dedent(
    """
    import random, sys, time
    from pathlib import Path
    from alma_app import ALMA, AlmaError
    store_dir, acks_dir, log, stop = sys.argv[1], Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    ID_LENGTH = int(sys.argv[5])  # a line still being written is shorter: skip it
    alma = ALMA(project_id="shared", storage_dir=store_dir, embedding="hashing", compact_every=64)
    rng = random.Random(1)
    step = 0
    with open(log, "a", encoding="utf-8") as out:
        while not stop.exists():
            written = [
                line for f in acks_dir.glob("writer-*.acks")
                for line in f.read_text().splitlines() if len(line) == ID_LENGTH
            ]
            if not written:
                time.sleep(0.05)
                continue
            memory_id = rng.choice(written)
            step += 1
            note = f"reviewed {step}"
            kind = ("edit", "reject", "edit_and_approve")[step % 3]
            if kind == "edit":
                alma.update_memory(memory_id, feedback=note, actor="editor")
            elif kind == "reject":
                alma.reject([memory_id], "editor", reason=note)
            else:
                alma.edit_and_approve(memory_id, "editor", feedback=note)
            out.write(f"{kind} {memory_id} {note}\\n")
            out.flush()
    print("reviews", step)
    """
)


def _read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.slow
def test_writers_and_a_reviewer_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    store_dir = str(tmp_path / "store")
    ALMA(project_id=PROJECT, storage_dir=store_dir, embedding="hashing").close()
    stop = tmp_path / "stop"
    review_log = tmp_path / "editor.log"
    started = time.perf_counter()
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                store_dir,
                name,
                str(WRITES),
                str(tmp_path / f"{name}.acks"),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in WRITERS
    ]
    editor = subprocess.Popen(
        [
            sys.executable,
            "-c",
            EDITOR,
            store_dir,
            str(tmp_path),
            str(review_log),
            str(stop),
            str(len(new_id())),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for proc in writers:
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err[-3000:]
    finally:
        stop.touch()
    out, err = editor.communicate(timeout=120)
    assert editor.returncode == 0, err[-3000:]
    elapsed = time.perf_counter() - started
    print(
        f"{len(WRITERS)} x {WRITES} learn() calls with concurrent reviews in {elapsed:.0f} s; {out}"
    )

    acknowledged = {name: _read_lines(tmp_path / f"{name}.acks") for name in WRITERS}
    reviews = [line.split(" ", 2) for line in _read_lines(review_log)]
    assert all(len(ids) == WRITES for ids in acknowledged.values())
    assert reviews, "the reviewer never ran while the writers were writing"
    all_ids = [i for ids in acknowledged.values() for i in ids]
    assert len(set(all_ids)) == len(all_ids)

    alma = ALMA(project_id=PROJECT, storage_dir=store_dir, embedding="hashing")
    try:
        rows = alma.store.sql(
            "SELECT id, count(*) AS n FROM memories GROUP BY id", tables=["memories"]
        ).to_pylist()
        copies = {r["id"]: r["n"] for r in rows}
        assert {i: copies.get(i, 0) for i in all_ids} == dict.fromkeys(all_ids, 1)
        assert set(copies) == set(all_ids), "memories appeared that nobody was told about"
        for name, ids in acknowledged.items():
            assert alma.list_memories(agent=name, memory_type="outcome", limit=10).total == len(ids)

        events = alma.store.sql(
            "SELECT entity_id, action, count(*) AS n FROM events GROUP BY entity_id, action",
            tables=["events"],
        ).to_pylist()
        creates = {e["entity_id"]: e["n"] for e in events if e["action"] == "create"}
        assert creates == dict.fromkeys(all_ids, 1)
        by_action: dict[str, int] = {}
        for e in events:
            by_action[e["action"]] = by_action.get(e["action"], 0) + e["n"]
        # a reject of an already rejected memory changes nothing and logs nothing
        assert by_action.get("edit", 0) == sum(1 for k, _, _ in reviews if k == "edit")
        assert by_action.get("approve", 0) == sum(
            1 for k, _, _ in reviews if k == "edit_and_approve"
        )
        assert by_action.get("reject", 0) <= sum(1 for k, _, _ in reviews if k == "reject")

        # replay the acknowledged reviews: each memory must be in the state the last one left
        expected: dict[str, tuple[str, str | None]] = {}
        for kind, memory_id, note in reviews:
            status, feedback = expected.get(memory_id, ("approved", None))
            if kind == "reject":
                status = "rejected"
            else:
                feedback = note
                status = "approved" if kind == "edit_and_approve" else status
            expected[memory_id] = (status, feedback)
        for memory_id, (status, feedback) in expected.items():
            memory = alma.get_memory(memory_id)
            assert (memory.status, memory.feedback) == (status, feedback)  # type: ignore[attr-defined]

        alma.compact()  # the store is whole enough to be rewritten
        assert alma.stats()["total"] == len(all_ids)
    finally:
        alma.close()
