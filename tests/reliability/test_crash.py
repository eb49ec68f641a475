"""kill -9 in the middle of a bulk import: the store still opens, every batch the importer was
told had been written is there whole, and nothing half-written is visible.

The child imports records with transfer.import_records (one commit per batch of 500) and appends
the progress count to a file after each acknowledged batch. It stops at a point the test chooses
(after an acknowledged batch, between a batch's memories commit and its events commit, just
before a batch's memories commit), says so on stdout, and waits to be killed: every round kills
the import at that very point, however fast or slow the machine. The parent then checks the
store and resumes the import after the last acknowledged batch (re-importing a batch that landed
unacknowledged replaces it: imports upsert by id).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from alma_app import ALMA
from alma_app.memory.transfer import BATCH

RECORDS = 5000  # ten batches: the third stop (sixth batch after 1500) is well inside
PROJECT = "crash"

IMPORTER = textwrap.dedent(
    """
    import json, os, sys, time
    from alma_app import ALMA
    from alma_app.memory.transfer import import_records
    store_dir, source, acks, skip, stop = sys.argv[1:6]
    skip = int(skip)
    where, at_batch = stop.split(":")
    at_batch = int(at_batch)
    records = [json.loads(line) for line in open(source, encoding="utf-8")][skip:]
    alma = ALMA(project_id="crash", storage_dir=store_dir, embedding="hashing")
    batches = {"memories": 0, "events": 0}

    def pause_if(point, batch):
        if point == where and batch == at_batch:
            print("stopped", flush=True)
            time.sleep(3600)  # the parent kills the process here

    def counted(write):
        def call(table, rows):
            if table in batches:
                pause_if(f"before-{table}", batches[table] + 1)
            write(table, rows)
            if table in batches:
                batches[table] += 1
        return call

    alma.store.upsert = counted(alma.store.upsert)
    alma.store.add = counted(alma.store.add)
    with open(acks, "a", encoding="utf-8") as out:
        def acknowledged(done, total):
            out.write(f"{skip + done}\\n")
            out.flush()
            os.fsync(out.fileno())
            pause_if("after-ack", batches["memories"])
        import_records(alma, records, progress=acknowledged)
    print("finished", flush=True)
    """
)
# Where each round stops, counted in batches of that round's import, and what is then visible
# beyond the acknowledged records: (stop point, batch, unacknowledged memories visible).
STOPS = (("after-ack", 1, 0), ("before-events", 3, 500), ("before-memories", 6, 0))


def _importer(*args: object) -> list[str]:
    """The child's command line: store, source, acks file, records to skip, where to stop."""
    return [sys.executable, "-c", IMPORTER, *map(str, args)]


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
    for round_, (where, batch, unacknowledged) in enumerate(STOPS):
        child = subprocess.Popen(
            _importer(store_dir, source, acks, acknowledged, f"{where}:{batch}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        said = child.stdout.readline().strip()  # blocks until the child stops (or ends)
        assert said == "stopped", f"the import did not stop at {where} {batch}: {said!r}"
        os.kill(child.pid, signal.SIGKILL)
        _out, err = child.communicate(timeout=60)
        assert child.returncode == -signal.SIGKILL, err[-3000:]
        expected = acknowledged + (batch if where == "after-ack" else batch - 1) * BATCH
        acknowledged = _acknowledged(acks)
        assert acknowledged == expected
        visible = _check_store(store_dir, records, acknowledged)
        assert visible == acknowledged + unacknowledged
        print(f"round {round_} ({where} {batch}): {acknowledged} acknowledged, {visible} visible")

    finish = subprocess.run(
        _importer(store_dir, source, acks, acknowledged, "never:0"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finish.returncode == 0, finish.stderr[-3000:]
    assert _check_store(store_dir, records, RECORDS) == RECORDS
