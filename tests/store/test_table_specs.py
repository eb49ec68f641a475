"""The store knows only the tables it is handed: a generic table works like the core's, and its
indexes are the ones its spec names."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from alma_store import VECTOR, InvalidQuery, TableSpec, open_store
from alma_store.maintenance import SCALAR_INDEX_MIN_ROWS

DIM = 4


def notes(dim: int) -> pa.Schema:
    return pa.schema(
        [
            ("id", pa.string()),
            ("shelf", pa.string()),
            ("colour", pa.string()),
            ("tags", pa.list_(pa.string())),
            ("body", pa.string()),
            (VECTOR, pa.list_(pa.float32(), dim)),
        ]
    )


def plain(dim: int) -> pa.Schema:
    del dim
    return pa.schema([("id", pa.string()), ("body", pa.string())])


TABLES = (
    TableSpec(
        "notes",
        notes,
        fts_column="body",
        bitmap_columns=("shelf",),
        label_list_columns=("tags",),
        cluster_column="shelf",
    ),
    TableSpec("plain", plain),
)


def note(i: int, body: str = "a note") -> dict:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[i % DIM] = 1.0
    return {
        "id": f"n{i}",
        "shelf": f"s{i % 3}",
        "colour": "red",
        "tags": ["x"] if i % 2 else [],
        "body": f"{body} {i}",
        VECTOR: vector,
    }


@pytest.fixture(params=["memory", "disk"])
def store(request, tmp_path):
    uri = "memory://" if request.param == "memory" else str(tmp_path / "store")
    instance = open_store(uri, vector_dim=DIM, tables=TABLES)
    yield instance
    instance.close()


def test_a_table_the_core_does_not_know_is_stored_and_searched(store):
    store.add("notes", [note(1, "the blue kettle"), note(2, "a red teapot")])
    assert [r["id"] for r in store.get("notes", ["n2"])] == ["n2"]
    assert [h["id"] for h in store.text_search("notes", "kettle")] == ["n1"]
    assert store.vector_search("notes", np.eye(DIM)[2], limit=1)[0]["id"] == "n2"
    store.add("plain", [{"id": "p1", "body": "no vector, no text index"}])
    assert store.count("plain") == 1


def test_tables_outside_the_specs_and_searches_they_do_not_allow_are_refused(store):
    with pytest.raises(InvalidQuery, match="unknown table 'memories'"):
        store.scan("memories")
    store.add("plain", [{"id": "p1", "body": "words"}])
    with pytest.raises(InvalidQuery, match="no full-text index"):
        store.text_search("plain", "words")


def test_a_table_defined_twice_is_refused():
    with pytest.raises(InvalidQuery, match="defined twice"):
        open_store("memory://", vector_dim=DIM, tables=(*TABLES, TableSpec("plain", plain)))


def test_compaction_indexes_the_columns_the_spec_names_and_no_others(tmp_path):
    store = open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES)
    store.add("notes", [note(i) for i in range(SCALAR_INDEX_MIN_ROWS)])
    store.compact("notes")
    indexed = {tuple(idx.columns) for idx in store._handles.table("notes").list_indices()}
    store.close()
    assert indexed == {("id",), ("shelf",), ("tags",), ("body",)}
