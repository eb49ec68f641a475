"""Hypothesis over the command line and the import, the front doors test_bad_input.py (Python
API) and tests/mcp/test_bad_input_mcp.py (MCP) do not reach.

The CLI is called in process as `cli.main([...])`, the way the console script calls it. Whatever
the arguments or the file, a command exits 0, or 1 with one `error: …` line (2 for usage
errors), never a traceback; an import is all or nothing; after every call the store still
answers a search, and what was there before a refused call is there unchanged.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alma_app import ALMA, cli
from tests.conftest import AGENTS

EXAMPLES = int(os.environ.get("ALMA_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SURROGATE = b"\xff".decode("utf-8", "surrogateescape")  # a non-UTF-8 byte of a command line
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", SURROGATE, f"login {SURROGATE}", "'; DROP TABLE x --"]),
)
VALUE = st.one_of(
    TEXT,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.lists(st.one_of(TEXT, st.floats(), st.integers()), max_size=3),
    st.dictionaries(st.one_of(TEXT), TEXT, max_size=2),
)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store with a few memories every fuzzed call must leave alone."""
    root = tmp_path_factory.mktemp("cli-fuzz")
    path = root / "config.yaml"
    body = {
        "project_id": "cli-fuzz",
        "storage_dir": str(root / "store"),
        "embedding": "hashing",
        "agents": AGENTS,
    }
    path.write_text(yaml.safe_dump({"alma": body}))
    alma = ALMA.from_config(path)
    alma.add_domain_knowledge("helena", "form_validation", "the login form lives at /signin")
    alma.learn("helena", "log in", "success", "use the admin account", task_type="form_validation")
    alma.close()
    return str(path)


def snapshot(config: str) -> dict[str, Any]:
    alma = ALMA.from_config(config)
    try:
        rows = alma.store.scan("memories", columns=["id", "payload", "metadata", "status"])
        return {r["id"]: r for r in rows}
    finally:
        alma.close()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse: usage errors and --help
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    if code:
        assert code in (1, 2) and err.startswith("error: "), (code, err)
    return code, err


def still_answers(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(capsys, "--config", config, "search", "login form")
    assert code == 0, err


@FUZZ
@given(
    command=st.sampled_from(["search", "stats", "export", "forget"]),
    text=TEXT,
    number=st.one_of(TEXT, st.integers(-(2**70), 2**70).map(str), st.floats().map(str)),
)
@example(command="search", text=f"login {SURROGATE}", number="10")
@example(command="stats", text=SURROGATE, number="1")
def test_commands_answer_or_say_what_is_wrong(config, tmp_path, capsys, command, text, number):
    before = snapshot(config)
    argv = {
        "search": ["search", text, "--limit", number, "--agent", text],
        "stats": ["stats", "--agent", text],
        "export": ["export", "--out", str(tmp_path / "out.jsonl"), "--agent", text],
        "forget": ["forget", "--agent", text, "--older-than-days", number, "--dry-run"],
    }[command]
    run_cli(capsys, "--config", config, *argv)
    assert snapshot(config) == before
    still_answers(config, capsys)


def good_record(i: int) -> dict[str, Any]:
    return {
        "id": f"fuzz-{i}",
        "type": "heuristic",
        "agent": "helena",
        "condition": f"a form has {i} fields",
        "strategy": "fill them in tab order",
        "task_type": "forms",
        "confidence": 0.7,
        "occurrence_count": 3,
        "success_count": 2,
        "created_at": "2025-01-01T00:00:00+00:00",
        "updated_at": "2025-01-01T00:00:00+00:00",
        "last_validated": "2025-01-01T00:00:00+00:00",
        "metadata": {},
        "shared_with": [],
    }


FIELDS = [*sorted(good_record(0)), "embedding", "source_outcome_ids", "type"]


@FUZZ
@given(
    spoiled=st.lists(st.tuples(st.sampled_from(FIELDS), VALUE), min_size=1, max_size=3),
    position=st.integers(0, 2),
)
@example(spoiled=[("occurrence_count", "abc")], position=0)
@example(spoiled=[("id", None)], position=1)
@example(spoiled=[("created_at", 12345)], position=2)
@example(spoiled=[("embedding", "0.1, 0.2")], position=0)
@example(spoiled=[("embedding", [math.nan])], position=2)
@example(spoiled=[("metadata", "{not json")], position=1)
@example(spoiled=[("shared_with", None)], position=0)
@example(spoiled=[("type", [])], position=0)  # found by this test: unhashable type
def test_an_import_is_all_or_nothing_and_never_poisons_the_store(
    config, tmp_path, capsys, spoiled, position
):
    records = [good_record(i) for i in range(3)]
    for name, value in spoiled:
        records[position][name] = value
    path = tmp_path / "fuzz.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    before = snapshot(config)
    code, err = run_cli(capsys, "--config", config, "import", str(path))
    after = snapshot(config)
    if code:
        assert "fuzz.jsonl line" in err or "fuzz.jsonl" in err, err
        assert after == before, "a refused import changed the store"
    else:
        assert {r["id"] for r in records if isinstance(r.get("id"), str)} <= set(after)
        code, err = run_cli(capsys, "--config", config, "export", "--out", str(tmp_path / "x"))
        assert code == 0, err
    still_answers(config, capsys)
    alma = ALMA.from_config(config)
    try:
        alma.retrieve("fill in a form", "helena").to_prompt()  # imported memories read back
    finally:
        alma.close()
