"""The dashboard opens in a real browser and shows the store's overview."""

from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_overview_renders_the_stores_counts(page, server, settle):
    page.goto(server)
    settle(page)
    page.get_by_text("Memory overview").wait_for()
    metric = page.locator('[data-testid="stMetric"]', has_text="Pending review")
    assert "15" in metric.inner_text()
    page.locator(".js-plotly-plot").first.wait_for()
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "overview.png"), full_page=True)
