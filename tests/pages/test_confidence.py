"""The Confidence page: decay curves from the sample data, the memories about to be forgotten
with their actions (validate, edit, let go and undo), and forget: preview, then confirm."""

from datetime import timedelta
from pathlib import Path

import pytest
from pagetools import in_the_sidebar
from streamlit.testing.v1 import AppTest

from alma_app import ALMA

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "confidence.py")


@pytest.fixture
def alma(sample_config: Path):
    handle = ALMA.from_config(sample_config)
    yield handle
    handle.close()


def run() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    return app


def test_decay_curves_and_histogram_render_from_the_sample_data(alma):
    app = run()
    picked = app.multiselect[0].value
    soonest = {}
    for entry in alma.expiring(180):
        soonest.setdefault(entry.memory.type, entry.memory.id)
    assert picked == list(soonest.values())  # the soonest to go of each type
    charts = app.get("plotly_chart")
    assert len(charts) == 2
    assert "forget threshold 0.3" in charts[0].proto.spec
    table = app.dataframe[0].value
    for memory_id, day in zip(picked, table["forgotten on"], strict=True):
        assert day == alma.confidence_curve(memory_id).crosses_at.date()


def test_average_curves_per_type_and_agent(alma):
    app = run()
    app.radio[0].set_value("Average per type").run()
    spec = app.get("plotly_chart")[0].proto.spec
    assert "Average effective confidence per type" in spec
    assert all(t in spec for t in ("heuristic", "domain_knowledge", "preference"))
    app.radio[0].set_value("Average per agent").run()
    spec = app.get("plotly_chart")[0].proto.spec
    assert all(a in spec for a in ("helena", "victor", "nora"))


def expiring_rows(app: AppTest) -> list[str]:
    return [b.key.removeprefix("validate-") for b in app.button if b.key.startswith("validate-")]


def test_the_expiring_list_matches_the_core_and_validate_resets_the_clock(alma):
    app = run()
    shown = expiring_rows(app)
    assert shown == [e.memory.id for e in alma.expiring(30)]
    first = shown[0]
    app.button(key=f"validate-{first}").click().run()
    assert "decay clock starts again today" in app.success[0].value
    memory = alma.get_memory(first)
    assert alma.now() - memory.clock < timedelta(minutes=5)
    assert first not in expiring_rows(app)


def test_edit_from_the_expiring_list_changes_the_memory(alma):
    app = run()
    target = alma.expiring(30)[0].memory
    app.slider(key=f"edit-{target.id}-confidence").set_value(0.9)
    app.text_area(key=f"edit-{target.id}-text").input("Use the refund idempotency key")
    app.button(key=f"edit-{target.id}-save").click().run()
    edited = alma.get_memory(target.id)
    assert edited.stored_confidence == pytest.approx(0.9)
    field = {"outcome": "strategy_used", "heuristic": "strategy"}.get(edited.type, "fact")
    assert getattr(edited, field) == "Use the refund idempotency key"


def test_letting_go_archives_and_undo_restores(alma):
    app = run()
    target = alma.expiring(30)[0].memory.id
    app.button(key=f"letgo-{target}").click().run()
    assert "can be restored" in app.success[0].value
    assert target in {a.memory.id for a in alma.list_archived()}
    assert target not in expiring_rows(app)
    app.button(key="undo").click().run()
    assert "Restored 1 memory" in app.success[0].value
    assert alma.get_memory(target).id == target


def test_forget_previews_then_archives_exactly_the_preview_after_confirmation(alma):
    expected = alma.forget(dry_run=True)
    assert expected.count > 0
    app = run()
    app.button(key="preview").click().run()
    assert f"{expected.count} memories would be forgotten" in app.warning[0].value
    assert alma.stats()["total"] == 135  # a preview changes nothing
    app.button(key="forget-ask").click().run()
    assert "You can restore them later" in app.error[0].value
    assert alma.stats()["total"] == 135
    app.button(key="forget-yes").click().run()
    assert f"Forgot {expected.count} memories." in app.success[0].value
    assert alma.stats()["total"] == 135 - expected.count
    archived = {a.memory.id for a in alma.list_archived(limit=1000)}
    assert set(expected.ids) <= archived
    app.button(key="undo").click().run()
    assert alma.stats()["total"] == 135


def test_cancel_keeps_every_memory(alma):
    app = run()
    app.button(key="preview").click().run()
    app.button(key="forget-ask").click().run()
    app.button(key="forget-cancel").click().run()
    assert alma.stats()["total"] == 135
    assert any(b.key == "forget-ask" for b in app.button)


def test_an_empty_store_says_nothing_decays(empty_config):
    app = run()
    assert "nothing decays" in app.info[0].value


def test_the_sidebar_agent_filters_the_page_and_its_reviewer_is_the_actor(alma):
    app = in_the_sidebar(run(), "victor", "carol")
    assert not any(s.label == "Agent" for s in app.main.selectbox)  # the sidebar's filter only
    shown = expiring_rows(app)
    assert shown == [e.memory.id for e in alma.expiring(30, "victor")]
    assert shown and shown != [e.memory.id for e in alma.expiring(30)]
    first, second = shown[:2]
    app.button(key=f"validate-{first}").click().run()
    assert alma.history(first)[-1].action == "validate"
    assert alma.history(first)[-1].actor == "carol"
    app.button(key=f"letgo-{second}").click().run()
    app.button(key="undo").click().run()
    assert [(e.action, e.actor) for e in alma.history(second)[-2:]] == [
        ("delete", "carol"),
        ("restore", "carol"),
    ]


def test_forget_from_the_sidebar_scope_is_recorded_with_the_reviewer(alma):
    expected = alma.forget("victor", dry_run=True)
    everyone = alma.forget(dry_run=True)
    assert 0 < expected.count < everyone.count
    app = in_the_sidebar(run(), "victor", "carol")
    app.button(key="preview").click().run()
    assert f"{expected.count} memories would be forgotten" in app.warning[0].value
    app.button(key="forget-ask").click().run()
    app.button(key="forget-yes").click().run()
    assert f"Forgot {expected.count} memories." in app.success[0].value
    archived = {a.memory.id: a for a in alma.list_archived(limit=1000)}
    assert set(archived) == set(expected.ids)
    assert {alma.history(i)[-1].actor for i in expected.ids} == {"carol"}
