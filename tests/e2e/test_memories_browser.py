"""In a real browser: edit a memory, approve a pending one, preview a prompt; the changes reach
the store. Screenshots of the Memories, Review and Export pages go to docs/."""

import re


def test_editing_a_memory_reaches_the_store(page, settle, alma_of, open_app_page, screenshot):
    open_app_page(page, "memories")
    page.get_by_text("memories match").first.wait_for()
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    open_app_page(page, "memories", "memory=sd-heur-001")
    page.get_by_role("tab", name="History").wait_for()
    page.locator('[data-testid="stJson"]').first.wait_for()
    screenshot(page, "memories.png")

    page.get_by_role("tab", name="Edit").click()
    new = "Locate elements by their ARIA role and accessible name, falling back to data-testid"
    strategy = page.get_by_label("Strategy")
    strategy.fill(new)
    page.get_by_label("Reason for the change (optional)").fill("accessibility first")
    page.get_by_role("button", name=re.compile("Save changes")).click()
    settle(page)
    page.get_by_text("Saved: strategy.").wait_for()

    memory = alma_of().get_memory("sd-heur-001")
    assert memory.strategy == new
    assert alma_of().history("sd-heur-001")[-1].reason == "accessibility first"


def test_approving_a_pending_memory_reaches_the_store(
    page, settle, alma_of, open_app_page, screenshot
):
    open_app_page(page, "review")
    card = page.locator('[data-testid="stCaptionContainer"]', has_text="Created ")
    card.first.wait_for()
    memory_id = card.first.locator("code").inner_text().strip()
    assert alma_of().get_memory(memory_id).status == "pending"
    page.get_by_text("Closest existing memories").wait_for()
    page.locator("textarea").first.wait_for()
    screenshot(page, "review.png")

    page.get_by_role("button", name=re.compile("Approve")).click()
    settle(page)
    page.get_by_text("Approved.").wait_for()
    assert alma_of().get_memory(memory_id).status == "approved"
    assert alma_of().history(memory_id)[-1].actor == "human"


def test_the_prompt_preview_shows_what_agents_get(page, settle, alma_of, open_app_page, screenshot):
    open_app_page(page, "export")
    task = "Test the checkout form validation messages"
    page.get_by_label("Task").fill(task)
    page.get_by_role("button", name=re.compile("Show prompt context")).click()
    settle(page)
    page.get_by_text("Tokens (estimated)").wait_for()
    shown = page.locator('[data-testid="stCode"]').first.inner_text()
    expected = alma_of().retrieve(task, "helena", top_k=5).to_prompt(2000)
    assert expected.splitlines()[0] in shown
    screenshot(page, "export.png")
