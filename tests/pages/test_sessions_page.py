"""The Sessions page: a timeline of sessions and handoffs, a handoff opened in full with its
quick-reload text, the agent filter, and search across handoffs."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from alma_app import ALMA
from alma_app.sample import load_sample_board
from alma_app.session import SessionManager

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "sessions.py")


@pytest.fixture
def manager(sample_config: Path):
    """The sample store plus the sample board, sessions and handoffs."""
    alma = ALMA.from_config(sample_config)
    load_sample_board(alma)
    yield SessionManager(alma.project_id, alma=alma)
    alma.close()


def run() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    return app


def detail_text(app: AppTest) -> str:
    return " ".join(m.value for m in app.markdown) + " ".join(c.value for c in app.caption)


def test_the_timeline_and_the_latest_handoff_open_by_default(manager):
    app = run()
    metrics = {m.label: m.value for m in app.metric}
    assert (metrics["Sessions"], metrics["Handoffs"], metrics["Active now"]) == ("12", "12", "0")
    spec = app.get("plotly_chart")[0].proto.spec
    assert "Sessions and handoffs" in spec
    latest = manager.list_handoffs(limit=1)[0]
    assert app.radio(key="sessions.handoff").value == latest.id
    text = detail_text(app)
    assert latest.last_action in text
    for value in (*latest.next_steps, *latest.blockers, *latest.key_decisions, *latest.risk_flags):
        assert value in text
    assert metrics["Tests failed"] == str(latest.test_status["failed"])
    assert app.code[0].value == manager.get_quick_reload(latest.agent)


def test_opening_another_handoff_shows_its_content(manager):
    app = run()
    chosen = next(h for h in manager.list_handoffs("victor") if h.session_id == "sd-sess-03")
    app.radio(key="sessions.handoff").set_value(chosen.id).run()
    text = detail_text(app)
    assert chosen.goal in " ".join(s.value for s in app.subheader)
    assert chosen.last_action in text
    assert "migrations/0147_idempotency_keys.py" in text
    assert {m.label: m.value for m in app.metric}["Tests passed"] == "212"
    assert "Quick reload: victor" in app.code[0].value


def test_the_agent_filter_lists_only_that_agents_handoffs(manager):
    app = run()
    app.selectbox(key="sessions.agent").select("nora").run()
    options = app.radio(key="sessions.handoff").options
    assert len(options) == 3
    assert all("nora:" in o for o in options)
    assert {m.label: m.value for m in app.metric}["Sessions"] == "3"


def test_search_finds_a_handoff_and_opens_it(manager):
    app = run()
    app.selectbox(key="sessions.agent").select("victor").run()
    app.text_input[0].input("TOTP secret for the MFA test").run()
    hits = [b.key for b in app.button if b.key and b.key.startswith("hit-")]
    assert hits[0] == "hit-handoff-sd-sess-12"  # helena's, though the list shows victor's
    app.button(key=hits[0]).click().run()
    assert app.selectbox(key="sessions.agent").value == "all agents"
    assert app.radio(key="sessions.handoff").value == "handoff-sd-sess-12"
    assert "Automate MFA sign-in test on staging" in " ".join(s.value for s in app.subheader)


def test_the_filter_follows_the_sidebar_and_a_hit_widens_only_the_page(manager):
    app = run()
    app.selectbox(key="alma_agent").set_value("nora").run()
    assert app.selectbox(key="sessions.agent").value == "nora"
    options = app.radio(key="sessions.handoff").options
    assert len(options) == 3 and all("nora:" in o for o in options)
    assert {m.label: m.value for m in app.metric}["Sessions"] == "3"
    app.text_input[0].input("TOTP secret for the MFA test").run()
    app.button(key="hit-handoff-sd-sess-12").click().run()  # helena's
    assert app.selectbox(key="sessions.agent").value == "all agents"
    assert app.selectbox(key="alma_agent").value == "nora"  # the other pages keep nora
    assert app.radio(key="sessions.handoff").value == "handoff-sd-sess-12"
    app.selectbox(key="alma_agent").set_value("victor").run()
    assert app.selectbox(key="sessions.agent").value == "victor"
    assert {m.label: m.value for m in app.metric}["Sessions"] == str(
        sum(1 for s in manager.list_sessions(limit=100) if s.agent == "victor")
    )


def test_a_search_without_matches_says_so(manager):
    app = run()
    app.text_input[0].input("zzzz qqqq").run()
    assert "No handoff matches." in [c.value for c in app.caption]


def test_no_sessions_yet_explains_how_they_appear(empty_config):
    app = run()
    assert "No sessions recorded yet" in app.info[0].value
