"""The review queue: one pending memory at a time beside its neighbours, or a batch table."""

from __future__ import annotations

from datetime import timedelta

from pagetools import page, select_rows, table_ids, widget

from alma_app import Heuristic


def review_page():
    app = page("review").run()
    assert not app.exception
    return app


def shown_memory(app) -> str:
    """The id of the memory on the review card."""
    caption = next(c.value for c in app.caption if c.value.startswith("Created "))
    return caption.rsplit("`", 2)[-2]


def oldest_pending(store, agent=None) -> list[str]:
    page_ = store.list_memories(
        status="pending", agent=agent, limit=100, order_by="created_at", descending=False
    )
    return [m.id for m in page_.items]


def test_the_oldest_pending_memory_comes_first_with_its_neighbours(sample_config, store):
    app = review_page()
    first = oldest_pending(store)[0]
    assert shown_memory(app) == first
    markdown = [m.value for m in app.markdown]
    assert "**Closest existing memories**" in markdown
    memory = store.get_memory(first)
    candidates = [h for h in store.search(memory.text(), agent=memory.agent, limit=15)]
    closest = max((h for h in candidates if h.id != first), key=lambda h: h.score.similarity)
    shown = markdown[markdown.index("**Closest existing memories**") + 2]
    assert shown == closest.summary()
    assert "15 pending" in app.get("progress")[0].proto.text


def test_a_near_copy_of_an_approved_memory_is_flagged_as_a_duplicate(sample_config, store):
    original = store.get_memory("sd-heur-001")
    copy = Heuristic(
        agent="helena",
        condition=original.condition,
        strategy=original.strategy,
        task_type=original.task_type,
        status="pending",
        created_at=original.created_at - timedelta(days=365),  # the oldest: reviewed first
    )
    store.add_memories([copy])
    app = review_page()
    assert shown_memory(app) == copy.id
    flagged = next(m.value for m in app.markdown if "likely duplicate" in m.value)
    assert "Heuristic" in flagged
    assert original.summary() in [m.value for m in app.markdown]


def test_approve_moves_on_to_the_next(sample_config, store):
    app = review_page()
    first, second = oldest_pending(store)[:2]
    widget(app.button, "Approve").click().run()
    assert store.get_memory(first).status == "approved"
    assert "Approved." in app.success[0].value
    assert shown_memory(app) == second
    assert any(m.label == "Pending review" and m.value == "14" for m in app.sidebar.metric)


def test_edit_and_approve_in_one_step(sample_config, store):
    app = review_page()
    first = oldest_pending(store)[0]
    field = app.text_area[0]
    field.set_value(field.value + " (checked by a human)")
    widget(app.button, "Approve").click().run()
    memory = store.get_memory(first)
    assert memory.status == "approved"
    name = field.label.lower().replace(" ", "_")
    assert getattr(memory, name).endswith(" (checked by a human)")
    last = store.history(first)[-1]
    assert last.action == "approve" and last.reason.startswith("edited: ")


def test_reject_needs_a_reason(sample_config, store):
    app = review_page()
    first = oldest_pending(store)[0]
    widget(app.button, "Reject").click().run()
    assert not app.exception
    assert "reason" in app.error[0].value
    assert store.get_memory(first).status == "pending"
    app.text_input(key=f"review:{first}:reason").set_value("duplicates an approved heuristic")
    widget(app.button, "Reject").click().run()
    assert store.get_memory(first).status == "rejected"
    assert store.history(first)[-1].reason == "duplicates an approved heuristic"


def test_skip_shows_the_next_and_start_over_returns(sample_config, store):
    app = review_page()
    first, second = oldest_pending(store)[:2]
    widget(app.button, "Skip").click().run()
    assert shown_memory(app) == second
    assert store.get_memory(first).status == "pending"
    assert "1 skipped" in app.get("progress")[0].proto.text


def test_the_agent_filter_limits_the_queue(sample_config, store):
    app = review_page()
    app.selectbox(key="alma_agent").set_value("nora").run()
    assert shown_memory(app) == oldest_pending(store, "nora")[0]
    assert "3 pending" in app.get("progress")[0].proto.text


def test_batch_mode_approves_a_selection(sample_config, store):
    app = review_page()
    app.button_group[0].set_value("Batch").run()
    assert len(app.dataframe[0].value) == 15
    chosen = table_ids(app)[:3]
    select_rows(app, [0, 1, 2])
    widget(app.button, "Approve").click().run()
    assert {store.get_memory(i).status for i in chosen} == {"approved"}
    assert len(app.dataframe[0].value) == 12


def test_an_empty_queue_says_so(sample_config, store):
    store.approve(oldest_pending(store), reviewer="test")
    app = review_page()
    assert "Nothing waits for review" in app.success[0].value
