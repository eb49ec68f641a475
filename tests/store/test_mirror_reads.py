"""Reads by id for a read-modify-write (store.get) come from the search mirror where there is
one: the same rows as LanceDB's, always at the latest version (inside a snapshot too), so that a
conditional write based on them refuses a row that moved since."""

from __future__ import annotations

import random

import numpy as np
import pytest

from alma_app.tables import TABLES
from alma_store import Eq, VersionConflict, open_store
from alma_store import mirror as mirror_module
from alma_store.mirror import Unsupported
from tests.store.test_mirror import DIM, row, same_hits
from tests.store.test_mirror import stores as stores  # mirrored and plain, one directory

IDS = ["m3", "m17", "m17", "m40", "missing", "m199"]


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in rows}


def searched(store, *, seed: int, rows: int) -> tuple:
    """The store holding `rows` random rows and searched once, so that its mirror exists: the
    mirror, a random query and the random source the rows came from."""
    rng = random.Random(seed)
    store.add("memories", [row(i, rng) for i in range(rows)])
    query = np.asarray([rng.gauss(0, 1) for _ in range(DIM)], dtype=np.float32)
    store.vector_search("memories", query, limit=1)
    return store._mirrors["memories"], query, rng


def test_get_from_the_mirror_gives_lancedbs_rows_through_writes_updates_and_deletes(
    stores, monkeypatch
):
    mirrored, plain = stores
    rng = random.Random(21)
    rows = [row(i, rng) for i in range(200)]
    mirrored.add("memories", rows[:150])
    mirrored.vector_search("memories", np.ones(DIM), limit=1)  # the mirror now exists
    mirrored.add("memories", [rows[150]])  # a one-row fragment
    mirrored.add("memories", rows[151:])
    mirrored.upsert("memories", [dict(rows[17], status="rejected", shared_with=["alice"])])
    plain.delete("memories", ["m40"])  # another handle

    def no_lance_query(table):
        raise AssertionError("read from LanceDB, not from the mirror")

    monkeypatch.setattr(mirrored._reads._handles, "fresh", no_lance_query)
    for columns in (None, ["id", "status", "shared_with", "created_at", "vector"], ["id"]):
        got = mirrored.get("memories", IDS, columns=columns)
        assert by_id(got) == by_id(plain.get("memories", IDS, columns=columns))
    assert sorted(by_id(got)) == ["m17", "m199", "m3"]
    assert by_id(mirrored.get("memories", ["m17"]))["m17"]["status"] == "rejected"
    assert mirrored._mirrors["memories"].version == mirrored.version("memories")
    assert mirrored.get("memories", []) == []


def test_get_reads_the_latest_version_even_inside_a_snapshot(stores):
    mirrored, plain = stores
    rng = random.Random(4)
    mirrored.add("memories", [row(i, rng) for i in range(20)])
    with mirrored.snapshot():
        mirrored.vector_search("memories", np.ones(DIM), limit=1)  # pins this version
        plain.upsert("memories", [dict(row(3, rng), status="rejected")])  # another handle
        plain.add("memories", [row(20, rng)])
        # searches keep the pinned version; a read to write back sees the latest
        assert mirrored.lookup("memories", ["m20"], columns=["id"]) == []
        fresh = by_id(mirrored.get("memories", ["m3", "m20"], columns=["id", "status"]))
        assert sorted(fresh) == ["m20", "m3"] and fresh["m3"]["status"] == "rejected"


def test_a_conditional_write_based_on_a_mirror_read_refuses_a_row_changed_since(stores):
    mirrored, plain = stores
    rng = random.Random(8)
    mirrored.add("memories", [dict(r, version=0) for r in (row(i, rng) for i in range(30))])
    mirrored.vector_search("memories", np.ones(DIM), limit=1)
    (read,) = mirrored.get("memories", ["m5"])  # from the mirror
    plain.update_if("memories", [dict(read, status="rejected", version=1)], {"m5": 0})
    with pytest.raises(VersionConflict):  # our change was based on version 0
        mirrored.update_if("memories", [dict(read, confidence=0.9, version=1)], {"m5": 0})
    (again,) = mirrored.get("memories", ["m5"])
    assert (again["status"], again["version"]) == ("rejected", 1)  # the other write is kept
    mirrored.update_if("memories", [dict(again, confidence=0.9, version=2)], {"m5": 1})
    (final,) = plain.get("memories", ["m5"])
    assert (final["status"], final["confidence"], final["version"]) == ("rejected", 0.9, 2)


def test_without_a_mirror_or_when_it_cannot_answer_get_asks_lancedb(stores, monkeypatch):
    mirrored, plain = stores
    rng = random.Random(2)
    mirrored.add("memories", [row(i, rng) for i in range(10)])
    mirrored.vector_search("memories", np.ones(DIM), limit=1)

    def cannot(*args, **kwargs):
        raise Unsupported("as if a column were not mirrored")

    monkeypatch.setattr(mirrored._mirrors["memories"], "by_ids", cannot)
    assert by_id(mirrored.get("memories", ["m1", "m2"])) == by_id(
        plain.get("memories", ["m1", "m2"])
    )
    assert plain._mirrors == {}  # mirror=False: every read went to LanceDB
    memory = open_store("memory://reads", vector_dim=DIM, tables=TABLES)
    try:
        memory.add("memories", [row(1, rng)])
        assert [r["id"] for r in memory.get("memories", ["m1"])] == ["m1"]
    finally:
        memory.close()


def test_this_processs_own_appends_are_mirrored_from_its_rows_not_read_back(stores):
    mirrored, plain = stores
    mirror, query, rng = searched(mirrored, seed=13, rows=100)
    loads = mirror.loads

    def same_as_lancedb(ids: list[str]) -> None:
        for where in (None, Eq("agent", "helena")):
            same_hits(
                mirrored.vector_search("memories", query, where=where, limit=20),
                plain.vector_search("memories", query, where=where, limit=20),
                "_distance",
            )
        assert by_id(mirrored.get("memories", ids)) == by_id(plain.get("memories", ids))
        assert mirror.rows == plain.count("memories")

    for i in range(100, 110):  # one write at a time, a read after each
        mirrored.add("memories", [row(i, rng)])
        same_as_lancedb([f"m{i}", "m3"])
    mirrored.add("memories", [row(110, rng)])  # two writes before the next read
    mirrored.add("memories", [row(i, rng) for i in range(111, 115)])
    same_as_lancedb(["m110", "m112", "m114"])
    assert (mirror.written, mirror.loads) == (12, loads)
    plain.add("memories", [row(115, rng)])  # another handle's write is read back
    mirrored.add("memories", [row(116, rng)])
    same_as_lancedb(["m115", "m116"])
    assert mirror.loads == loads + 2
    mirrored.upsert("memories", [dict(row(3, rng), status="rejected")])  # not an append
    mirrored.add("memories", [row(117, rng)])
    same_as_lancedb(["m3", "m117"])
    assert mirror.loads == loads + 4 and mirror.written == 12
    mirrored.add("memories", [row(118, rng)])
    same_as_lancedb(["m118"])
    assert mirror.written == 13


def test_a_read_by_id_alone_does_not_load_the_mirror(tmp_path):
    store = open_store(str(tmp_path / "s"), vector_dim=DIM, tables=TABLES)
    try:
        rng = random.Random(6)
        store.add("memories", [row(i, rng) for i in range(20)])
        assert [r["id"] for r in store.get("memories", ["m2"], columns=["id"])] == ["m2"]
        assert store._mirrors == {}  # no copy of the table for a process that only reads by id
        store.vector_search("memories", np.ones(DIM), limit=1)
        store.add("memories", [row(20, rng)])
        assert [r["id"] for r in store.get("memories", ["m20"], columns=["id"])] == ["m20"]
        assert store._mirrors["memories"].version == store.version("memories")
    finally:
        store.close()


def test_other_handles_single_writes_are_read_back_together_in_one_scan(stores):
    mirrored, plain = stores
    mirror, query, rng = searched(mirrored, seed=31, rows=60)
    loads, scans = mirror.loads, mirror.scans
    for i in range(60, 66):  # another process's single writes: six one-row fragments
        plain.add("memories", [row(i, rng)])
    plain.add("memories", [row(i, rng) for i in range(66, 70)])
    # deletions in new fragments: m61's one-row fragment goes, the four-row one loses m67
    plain.delete("memories", ["m61", "m67"])
    for where in (None, Eq("agent", "helena")):
        same_hits(
            mirrored.vector_search("memories", query, where=where, limit=30),
            plain.vector_search("memories", query, where=where, limit=30),
            "_distance",
        )
    ids = [f"m{i}" for i in range(58, 70)]
    assert by_id(mirrored.get("memories", ids)) == by_id(plain.get("memories", ids))
    assert "m61" not in by_id(mirrored.get("memories", ids))
    assert mirror.rows == plain.count("memories") == 68
    assert (mirror.loads, mirror.scans) == (loads + 6, scans + 1)  # 6 fragments, 1 scan
    assert [b.num_rows for b in mirror._blocks] == [60, 8]  # the 8 new rows in one block


def test_fragments_read_together_are_split_into_scans_of_bounded_size(stores, monkeypatch):
    mirrored, plain = stores
    monkeypatch.setattr(mirror_module, "TOGETHER_ROWS", 3)
    monkeypatch.setattr(mirror_module, "TOGETHER_FRAGMENTS", 2)
    mirror, query, rng = searched(mirrored, seed=32, rows=20)
    scans = mirror.scans
    for i in range(20, 25):  # five one-row fragments: scans of two, two and one (alone)
        plain.add("memories", [row(i, rng)])
    plain.add("memories", [row(i, rng) for i in range(25, 29)])  # four rows: over the bound
    same_hits(
        mirrored.vector_search("memories", query, limit=29),
        plain.vector_search("memories", query, limit=29),
        "_distance",
    )
    assert mirror.rows == 29
    assert mirror.scans == scans + 2


def test_fragments_read_together_are_read_a_group_at_a_time(stores, monkeypatch):
    mirrored, _ = stores
    monkeypatch.setattr(mirror_module, "TOGETHER_FRAGMENTS", 2)
    rng = random.Random(33)
    for i in range(5):  # five one-row fragments: groups of two, two and one
        mirrored.add("memories", [row(i, rng)])
    dataset = mirrored._reads._handles.arrow_source("memories")
    fragments = [((f.fragment_id,), f) for f in dataset.get_fragments()]
    together = mirror_module._Together(dataset, fragments)
    seen = []
    for key, fragment in fragments:
        rows = together.rows(key)
        seen.append(together.scans)
        if rows is not None:
            assert rows.equals(fragment.to_table(with_row_address=True))
    # the second group is read only when its first fragment is loaded; the last one alone
    assert seen == [1, 1, 2, 2, 2]
    assert together.rows(fragments[-1][0]) is None


def test_a_big_fragment_ends_a_group_so_a_lone_small_one_is_read_alone(stores, monkeypatch):
    mirrored, _ = stores
    monkeypatch.setattr(mirror_module, "SMALL_FRAGMENT_ROWS", 2)
    rng = random.Random(34)
    layout = [1, 3, 1, 3, 1, 1]  # small / big / small / big / small, small
    at = 0
    for size in layout:
        mirrored.add("memories", [row(i, rng) for i in range(at, at + size)])
        at += size
    dataset = mirrored._reads._handles.arrow_source("memories")
    fragments = [((f.fragment_id,), f) for f in dataset.get_fragments()]
    together = mirror_module._Together(dataset, fragments)
    read = [together.rows(key) for key, _ in fragments]
    # the small fragments between big ones are read alone, never in a group across a big one
    assert [rows is not None for rows in read] == [False, False, False, False, True, True]
    assert together.scans == 1
    for rows, (_, fragment) in zip(read[4:], fragments[4:], strict=True):
        assert rows.equals(fragment.to_table(with_row_address=True))
