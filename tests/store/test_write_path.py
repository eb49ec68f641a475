"""The write path under concurrency: group commit, the commit lock, compaction off the hot path."""

from __future__ import annotations

import fcntl
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from alma_app.tables import TABLES
from alma_store import InvalidQuery, open_store
from alma_store.appender import LanceAppender
from alma_store.commit_lock import LOCK_DIR, CommitLock
from alma_store.redact import explain, scrub, secrets_of
from alma_store.write_queue import GroupCommit
from tests.store.test_contract import DIM, memory_row


def test_concurrent_writes_from_threads_share_commits_and_all_land(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES)
    store.add("memories", [memory_row(0)])
    before = store.version("memories")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: store.add("memories", [memory_row(i)]), range(1, 81)))
    commits, writes = store.commits
    assert store.count("memories") == 81
    assert sorted(int(r["id"][1:]) for r in store.scan("memories", columns=["id"])) == list(
        range(81)
    )
    assert writes == 81 and commits < writes  # some calls rode on another's commit
    assert store.version("memories") - before <= 80


def test_concurrent_upserts_of_one_id_all_commit_and_the_last_one_wins(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES)
    store.add("memories", [memory_row(1)])
    before = store.version("memories")
    with ThreadPoolExecutor(6) as pool:  # same id: never merged into one ambiguous commit
        list(
            pool.map(
                lambda n: store.upsert("memories", [memory_row(1, text=f"edit {n}")]), range(30)
            )
        )
    assert store.version("memories") - before == 30
    assert store.count("memories") == 1
    store.upsert("memories", [memory_row(1, text="final")])
    assert store.get("memories", ["m1"])[0]["text"] == "final"


def test_one_bad_write_fails_alone_and_rows_with_duplicate_ids_are_refused(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES)
    with pytest.raises(InvalidQuery, match="distinct ids"):
        store.upsert("memories", [memory_row(1), memory_row(1, text="twin")])
    with pytest.raises(InvalidQuery):
        store.add("memories", [memory_row(2, confidence="high")])
    store.add("memories", [memory_row(3)])
    assert [r["id"] for r in store.scan("memories", columns=["id"])] == ["m3"]


def test_the_commit_lock_serialises_holders_across_handles(tmp_path):
    first, second = CommitLock(tmp_path), CommitLock(tmp_path)  # as two processes would
    inside: list[str] = []
    b_waits, b_done = threading.Event(), threading.Event()

    def hold_b() -> None:
        b_waits.set()
        with second.hold("memories"):
            inside.append("b in")
            inside.append("b out")
        b_done.set()

    b = threading.Thread(target=hold_b)
    with first.hold("memories"):
        inside.append("a in")
        b.start()
        assert b_waits.wait(10)
        # While a holds it, the file lock is taken: any other open file description is refused
        # (what b's flock meets), and b has not got in.
        probe = os.open(tmp_path / LOCK_DIR / "memories.lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(probe)
        assert not b_done.is_set() and inside == ["a in"]
        inside.append("a out")
    b.join(10)
    assert not b.is_alive()
    assert inside == ["a in", "a out", "b in", "b out"]


def test_the_commit_lock_stamp_is_shared_across_handles(tmp_path):
    first, second = CommitLock(tmp_path), CommitLock(tmp_path)  # as two processes would
    with first.hold("memories"):
        assert first.stamp("memories") is None  # a new lock file carries no stamp
        first.set_stamp("memories", 41)
    with second.hold("memories"):
        assert second.stamp("memories") == 41
        second.set_stamp("memories", 42)
    with first.hold("memories"):
        assert first.stamp("memories") == 42
    first.close()
    second.close()


def _ids(store) -> list[str]:
    return sorted(r["id"] for r in store.scan("memories", columns=["id"]))


def test_appends_recheck_the_latest_version_only_after_another_writers_commit(tmp_path):
    uri = str(tmp_path / "store")
    mine, other = (
        open_store(uri, vector_dim=DIM, tables=TABLES),
        open_store(uri, vector_dim=DIM, tables=TABLES),
    )
    mine.add("memories", [memory_row(0)])
    handle = mine._append_handle("memories")[0]
    checks = []
    latest = handle.checkout_latest
    handle.checkout_latest = lambda: (checks.append(1), latest())[1]

    mine.add("memories", [memory_row(1)])
    mine.add("memories", [memory_row(2)])
    assert checks == []  # its own commits were the last ones: the handle is current
    other.add("memories", [memory_row(3)])
    other.upsert("memories", [memory_row(1, text="edited elsewhere")])
    mine.add("memories", [memory_row(4)])
    assert len(checks) == 1  # another writer's commits: moved to the latest version once

    expected = [f"m{i}" for i in range(5)]
    assert _ids(mine) == _ids(other) == expected  # nothing lost, nothing duplicated
    assert mine.get("memories", ["m1"])[0]["text"] == "edited elsewhere"
    assert mine.version("memories") == other.version("memories")
    mine.close()
    other.close()


def test_appends_commit_through_the_lance_dataset_and_say_the_version_they_made(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES)
    store.add("memories", [memory_row(0)])
    handle, version = store._append_handle("memories")
    assert isinstance(handle, LanceAppender)
    assert version == store.version("memories")
    # rows whose columns come in another order are put in the table's order, not refused
    rows = store._handles.catalog.to_arrow("memories", [memory_row(1)])
    made = handle.add(rows.select(list(reversed(rows.schema.names))))
    assert made.version == store.version("memories") == version + 1
    assert _ids(store) == ["m0", "m1"]
    assert store.get("memories", ["m1"])[0]["text"] == memory_row(1)["text"]
    store.close()


def test_appends_land_after_compaction_and_cleanup_moved_the_table_on(tmp_path):
    # Compaction commits without the lock, so the append handle is behind it afterwards and the
    # versions it last saw are cleaned up; Lance's commit rebases the append all the same.
    store = open_store(
        str(tmp_path / "store"),
        vector_dim=DIM,
        tables=TABLES,
        cleanup_older_than=timedelta(0),
        background_compaction=False,
    )
    for i in range(6):
        store.add("memories", [memory_row(i)])
    before = store.version("memories")
    store.compact("memories")
    assert store.fragment_count("memories") == 1
    store.add("memories", [memory_row(6)])
    store.add("memories", [memory_row(7)])
    assert store.version("memories") > before
    assert _ids(store) == [f"m{i}" for i in range(8)]
    assert store.count("memories") == 8
    store.close()


def event_row(i: int, **extra) -> dict:
    row = {
        "id": f"e{i}",
        "at": datetime(2026, 1, 1, tzinfo=UTC),
        "project_id": "p",
        "entity": "memory",
        "entity_id": f"m{i}",
        "action": "create",
        "actor": "test",
        "before": None,
        "after": "{}",
        "reason": None,
    }
    row.update(extra)
    return row


def _failing(store, table: str, barrier: threading.Barrier | None = None):
    """Wrap the store's commit: meet at the barrier first; fail the commits of `table`."""
    commit = store._writer._commit

    def wrapped(name, kind, payload):
        if barrier is not None:
            barrier.wait()
        if name == table:
            raise RuntimeError(f"{name} commit failed")
        return commit(name, kind, payload)

    store._writer._commit = wrapped


def test_add_many_commits_the_tables_at_the_same_time_and_returns_once_all_landed(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES)
    both_committing = threading.Barrier(2, timeout=10)  # times out if the commits queue
    _failing(store, table="none", barrier=both_committing)
    store.add_many([("memories", [memory_row(1)]), ("events", [event_row(1)])])
    assert _ids(store) == ["m1"]
    assert [r["id"] for r in store.scan("events", columns=["id"])] == ["e1"]
    store.close()


def test_add_many_validates_every_batch_before_committing_any(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES)
    with pytest.raises(InvalidQuery):
        store.add_many([("memories", [memory_row(1)]), ("events", [event_row(1, at="not a time")])])
    assert store.count("memories") == 0 and store.count("events") == 0
    store.close()


@pytest.mark.parametrize("failing", ["memories", "events"])
def test_add_many_raises_a_failed_commit_once_the_other_table_committed(tmp_path, failing):
    # Not a transaction: the other table's rows stay (for memory + event, see
    # MemoryRepository.insert). The error waits for the other commit: nothing outlives the call.
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES)
    _failing(store, table=failing)
    with pytest.raises(RuntimeError, match=f"{failing} commit failed"):
        store.add_many([("memories", [memory_row(1)]), ("events", [event_row(1)])])
    counts = {"memories": store.count("memories"), "events": store.count("events")}
    assert counts == {t: 0 if t == failing else 1 for t in counts}
    store.close()


def test_submit_all_takes_one_write_per_table():
    group = GroupCommit(lambda *_: None)
    with pytest.raises(ValueError, match="one write per table"):
        group.submit_all([("events", "add", None), ("events", "add", None)])
    group.close()


def test_writers_do_not_wait_for_compaction_yet_fragments_stay_bounded(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES, compact_every=16)
    for i in range(120):
        store.add("memories", [memory_row(i)])
        assert store.fragment_count("memories") <= 16 + 2
    store.wait_for_maintenance()
    assert store._compactor.runs >= 3  # it ran, in the background
    assert store.count("memories") == 120
    assert len(store.text_search("memories", "memory", limit=200)) == 120


def test_secrets_are_scrubbed_and_storage_failures_explained():
    options = {
        "account_name": "acct",
        "account_key": "c2VjcmV0LWtleQ==",
        "sas_token": "sv=1&sig=abc",
    }
    secrets = secrets_of(options)
    assert "acct" not in secrets
    text = "GET https://x/c?sv=1&sig=abc failed with key c2VjcmV0LWtleQ== for acct"
    clean = scrub(text, secrets)
    assert "c2VjcmV0LWtleQ==" not in clean and "sig=abc" not in clean and "acct" in clean
    assert "does not exist" in explain("status: 404 <Code>ContainerNotFound</Code>")
    assert "rejected the credentials" in explain("<Code>AuthorizationFailure</Code> status: 403")
    assert "cannot reach" in explain("tcp connect error: Connection refused (os error 111)")
    assert explain("Table 'x' was not found") is None
