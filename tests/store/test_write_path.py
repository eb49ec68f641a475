"""The write path under concurrency: group commit, the commit lock, compaction off the hot path."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from store import InvalidQuery, open_store
from store.commit_lock import LOCK_DIR, CommitLock
from store.redact import explain, scrub, secrets_of
from tests.store.test_contract import DIM, memory_row


def test_concurrent_writes_from_threads_share_commits_and_all_land(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM)
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
    store = open_store(str(tmp_path / "store"), vector_dim=DIM)
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
    store = open_store(str(tmp_path / "store"), vector_dim=DIM)
    with pytest.raises(InvalidQuery, match="distinct ids"):
        store.upsert("memories", [memory_row(1), memory_row(1, text="twin")])
    with pytest.raises(InvalidQuery):
        store.add("memories", [memory_row(2, confidence="high")])
    store.add("memories", [memory_row(3)])
    assert [r["id"] for r in store.scan("memories", columns=["id"])] == ["m3"]


def test_the_commit_lock_serialises_holders_across_handles(tmp_path):
    first, second = CommitLock(tmp_path), CommitLock(tmp_path)  # as two processes would
    inside: list[str] = []

    def hold(lock: CommitLock, name: str) -> None:
        with lock.hold("memories"):
            inside.append(f"{name} in")
            time.sleep(0.05)
            inside.append(f"{name} out")

    threads = [
        threading.Thread(target=hold, args=(lk, n)) for lk, n in ((first, "a"), (second, "b"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inside in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert (tmp_path / LOCK_DIR / "memories.lock").exists()


def test_writers_do_not_wait_for_compaction_yet_fragments_stay_bounded(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, compact_every=16)
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
