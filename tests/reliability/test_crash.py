"""kill -9 in the middle of a bulk import: the store still opens, every batch the importer was
told had been written is there whole, and nothing half-written is visible.

The child imports records with transfer.import_records (one commit per batch of 500) and appends
the progress count to a file after each acknowledged batch. The parent kills it at a different
moment in each round, then checks the store and resumes the import after the last acknowledged
batch (re-importing a batch that landed unacknowledged replaces it: imports upsert by id).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from alma_app import ALMA
from alma_app.transfer import BATCH

RECORDS = 12000  # enough that the import is still running at the third kill (writes got faster)
PROJECT = "crash"

IMPORTER = textwrap.dedent(
    """
    import json, os, sys
    from alma_app import ALMA
    from alma_app.transfer import import_records
    store_dir, source, acks, skip = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    records = [json.loads(line) for line in open(source, encoding="utf-8")][skip:]
    alma = ALMA(project_id="crash", storage_dir=store_dir, embedding="hashing")
    with open(acks, "a", encoding="utf-8") as out:
        def acknowledged(done, total):
            out.write(f"{skip + done}\\n")
            out.flush()
            os.fsync(out.fileno())
        import_records(alma, records, progress=acknowledged)
    print("finished")
    """
)


def _records(count: int) -> list[dict]:
    """Export-format records of every type; facts carry enough text to make batches heavy."""
    out = []
    for i in range(count):
        token = hashlib.sha256(str(i).encode()).hexdigest()
        out.append(
            {
                "id": f"mem-{i:06d}",
                "type": "domain_knowledge",
                "agent": f"agent-{i % 4}",
                "domain": "imports",
                "fact": f"imported fact {i}: {token} " + "context " * 40,
                "confidence": 0.5 + (i % 50) / 100,
                "created_at": "2025-01-01T00:00:00+00:00",
                "updated_at": "2025-01-01T00:00:00+00:00",
            }
        )
    return out


def _acknowledged(path: Path) -> int:
    if not path.exists():
        return 0
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return int(lines[-1]) if lines else 0


def _check_store(store_dir: str, records: list[dict], acknowledged: int) -> int:
    """The store opens; acknowledged records are whole; only whole batches are visible."""
    alma = ALMA(project_id=PROJECT, storage_dir=store_dir, embedding="hashing")
    try:
        ids = [r["id"] for r in alma.store.scan("memories", columns=["id"])]
        assert len(ids) == len(set(ids)), "a record is visible twice"
        visible = len(ids)
        assert visible >= acknowledged, "an acknowledged batch is missing"
        assert visible % BATCH == 0 or visible == len(records), f"half a batch visible: {visible}"
        assert set(ids) == {r["id"] for r in records[:visible]}, (
            "batches became visible out of order"
        )
        assert alma.stats()["total"] == alma.list_memories(limit=1).total == visible

        page_size = 1000
        for offset in range(0, visible, page_size):  # every visible row reads back complete
            page = alma.list_memories(limit=page_size, offset=offset, order_by="created_at")
            for memory in page.items:
                source = records[int(memory.id.split("-")[1])]
                assert memory.fact == source["fact"]  # type: ignore[attr-defined]
                assert memory.agent == source["agent"]
                assert memory.confidence == pytest.approx(source["confidence"])  # type: ignore[attr-defined]
        vectors = alma.repo.vectors(ids[:: max(1, visible // 50)])
        assert all(v.shape == (alma.embedder.dim,) for v in vectors.values())

        events = alma.store.sql(
            "SELECT entity_id, count(*) AS n FROM events WHERE action = ? GROUP BY entity_id",
            ["import"],
            tables=["events"],
        ).to_pylist()
        logged = {e["entity_id"]: e["n"] for e in events}
        assert set(logged) <= set(ids), "an event names a memory that is not there"
        acked_ids = [r["id"] for r in records[:acknowledged]]
        assert all(logged.get(i, 0) >= 1 for i in acked_ids), (
            "an acknowledged batch lost its events"
        )
        unlogged = len(set(ids) - set(logged))
        if unlogged:  # killed between a batch's memories commit and its events commit
            print(f"{unlogged} unacknowledged memories are visible without their import event")
        hits = alma.search(records[0]["fact"][:40], limit=3, mode="lexical") if visible else []
        assert not visible or hits
        return visible
    finally:
        alma.close()


@pytest.mark.slow
def test_killing_a_bulk_import_leaves_only_whole_acknowledged_batches(tmp_path: Path) -> None:
    records = _records(RECORDS)
    source = tmp_path / "records.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    store_dir = str(tmp_path / "store")
    acks = tmp_path / "acks"
    acknowledged = 0
    kills = 0
    # kill after 1, 3 and 6 acknowledged batches, plus a short extra delay that moves the kill
    # into a different phase of the next batch (embedding, the memories commit, the events commit)
    for round_, (after_batches, extra_s) in enumerate(((1, 0.0), (3, 0.15), (6, 0.4))):
        child = subprocess.Popen(
            [sys.executable, "-c", IMPORTER, store_dir, str(source), str(acks), str(acknowledged)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        target = min(RECORDS, acknowledged + after_batches * BATCH)
        deadline = time.monotonic() + 240
        while _acknowledged(acks) < target and child.poll() is None:
            assert time.monotonic() < deadline, "the import made no progress"
            time.sleep(0.01)
        time.sleep(extra_s)
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            kills += 1
        child.communicate(timeout=60)
        acknowledged = _acknowledged(acks)
        visible = _check_store(store_dir, records, acknowledged)
        print(f"round {round_}: {acknowledged} acknowledged, {visible} visible")
    assert kills == 3, "the import finished before it could be killed; make it longer"

    finish = subprocess.run(
        [sys.executable, "-c", IMPORTER, store_dir, str(source), str(acks), str(acknowledged)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finish.returncode == 0, finish.stderr[-3000:]
    assert _check_store(store_dir, records, RECORDS) == RECORDS
