"""What a write linked shows on the dashboard: supersede links in the memory detail, and the
review queue's possible contradictions, which a human keeps or settles."""

from __future__ import annotations

from pagetools import page, widget

from alma_app.memory.links import CONTRADICTS

OLD = "The login form times out after 12 seconds under load"
NEW = "The login form times out after 47 seconds under load"
DOES = "The login form does validate email addresses"
DOES_NOT = "The login form does not validate email addresses"


def open_memory(memory_id: str):  # type: ignore[no-untyped-def]
    app = page("memories")
    app.query_params["memory"] = memory_id
    app.run()
    assert not app.exception
    return app


def markdown(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.value for m in app.markdown]


def test_the_detail_links_the_superseded_and_the_superseding_memory(sample_config, store):
    old = store.add_domain_knowledge("helena", "form_validation", OLD)
    new = store.add_domain_knowledge("helena", "form_validation", NEW)
    assert new.write_result == "superseded"

    app = open_memory(old.id)
    link = f"**Superseded by** [{NEW}](/memories?memory={new.id}) `{new.id}`"
    assert any(m.endswith(link) for m in markdown(app))
    assert any("ranks below it" in c.value for c in app.caption)

    app = open_memory(new.id)
    link = f"**Supersedes** [{OLD}](/memories?memory={old.id}) `{old.id}`"
    assert any(m.endswith(link) for m in markdown(app))
    assert not any("ranks below it" in c.value for c in app.caption)


def test_the_detail_names_a_possible_contradiction(sample_config, store):
    does = store.add_domain_knowledge("helena", "form_validation", DOES)
    does_not = store.add_domain_knowledge("helena", "form_validation", DOES_NOT)
    assert does_not.write_result == "contradiction_flagged"
    app = open_memory(does.id)
    link = f"**May contradict** [{DOES_NOT}](/memories?memory={does_not.id}) `{does_not.id}`"
    assert any(m.endswith(link) for m in markdown(app))


def test_an_unlinked_memory_shows_no_links(sample_config):
    app = open_memory("sd-heur-001")
    assert not any("**Supersedes**" in m or "**Superseded by**" in m for m in markdown(app))


def review_page():  # type: ignore[no-untyped-def]
    app = page("review").run()
    assert not app.exception
    return app


def test_the_review_queue_lists_possible_contradictions_with_both_texts(sample_config, store):
    app = review_page()
    assert not [s for s in app.subheader if s.value == "Possible contradictions"]
    does = store.add_domain_knowledge("helena", "form_validation", DOES)
    does_not = store.add_domain_knowledge("helena", "form_validation", DOES_NOT)
    app = review_page()
    assert [s.value for s in app.subheader] == ["Possible contradictions"]
    shown = markdown(app)
    assert f"**Older:** {DOES}" in shown and f"**Newer:** {DOES_NOT}" in shown
    captions = " ".join(c.value for c in app.caption)
    assert f"`{does.id}`" in captions and f"`{does_not.id}`" in captions


def test_keeping_the_newer_rejects_the_older(sample_config, store):
    does = store.add_domain_knowledge("helena", "form_validation", DOES)
    does_not = store.add_domain_knowledge("helena", "form_validation", DOES_NOT)
    app = review_page()
    app.text_input(key="alma_reviewer").input("rita").run()
    widget(app.button, "Keep the newer").click().run()
    assert not app.exception and not app.error
    assert f"Rejected `{does.id}`." in app.success[0].value
    assert store.get_memory(does.id).status == "rejected"
    assert store.get_memory(does_not.id).status == "approved"
    assert store.history(does.id)[-1].actor == "rita"
    assert not [s for s in app.subheader if s.value == "Possible contradictions"]


def test_keeping_both_clears_the_flag(sample_config, store):
    does = store.add_domain_knowledge("helena", "form_validation", DOES)
    does_not = store.add_domain_knowledge("helena", "form_validation", DOES_NOT)
    app = review_page()
    widget(app.button, "Keep both").click().run()
    assert "Kept both." in app.success[0].value
    for memory_id in (does.id, does_not.id):
        stored = store.get_memory(memory_id)
        assert stored.status == "approved" and CONTRADICTS not in stored.metadata
    assert store.contradictions() == []
