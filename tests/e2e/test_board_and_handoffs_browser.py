"""In a real browser: the kanban board moves cards (and refuses illegal moves, saying why) in
the name typed in the shared sidebar, a handoff found by search opens with what the store holds
even when the sidebar shows another agent, and every page of part 2 draws its charts from the
sample data. Screenshots of these pages go to docs/."""

import os
import re
import tempfile
from pathlib import Path

from playwright.sync_api import expect

from alma_app.board.tracker import ProgressTracker
from alma_app.sessions.manager import SessionManager

# As in conftest.py: docs/ only with `make screenshots`.
DOCS = Path(os.environ.get("ALMA_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "alma-shots")


def shot(page, name: str) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its main area, so grow the viewport
    to the content's height (capped) first."""
    DOCS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(max(height, 1000), 3200)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(DOCS / name))


def open_page(page, server: str, settle, path: str) -> None:
    """Open the app at its entry first: until streamlit_app.py has run once, Streamlit serves
    the pages/ folder as a classic multipage app and skips st.navigation."""
    page.goto(server)
    settle(page)
    page.goto(f"{server}/{path}")
    settle(page)


def review_as(page, settle, name: str) -> None:
    """Type the reviewer's name in the shared sidebar."""
    page.get_by_label("Reviewing as", exact=True).fill(name)
    page.keyboard.press("Enter")
    settle(page)


def show_agent(page, settle, agent: str) -> None:
    """Pick an agent in the shared sidebar's filter."""
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
    page.get_by_role("option", name=re.compile(rf"^{agent} \(")).click()
    settle(page)


def move(page, settle, item_id: str, status: str) -> None:
    page.locator(f".st-key-card-{item_id}").get_by_role("button", name="Move").click()
    page.locator(f".st-key-move-{item_id}-{status} button").click()
    settle(page)


def test_moving_kanban_cards_reaches_the_store(page, server, settle, alma_of):
    open_page(page, server, settle, "work_items")
    page.get_by_text("Work items").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for(state="attached")
    review_as(page, settle, "carol")

    # An illegal move: the blocked item still waits on an unfinished one.
    move(page, settle, "sd-wi-16", "in_progress")
    alert = page.locator('[data-testid="stAlert"]', has_text="Cannot move")
    alert.wait_for()
    assert "waits on 'sd-wi-17'" in alert.inner_text()
    tracker = ProgressTracker("acme-webshop", alma=alma_of())
    assert tracker.get("sd-wi-16").status == "blocked"

    # A legal one: finishing the PgBouncer item frees the item that waited on it.
    move(page, settle, "sd-wi-17", "done")
    page.locator('[data-testid="stAlert"]', has_text="Moved").wait_for()
    assert tracker.get("sd-wi-17").status == "done"
    assert tracker.get("sd-wi-16").status == "pending"
    assert tracker.get_status_log("sd-wi-17")[0].actor == "carol"  # the sidebar's reviewer
    done_column = page.locator('[data-testid="stColumn"]', has_text="Done ·").first
    assert "Add PgBouncer in transaction mode" in done_column.inner_text()
    shot(page, "work_items.png")


def test_a_searched_handoff_opens_with_its_stored_content(page, server, settle, alma_of):
    open_page(page, server, settle, "sessions")
    page.get_by_text("Sessions & handoffs").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for(state="attached")
    show_agent(page, settle, "victor")
    # The rerun that filters the list may start after settle() returned on a loaded machine:
    # wait (up to 30 s) for the filtered list rather than reading the old one.
    radio = page.locator('[data-testid="stRadio"]')
    expect(radio).not_to_contain_text("helena:", timeout=30_000)
    listed = radio.inner_text()
    assert "victor:" in listed and "helena:" not in listed  # the sidebar's agent only

    page.get_by_placeholder("e.g. flaky payment test").fill("MFA TOTP sign-in")
    page.keyboard.press("Enter")
    settle(page)
    page.get_by_role("button", name="Automate MFA sign-in test on staging").click()
    settle(page)

    stored = next(
        h
        for h in SessionManager("acme-webshop", alma=alma_of()).list_handoffs("helena", limit=50)
        if h.session_id == "sd-sess-12"
    )
    detail = page.locator(".st-key-handoff-detail")
    detail.get_by_text(stored.goal).wait_for()
    # The rerun streams the detail's parts in: wait for each, as the reload below is waited for
    # (on a loaded machine the goal showed before the blockers had rendered).
    for part in (stored.last_action, *stored.next_steps, *stored.blockers, "failure"):
        expect(detail).to_contain_text(part, timeout=30_000)
    # The quick reload renders after the detail in the same rerun: wait for it, not just read.
    reload_block = page.locator('[data-testid="stCode"]', has_text="Quick reload: helena")
    reload_block.wait_for()
    assert "Quick reload: victor" not in page.locator('[data-testid="stCode"]').inner_text()
    shot(page, "sessions.png")


def test_confidence_and_analytics_pages_draw_their_charts(page, server, settle):
    open_page(page, server, settle, "confidence")
    page.get_by_text("Confidence & forgetting").first.wait_for()
    page.locator(".js-plotly-plot").nth(1).wait_for()
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 1
    shot(page, "confidence.png")

    open_page(page, server, settle, "analytics")
    page.get_by_text("Memory health").first.wait_for()
    page.locator(".js-plotly-plot").nth(2).wait_for()
    assert page.locator(".js-plotly-plot").count() == 3
    shot(page, "analytics.png")
