"""One contract for every store backend: memory:// (the fast fake), a LanceDB directory and
an az:// container in Azurite (Azure Blob Storage's emulator; skipped when it is unavailable
outside CI)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from alma_app.tables import TABLES
from alma_store import (
    And,
    Eq,
    HasAny,
    In,
    InvalidQuery,
    Or,
    Range,
    StoreClosed,
    TextContains,
    VersionConflict,
    open_store,
)
from tests.objectstore import azurite as emulator

DIM = 8
NOW = datetime(2026, 1, 1, tzinfo=UTC)
HOSTILE = [
    "o'neil",
    "' OR 1=1 --",
    "x'; DROP TABLE memories; --",
    '"quoted"',
    "back\\slash",
    "100% _like_",
    "ünïcødé ✓",
]


def memory_row(
    i: int, *, agent: str = "helena", text: str | None = None, status: str = "approved", **extra
) -> dict:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[i % DIM] = 1.0
    row = {
        "id": f"m{i}",
        "type": "domain_knowledge",
        "agent": agent,
        "user_id": None,
        "project_id": "p",
        "status": status,
        "category": "c",
        "text": text or f"memory {i}",
        "confidence": 0.5,
        "created_at": NOW - timedelta(days=i),
        "updated_at": NOW,
        "validated_at": NOW,
        "shared_with": [],
        "payload": "{}",
        "metadata": "{}",
        "vector": vector,
    }
    row.update(extra)
    return row


@pytest.fixture(scope="module")
def azure_blob():
    instance = emulator.start_or_skip()
    yield instance
    instance.stop()


@pytest.fixture(params=["memory", "disk", "azure"])
def store(request, tmp_path):
    options = None
    if request.param == "memory":
        uri = "memory://"
    elif request.param == "disk":
        uri = str(tmp_path / "store")
    else:
        blob = request.getfixturevalue("azure_blob")
        uri = blob.create_container(f"contract-{uuid.uuid4().hex[:12]}") + "/store"
        options = blob.storage_options()
    instance = open_store(uri, vector_dim=DIM, tables=TABLES, storage_options=options)
    yield instance
    instance.close()


def test_added_rows_can_be_read_back_by_id(store):
    store.add("memories", [memory_row(1), memory_row(2)])
    rows = store.get("memories", ["m2", "missing"])
    assert [r["id"] for r in rows] == ["m2"]
    assert rows[0]["text"] == "memory 2"
    assert rows[0]["created_at"] == NOW - timedelta(days=2)


def test_upsert_replaces_whole_rows_and_inserts_new_ones(store):
    store.add("memories", [memory_row(1)])
    store.upsert("memories", [memory_row(1, text="changed"), memory_row(2)])
    assert store.count("memories") == 2
    assert store.get("memories", ["m1"])[0]["text"] == "changed"


def test_delete_removes_rows_and_reports_how_many_existed(store):
    store.add("memories", [memory_row(i) for i in range(5)])
    assert store.delete("memories", ["m1", "m3", "nope"]) == 2
    assert sorted(r["id"] for r in store.scan("memories", columns=["id"])) == ["m0", "m2", "m4"]


def test_scan_filters_orders_and_pages(store):
    store.add("memories", [memory_row(i, agent="a" if i % 2 else "b") for i in range(10)])
    page = store.scan(
        "memories",
        Eq("agent", "a"),
        columns=["id"],
        order_by="created_at",
        descending=True,
        limit=2,
        offset=1,
    )
    assert [r["id"] for r in page] == ["m3", "m5"]  # newest first: m1, m3, m5, m7, m9
    assert store.count("memories", Eq("agent", "a")) == 5
    assert store.count("memories", Range("created_at", NOW - timedelta(days=2.5), None)) == 3
    assert store.count("memories", In("id", ("m1", "m2", "zz"))) == 2
    assert store.count("memories", TextContains("text", "MEMORY 7")) == 1


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_matched_literally_everywhere(store, value):
    store.add("memories", [memory_row(1, agent=value, text=value), memory_row(2, agent="other")])
    assert store.count("memories", Eq("agent", value)) == 1
    assert store.count("memories", TextContains("text", value)) == 1
    hits = store.vector_search("memories", np.eye(DIM)[2], where=Eq("agent", value), limit=5)
    assert [h["id"] for h in hits] == ["m1"]
    assert [r["id"] for r in store.get("memories", [value, "m1"])] == ["m1"]
    assert store.delete("memories", [value]) == 0
    assert store.count("memories") == 2


def test_vector_search_filters_before_ranking(store):
    store.add("memories", [memory_row(i, agent="a" if i < 4 else "b") for i in range(8)])
    hits = store.vector_search("memories", np.eye(DIM)[5], where=Eq("agent", "a"), limit=3)
    assert len(hits) == 3 and all(h["id"] in {"m0", "m1", "m2", "m3"} for h in hits)
    best = store.vector_search("memories", np.eye(DIM)[5], limit=1)[0]
    assert best["id"] == "m5" and best["_distance"] == pytest.approx(0.0, abs=1e-6)


def test_list_columns_can_be_filtered(store):
    store.add("memories", [memory_row(1, shared_with=["victor"]), memory_row(2)])
    where = Or((Eq("agent", "nobody"), HasAny("shared_with", ("victor",))))
    assert [h["id"] for h in store.vector_search("memories", np.eye(DIM)[1], where=where)] == ["m1"]
    assert store.count("memories", where) == 1


def test_text_search_ranks_by_bm25_and_ignores_query_syntax(store):
    store.add(
        "memories",
        [
            memory_row(1, text="use data-testid selectors for stable tests"),
            memory_row(2, text="retry flaky network calls with backoff"),
            memory_row(3, text="selectors selectors selectors everywhere"),
        ],
    )
    hits = store.text_search("memories", "selectors AND (", limit=5)
    assert {h["id"] for h in hits} == {"m1", "m3"}
    assert hits[0]["_score"] >= hits[1]["_score"] > 0
    assert store.text_search("memories", "   ") == []
    filtered = store.text_search("memories", "selectors", where=Eq("id", "m1"))
    assert [h["id"] for h in filtered] == ["m1"]


def test_rows_added_after_the_index_was_built_are_still_found(store):
    store.add("memories", [memory_row(1, text="alpha bravo")])
    store.compact("memories")
    store.add("memories", [memory_row(2, text="charlie delta")])
    assert [h["id"] for h in store.text_search("memories", "charlie")] == ["m2"]


def test_sql_takes_parameters_not_string_pasting(store):
    store.add("memories", [memory_row(1, agent="o'neil"), memory_row(2, agent="bob")])
    result = store.sql(
        "SELECT count(*) AS n FROM memories WHERE agent = ?", ["o'neil"], tables=["memories"]
    )
    assert result.column("n")[0].as_py() == 1


def test_version_moves_on_every_write(store):
    store.add("memories", [memory_row(1)])
    before = store.version("memories")
    store.upsert("memories", [memory_row(1, text="new")])
    assert store.version("memories") > before


def test_unknown_columns_tables_and_bad_values_are_refused(store):
    store.add("memories", [memory_row(1)])
    with pytest.raises(InvalidQuery):
        store.count("memories", Eq("no_such_column", 1))
    with pytest.raises(InvalidQuery):
        store.count("memories", Eq("confidence", float("nan")))
    with pytest.raises(InvalidQuery):
        store.count("memories", Eq("agent", "nul\x00byte"))
    with pytest.raises(InvalidQuery):
        store.scan("no_such_table")
    with pytest.raises(InvalidQuery):
        store.add("memories", [memory_row(2, vector=np.zeros(3))])
    assert store.count("memories") == 1


def test_compaction_merges_the_fragments_of_many_small_writes(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES, compact_every=10_000)
    for i in range(60):
        store.add("memories", [memory_row(i)])
    assert store.fragment_count("memories") == 60
    store.compact("memories")
    assert store.fragment_count("memories") <= 2  # index-pinned first fragment may stay apart
    assert store.count("memories") == 60
    assert len(store.text_search("memories", "memory", limit=100)) == 60


def test_background_compaction_leaves_a_full_fragment_alone_and_explicit_merges_all(tmp_path):
    """The compaction writes trigger rewrites the recent small writes, never a fragment of
    FRAGMENT_ROWS rows (below 100k memories it used to rewrite the whole table each time, and
    the search mirror then read it all again); an explicit one merges everything."""
    import lance

    from alma_store.maintenance import FRAGMENT_ROWS

    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES, compact_every=16)
    store.add("memories", [memory_row(i) for i in range(FRAGMENT_ROWS)])

    def files() -> list[tuple[int, str]]:
        dataset = lance.dataset(str(tmp_path / "store" / "memories.lance"))
        return [(f.metadata.num_rows, f.data_files()[0].path) for f in dataset.get_fragments()]

    (big,) = files()
    for i in range(FRAGMENT_ROWS, FRAGMENT_ROWS + 40):
        store.add("memories", [memory_row(i)])
    store._compactor.wait()
    assert store._compactor.runs >= 1  # it ran in the background
    assert big in files()  # the same data file, not rewritten
    assert len(files()) < 41  # the single writes were merged
    store.compact("memories")
    assert [rows for rows, _ in files()] == [FRAGMENT_ROWS + 40]
    assert store.count("memories") == FRAGMENT_ROWS + 40


def test_automatic_compaction_keeps_fragments_bounded(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES, compact_every=25)
    for i in range(100):
        store.add("memories", [memory_row(i)])
    assert store.fragment_count("memories") <= 25
    assert store.count("memories") == 100


def test_filters_give_the_same_rows_once_compaction_has_indexed_them(tmp_path):
    """Past SCALAR_INDEX_MIN_ROWS, compaction adds bitmap/label-list indexes for filtering;
    they must not change what a filter matches (nulls and hostile values included)."""
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES, compact_every=10_000)
    agents = [None, "helena", "o'neil", "' OR 1=1 --"]
    store.add(
        "memories",
        [
            memory_row(
                i,
                agent=agents[i % 4],
                status="approved" if i % 3 else "pending",
                shared_with=["victor"] if i % 7 == 0 else [],
            )
            for i in range(1200)
        ],
    )
    filters = [
        Eq("agent", "o'neil"),
        Eq("agent", "' OR 1=1 --"),
        Or((In("agent", ("helena",)), HasAny("shared_with", ("victor",)))),
        And((Eq("status", "pending"), In("type", ("domain_knowledge",)))),
    ]
    probe = np.eye(DIM)[3]

    def results() -> list[list[str]]:
        return [
            sorted(h["id"] for h in store.vector_search("memories", probe, where=f, limit=2000))
            for f in filters
        ]

    before = results()
    store.compact("memories")
    after = results()
    assert after == before
    assert [len(ids) for ids in before] == [300, 300, 300 + 172 - 43, 400]


def test_conditional_update_writes_only_over_the_version_it_read(store):
    store.add("memories", [memory_row(1), memory_row(2)])
    assert store.get("memories", ["m1"])[0]["version"] is None  # null reads as version 0
    store.update_if("memories", [memory_row(1, text="first edit", version=1)], {"m1": 0})
    with pytest.raises(VersionConflict) as lost:  # a second writer that also read version 0
        store.update_if("memories", [memory_row(1, text="lost edit", version=1)], {"m1": 0})
    assert lost.value.ids == ["m1"]
    with pytest.raises(VersionConflict):  # all or nothing: m2 is unchanged too
        store.update_if(
            "memories",
            [memory_row(1, text="x", version=1), memory_row(2, text="y", version=1)],
            {"m1": 0, "m2": 0},
        )
    rows = {r["id"]: r for r in store.get("memories", ["m1", "m2"])}
    assert (rows["m1"]["text"], rows["m1"]["version"]) == ("first edit", 1)
    assert (rows["m2"]["text"], rows["m2"]["version"]) == ("memory 2", None)
    with pytest.raises(VersionConflict):  # a row that is gone is a conflict, never re-inserted
        store.update_if("memories", [memory_row(3, version=1)], {"m3": 0})
    assert store.get("memories", ["m3"]) == []


def test_conditional_delete_and_insert_refuse_rows_that_moved(store):
    store.add("memories", [memory_row(1)])
    store.update_if("memories", [memory_row(1, version=1)], {"m1": 0})
    with pytest.raises(VersionConflict):
        store.delete_if("memories", {"m1": 0})
    with pytest.raises(VersionConflict):
        store.add_new("memories", [memory_row(1)])
    assert len(store.get("memories", ["m1"])) == 1
    store.delete_if("memories", {"m1": 1})
    assert store.get("memories", ["m1"]) == []
    store.add_new("memories", [memory_row(1)])
    assert len(store.get("memories", ["m1"])) == 1


def test_a_closed_store_refuses_every_call(store):
    store.add("memories", [memory_row(1)])
    store.close()
    store.close()  # idempotent
    for call in (
        lambda: store.get("memories", ["m1"]),
        lambda: store.add("memories", [memory_row(2)]),
        lambda: store.scan("memories"),
        lambda: store.version("memories"),
    ):
        with pytest.raises(StoreClosed):
            call()


def test_a_store_made_before_row_versions_is_migrated_on_open(tmp_path):
    import lancedb
    import pyarrow as pa

    from alma_app.tables import memories

    uri = str(tmp_path / "store")
    old = pa.schema([f for f in memories(DIM) if f.name != "version"])
    row = {k: v for k, v in memory_row(1).items() if k != "version"}
    lancedb.connect(uri).create_table("memories", pa.Table.from_pylist([row], schema=old))
    store = open_store(uri, vector_dim=DIM, tables=TABLES)
    assert store.get("memories", ["m1"])[0]["version"] is None
    store.update_if("memories", [memory_row(1, version=1)], {"m1": 0})
    assert store.get("memories", ["m1"])[0]["version"] == 1
    store.close()
