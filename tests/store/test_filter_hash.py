"""A filter of filters is hashed once and compared by value, so the search mirror finds its cached
masks for an equal filter built anew, and a pickled filter carries no hash from its process."""

from __future__ import annotations

import pickle

import alma_store as st


def scope(agent: str) -> st.Filter:
    return st.And(
        (
            st.Eq("status", "approved"),
            st.Or((st.In("agent", (agent,)), st.HasAny("shared_with", (agent,)))),
        )
    )


def test_equal_filters_built_apart_are_one_key():
    first, again = scope("ann"), scope("ann")
    assert first is not again
    masks = {first: "ann's mask"}
    assert masks[again] == "ann's mask"
    assert scope("bob") not in masks
    assert hash(first) == hash(first)  # cached, and the same again


def test_a_pickled_filter_leaves_its_cached_hash_behind():
    original = scope("ann")
    hash(original)
    copy = pickle.loads(pickle.dumps(original))
    assert "_hash" not in copy.__dict__
    assert copy == original and hash(copy) == hash(original)
