"""The Memories page: filters, hybrid search, paging, bulk actions, and the detail view."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from pagetools import downloaded, page, select_rows, table_ids, widget

from alma_app import MemoryNotFound


def memories_page():
    app = page("memories").run()
    assert not app.exception
    return app


def test_filters_narrow_the_table_to_matching_memories(sample_config, store):
    app = memories_page()
    assert "**135** memories match" in app.caption[1].value
    app.selectbox(key="memories:type").set_value("heuristic")
    app.selectbox(key="memories:status").set_value("pending").run()
    table = app.dataframe[0].value
    assert len(table) == 7
    assert set(table["type"]) == {"Heuristic"} and set(table["status"]) == {"pending"}
    expected = store.list_memories(memory_type="heuristic", status="pending", limit=100)
    assert set(table["id"]) == {m.id for m in expected.items}


def test_confidence_and_date_filters(sample_config, store):
    app = memories_page()
    app.selectbox(key="memories:size").set_value(200)
    app.slider(key="memories:confidence").set_value((0.9, 1.0)).run()
    expected = store.list_memories(min_confidence=0.9, limit=500)
    assert 0 < expected.total < 135
    assert set(table_ids(app)) == {m.id for m in expected.items}
    since = store.now() - timedelta(days=7)
    app.slider(key="memories:confidence").set_value((0.0, 1.0))
    app.date_input(key="memories:created").set_value((since.date(), store.now().date())).run()
    start = datetime.combine(since.date(), time.min, tzinfo=UTC)
    recent = store.list_memories(created_from=start, limit=500)
    assert 0 < recent.total < 135
    assert set(table_ids(app)) == {m.id for m in recent.items}


def test_the_sidebar_agent_filter_applies(sample_config):
    app = memories_page()
    app.selectbox(key="alma_agent").set_value("victor").run()
    table = app.dataframe[0].value
    assert set(table["owner"]) == {"victor"}
    assert len(table) == 46
    assert any(m.label == "Pending review" and m.value == "6" for m in app.sidebar.metric)


def test_paging_moves_through_the_listing(sample_config):
    app = memories_page()
    app.selectbox(key="memories:size").set_value(25).run()
    first = table_ids(app)
    assert len(first) == 25
    pager = app.get("pagination")[0]
    assert pager.num_pages == 6
    pager.set_value(6).run()
    last = table_ids(app)
    assert len(last) == 10 and not set(last) & set(first)
    assert "showing 126–135" in app.caption[1].value


def test_search_ranks_like_agents_and_shows_the_score_breakdown(sample_config, store):
    app = memories_page()
    app.text_input(key="memories:query").set_value("data-testid selectors for login tests").run()
    table = app.dataframe[0].value
    expected = store.search("data-testid selectors for login tests", limit=50)
    assert list(table["id"]) == [m.id for m in expected]
    for column in ("score", "similarity", "lexical", "relevance", "recency", "success"):
        assert column in table.columns
    assert table["score"].is_monotonic_decreasing


def test_bulk_approve(sample_config, store):
    app = memories_page()
    app.selectbox(key="memories:status").set_value("pending").run()
    chosen = table_ids(app)[:2]
    select_rows(app, [0, 1])
    assert "**2** memories selected" in [c.value for c in app.caption]
    widget(app.button, "Approve").click().run()
    assert not app.exception
    assert "Approved 2 of 2 selected." in app.success[0].value
    assert {store.get_memory(i).status for i in chosen} == {"approved"}
    assert len(app.dataframe[0].value) == 13


def test_bulk_reject_needs_a_reason_and_records_it(sample_config, store):
    app = memories_page()
    app.selectbox(key="memories:status").set_value("pending").run()
    chosen = table_ids(app)[0]
    select_rows(app, [0])
    widget(app.button, "Reject 1 memory").click().run()
    assert "reason" in app.error[0].value
    assert store.get_memory(chosen).status == "pending"
    select_rows(app, [0])
    app.text_input(key="memories:bulk:reason").set_value("contradicts our style guide")
    widget(app.button, "Reject 1 memory").click().run()
    assert store.get_memory(chosen).status == "rejected"
    assert store.history(chosen)[-1].reason == "contradicts our style guide"


def test_delete_asks_for_confirmation_and_can_be_undone(sample_config, store):
    app = memories_page()
    chosen = table_ids(app)[:3]
    select_rows(app, [0, 1, 2])
    widget(app.button, "Delete…").click().run()
    assert "Delete **3** memories?" in app.warning[0].value
    assert store.get_memory(chosen[0])  # nothing deleted before confirming
    widget(app.button, "Yes, delete 3").click().run()
    assert not app.exception
    for memory_id in chosen:
        with pytest.raises(MemoryNotFound):
            store.get_memory(memory_id)
    assert "3 memories were deleted." in app.info[0].value
    assert not set(chosen) & set(table_ids(app))
    widget(app.button, "Undo").click().run()
    assert "Restored 3 memories." in app.success[0].value
    assert [store.get_memory(i).id for i in chosen] == chosen


def test_cancelling_a_delete_keeps_the_memories(sample_config, store):
    app = memories_page()
    chosen = table_ids(app)[0]
    select_rows(app, [0])
    widget(app.button, "Delete…").click().run()
    widget(app.button, "Cancel").click().run()
    assert not app.warning
    assert store.get_memory(chosen)


def test_export_the_selection_as_jsonl_and_parquet(sample_config, store, downloads, tmp_path):
    app = memories_page()
    chosen = table_ids(app)[:2]
    select_rows(app, [0, 1])
    content, name = downloaded(app, downloads, "JSONL")
    records = [json.loads(line) for line in content.decode().splitlines()]
    assert sorted(r["id"] for r in records) == sorted(chosen)
    assert name == "alma-2-memories.jsonl"
    assert all(len(r["embedding"]) == store.embedder.dim for r in records)
    content, name = downloaded(app, downloads, "PARQUET")
    (tmp_path / "x.parquet").write_bytes(content)
    from alma_app.memory.transfer import read_records

    assert sorted(r["id"] for r in read_records(tmp_path / "x.parquet")) == sorted(chosen)


def open_memory(memory_id: str):
    app = page("memories")
    app.query_params["memory"] = memory_id
    app.run()
    assert not app.exception
    return app


def test_the_detail_view_shows_every_field_and_provenance(sample_config):
    app = open_memory("sd-heur-001")
    fields = app.json[0].value
    assert '"source_outcome_ids"' in fields and '"sd-heur-001"' in fields
    text = " ".join(m.value for m in app.markdown)
    assert "Learned from 3 outcome(s)" in text
    assert "Test login with valid credentials" in text  # the summary of source sd-out-001
    assert "Created by **sample-data**" in " ".join(c.value for c in app.caption)


def test_an_outcome_shows_its_session(sample_config):
    app = open_memory("sd-out-005")
    assert any("**Session**" in m.value for m in app.markdown)


def test_editing_the_text_saves_and_re_embeds(sample_config, store):
    app = open_memory("sd-heur-001")
    new = "Prefer getByRole queries with accessible names over data-testid attributes"
    widget(app.text_area, "Strategy").set_value(new)
    widget(app.text_input, "Reason for the change (optional)").set_value("team convention changed")
    widget(app.button, "Save changes").click().run()
    assert not app.exception and not app.error
    assert "Saved: strategy." in app.success[0].value
    assert store.get_memory("sd-heur-001").strategy == new
    hits = store.search("getByRole queries with accessible names", mode="vector", limit=1)
    assert hits[0].id == "sd-heur-001"  # found by its new embedding
    last = store.history("sd-heur-001")[-1]
    assert (last.action, last.reason) == ("edit", "team convention changed")


def test_history_shows_diffs_and_reverts(sample_config, store):
    app = open_memory("sd-heur-001")
    old = store.get_memory("sd-heur-001").strategy
    widget(app.text_area, "Strategy").set_value("Use XPath everywhere")
    widget(app.button, "Save changes").click().run()
    diffs = [c.value for c in app.code]
    edit = next(d for d in diffs if '+  "strategy": "Use XPath everywhere"' in d)
    assert '-  "strategy": ' in edit
    widget(app.button, "Revert to this version").click().run()
    assert not app.exception
    assert store.get_memory("sd-heur-001").strategy == old
    assert store.history("sd-heur-001")[-1].action == "revert"


def test_bad_input_is_a_readable_error(sample_config, store):
    app = open_memory("sd-heur-001")
    widget(app.text_area, "Metadata (JSON)").set_value("{not json")
    widget(app.button, "Save changes").click().run()
    assert not app.exception
    assert "metadata: is not valid JSON" in app.error[0].value
    assert store.get_memory("sd-heur-001").metadata == {}


def test_an_empty_store_says_how_to_fill_it(empty_config):
    app = memories_page()
    assert "alma demo" in app.info[0].value
