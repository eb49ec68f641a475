"""A block of a few rows (what every single write makes) evaluates filters over Python values,
a bigger one with Arrow compute: both give the same rows for every kind of filter."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import alma_store as st
from alma_store import mirror_blocks, mirror_masks


def block() -> mirror_blocks.Block:
    agents = ["ann", "bob", None, "ann", "cy", "bob"] * 5
    shared = [[], ["ann"], None, ["bob", "cy"], ["ann", None], []] * 5
    data = pa.table(
        {
            "agent": pa.array(agents, type=pa.string()),
            "status": ["approved", "pending", "approved", "rejected", "approved", "approved"] * 5,
            "version": pa.array([1, 2, 3, 1, 2, 3] * 5, type=pa.int64()),
            "shared_with": pa.array(shared, type=pa.list_(pa.string())),
        }
    )
    rows = data.num_rows
    return mirror_blocks.Block(
        data=data,
        vectors=np.zeros((rows, 4), np.float32),
        inv_norms=np.ones(rows, np.float32),
        parts=(),
    )


FILTERS = [
    st.Eq("agent", "ann"),
    st.Eq("agent", "nobody"),
    st.In("status", ("approved", "pending")),
    st.Eq("version", 2),
    st.HasAny("shared_with", ("ann",)),
    st.HasAny("shared_with", ("cy", "dee")),
    st.And(
        (
            st.Eq("status", "approved"),
            st.Or((st.In("agent", ("bob",)), st.HasAny("shared_with", ("ann",)))),
        )
    ),
    st.Range("version", low=2),
]


@pytest.mark.parametrize("flt", FILTERS, ids=repr)
def test_python_and_arrow_evaluation_pass_the_same_rows(flt, monkeypatch):
    small = block().passing(flt)[0]
    monkeypatch.setattr(mirror_masks, "SMALL_BLOCK", 0)
    arrow = block().passing(flt)[0]
    assert small.tolist() == arrow.tolist()
    assert small.any() or flt == st.Eq("agent", "nobody")


def test_warm_prepares_a_filters_masks_so_the_search_after_it_evaluates_nothing(
    tmp_path, monkeypatch
):
    """A write warms the mirror beside its embedding with the filter of its near-duplicate
    search: the new row's block gets that filter's mask there, not in the search after."""
    from alma_app.tables import TABLES
    from tests.store.test_contract import DIM, memory_row

    store = st.open_store(str(tmp_path / "store"), vector_dim=DIM, tables=TABLES)
    store.add("memories", [memory_row(0), memory_row(1)])
    store.add("memories", [memory_row(2)])
    where = st.And((st.Eq("status", "approved"), st.In("type", ("domain_knowledge", "outcome"))))
    store.warm("memories", [where])
    evaluated: list[object] = []
    evaluate = mirror_masks.evaluate
    monkeypatch.setattr(
        mirror_masks, "evaluate", lambda b, f: evaluated.append(f) or evaluate(b, f)
    )
    hits = store.vector_search("memories", np.ones(DIM, np.float32), where=where, limit=5)
    assert hits and evaluated == []
    store.vector_search("memories", np.ones(DIM, np.float32), where=st.Eq("agent", "x"), limit=5)
    assert evaluated  # a filter nobody warmed is evaluated by its search
