"""The Export page: the exact prompt context an agent gets, and memories of a filter as files."""

from __future__ import annotations

import json

from pagetools import downloaded, page, widget

from alma_app.memory.prompt import estimate_tokens
from alma_app.memory.transfer import read_records

TASK = "Test the checkout form validation messages"


def export_page():
    app = page("export").run()
    assert not app.exception
    return app


def ask(app, agent: str, task: str, budget: int = 2000, user: str = ""):
    widget(app.selectbox, "Agent").set_value(agent)
    widget(app.text_area, "Task").set_value(task)
    widget(app.number_input, "Token budget").set_value(budget)
    widget(app.text_input, "User (optional)").set_value(user)
    widget(app.button, "Show prompt context").click()
    return app.run()


def test_the_preview_is_exactly_what_to_prompt_injects(sample_config, store, downloads):
    app = ask(export_page(), "helena", TASK, user="alice")
    assert not app.exception and not app.error
    expected = store.retrieve(TASK, "helena", top_k=5, user_id="alice").to_prompt(2000)
    assert "### User preferences" in expected  # alice's preferences are included
    assert app.code[0].value == expected
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Tokens (estimated)"] == f"{estimate_tokens(expected):,}"
    content, name = downloaded(app, downloads, "Download as Markdown")
    assert content.decode() == expected and name == "alma-prompt-helena.md"


def test_the_token_budget_is_respected(sample_config):
    app = ask(export_page(), "helena", TASK, budget=120)
    text = app.code[0].value
    assert 0 < estimate_tokens(text) <= 120


def test_an_empty_task_is_a_readable_error(sample_config):
    app = ask(export_page(), "victor", "   ")
    assert not app.exception
    assert "task" in app.error[0].value


def test_memories_of_a_filter_download_as_jsonl(sample_config, store, downloads):
    app = export_page()
    app.selectbox(key="export:filters:type").set_value("heuristic")
    app.selectbox(key="export:filters:status").set_value("approved").run()
    assert "**17** memories match" in " ".join(c.value for c in app.caption)
    widget(app.button, "Prepare the file").click().run()
    content, name = downloaded(app, downloads, "Download 17 memories")
    records = [json.loads(line) for line in content.decode().splitlines()]
    assert len(records) == 17 and {r["type"] for r in records} == {"heuristic"}
    assert name == "alma-acme-webshop.jsonl"
    assert "embedding" in records[0]


def test_parquet_without_embeddings(sample_config, downloads, tmp_path):
    app = export_page()
    app.selectbox(key="alma_agent").set_value("nora")
    app.button_group(key="export:format").set_value("parquet")
    app.checkbox(key="export:embeddings").uncheck().run()
    widget(app.button, "Prepare the file").click().run()
    content, name = downloaded(app, downloads, "Download 20 memories")
    path = tmp_path / name
    path.write_bytes(content)
    records = read_records(path)
    assert len(records) == 20 and {r["agent"] for r in records} == {"nora"}
    assert all("embedding" not in r for r in records)


def test_changing_the_filter_asks_to_prepare_again(sample_config):
    app = export_page()
    widget(app.button, "Prepare the file").click().run()
    assert app.download_button
    app.selectbox(key="export:filters:type").set_value("outcome").run()
    assert not app.download_button
    assert widget(app.button, "Prepare the file")
