"""The dashboard opens in a real browser and shows the store's overview."""


def test_the_overview_renders_the_stores_counts(page, server, settle, alma_of, screenshot):
    page.goto(server)
    settle(page)
    page.get_by_text("Memory overview").wait_for()
    metric = page.locator('[data-testid="stMain"] [data-testid="stMetric"]', has_text="Pending")
    assert str(alma_of().stats()["pending"]) in metric.first.inner_text()
    page.locator(".js-plotly-plot").first.wait_for()
    page.get_by_text("Recent activity").wait_for()
    page.wait_for_timeout(1000)  # plotly draws after the script ends
    screenshot(page, "overview.png")
