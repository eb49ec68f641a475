"""Two reads a retrieve relies on: a snapshot, in which one version check serves every read of a
thread, and lookup, rows by id for derived data (from the search mirror where there is one)."""

from __future__ import annotations

import threading

import numpy as np

from alma_store import VECTOR, open_store
from tests.store.test_table_specs import DIM, TABLES, note
from tests.store.test_table_specs import store as store  # the same two stores


def test_lookup_gives_the_rows_of_the_ids_asked_for_as_get_does(store):
    store.add("notes", [note(i, f"note {i}") for i in range(1, 6)])
    store.vector_search("notes", np.eye(DIM)[0], limit=1)  # the mirror, where there is one
    looked = store.lookup("notes", ["n4", "n2", "n2", "missing"], columns=["id", "body"])
    assert sorted((r["id"], r["body"]) for r in looked) == [("n2", "note 2 2"), ("n4", "note 4 4")]
    assert store.lookup("notes", []) == []


def test_lookup_sees_a_write_made_just_before_it(store):
    store.add("notes", [note(1, "first")])
    store.lookup("notes", ["n1"], columns=["id"])
    store.add("notes", [note(2, "second")])
    assert [r["id"] for r in store.lookup("notes", ["n2"], columns=["id"])] == ["n2"]


def test_reads_in_a_snapshot_keep_the_version_they_first_saw(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES)
    other = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES)  # another writer
    try:
        store.add("notes", [note(1, "first")])
        with store.snapshot():
            before = store.version("notes")
            other.add("notes", [note(2, "second")])
            assert store.version("notes") == before
            assert [r["id"] for r in store.lookup("notes", ["n1", "n2"], columns=["id"])] == ["n1"]
            seen_elsewhere: list[int] = []
            thread = threading.Thread(target=lambda: seen_elsewhere.append(store.version("notes")))
            thread.start()
            thread.join()
            assert seen_elsewhere[0] > before  # other threads are not pinned
        assert store.version("notes") > before  # after the block: the latest again
        ids = [r["id"] for r in store.lookup("notes", ["n1", "n2"], columns=["id"])]
        assert sorted(ids) == ["n1", "n2"]
    finally:
        other.close()
        store.close()


def test_lookup_rows_carry_no_vector_unless_asked(store):
    store.add("notes", [note(1, "first")])
    (row,) = store.lookup("notes", ["n1"], columns=["id", "shelf"])
    assert VECTOR not in row and "_score" not in row
