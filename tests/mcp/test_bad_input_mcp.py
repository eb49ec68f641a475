"""Bad input over MCP: every request gets an answer (a tool error naming the argument, or a
result), at once, and the server keeps serving. Driven over raw JSON-RPC lines, as a client
with its own JSON encoder would send them (the SDK's client cannot send a lone surrogate)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.mcp.conftest import OFFLINE, run, stdio_session

ANSWER_S = 60  # generous on a loaded 2-core machine; a hang is what is being caught
EXAMPLES = int(os.environ.get("ALMA_FUZZ_EXAMPLES", "40"))


class RawServer:
    """`python -m alma_app.mcp` over stdio, spoken to one JSON line at a time."""

    def __init__(self, config: Path, log: Path) -> None:
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "alma_app.mcp", "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=ROOT,
            env=dict(os.environ, **OFFLINE),
        )
        self.ids = count(1)
        reply = self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            },
        )
        assert "result" in reply, reply
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message: dict[str, Any]) -> None:
        # ensure_ascii: a lone surrogate travels as the escape "\udcff", as JSON allows
        self.proc.stdin.write((json.dumps(message) + "\n").encode("ascii"))
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        request_id = next(self.ids)
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        ready, _, _ = select.select([self.proc.stdout], [], [], ANSWER_S)
        assert ready, f"no answer to {method} {params!a} within {ANSWER_S} s"
        reply = json.loads(self.proc.stdout.readline())
        assert reply.get("id") == request_id, reply
        return reply

    def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """A tools/call's result (an error result has isError true)."""
        reply = self.request("tools/call", {"name": tool, "arguments": arguments})
        assert "result" in reply, reply
        return reply["result"]

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def error_text(result: dict[str, Any]) -> str:
    assert result.get("isError") is True, result
    return " ".join(block.get("text", "") for block in result["content"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawServer]:
    root = tmp_path_factory.mktemp("mcp-raw")
    config = root / "config.yaml"
    config.write_text(
        f"alma:\n  project_id: mcp-raw\n  storage_dir: {root / 'store'}\n  embedding: hashing\n"
    )
    raw = RawServer(config, root / "server.log")
    yield raw
    raw.close()


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("alma_retrieve", {"task": "log \udcff in", "agent": "helena"}, "task"),
        ("alma_add_knowledge", {"agent": "helena", "domain": "d", "fact": "\udcff"}, "fact"),
        ("alma_create_work_item", {"title": "fix \ud800 it"}, "title"),
        (
            "alma_learn",
            {"agent": "h", "task": "t", "outcome": "success", "strategy_used": "\udfff"},
            "strategy_used",
        ),
    ],
)
def test_a_lone_surrogate_gets_a_tool_error_at_once(server, tool, arguments, field):
    assert f"invalid argument {field}" in error_text(server.call(tool, **arguments))
    assert server.call("alma_health")["structuredContent"]["status"] == "ok"


def test_an_unknown_work_item_type_is_a_tool_error(server):
    text = error_text(server.call("alma_create_work_item", title="triage", item_type="bogus"))
    assert "item_type" in text and "bogus" in text


def test_an_unknown_work_item_type_through_the_sdk_client(mcp_config, tmp_path):
    async def scenario():
        async with stdio_session(mcp_config(), tmp_path / "server.log") as client:
            error = await client.fail("alma_create_work_item", title="triage", item_type="bogus")
            assert "item_type" in error
            board = await client.call("alma_progress_summary")
            assert board["total"] == 0

    run(scenario)


ANY_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "\udcff", "a\ud800b", "'; DROP TABLE x; --", "🙂"]),
)
ANY_VALUE = st.one_of(
    ANY_TEXT,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),  # JSON itself has no NaN
    st.lists(ANY_TEXT, max_size=3),
    st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=2),
)
TOOLS = {
    "alma_retrieve": ["task", "agent", "top_k", "user_id"],
    "alma_learn": ["agent", "task", "outcome", "strategy_used", "feedback", "duration_ms"],
    "alma_add_preference": ["user_id", "category", "preference", "source"],
    "alma_add_knowledge": ["agent", "domain", "fact", "source", "confidence"],
    "alma_create_work_item": ["title", "description", "priority", "item_type", "blocked_by"],
    "alma_forget": ["agent", "older_than_days", "min_confidence", "dry_run"],
}


@st.composite
def tool_calls(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    tool = draw(st.sampled_from(sorted(TOOLS)))
    names = draw(st.lists(st.sampled_from(TOOLS[tool]), unique=True, max_size=5))
    return tool, {name: draw(ANY_VALUE) for name in names}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=tool_calls())
@example(call=("alma_retrieve", {"task": "login \udcff", "agent": "helena"}))
@example(call=("alma_add_knowledge", {"agent": "helena", "domain": "d", "fact": "\udcff"}))
@example(call=("alma_create_work_item", {"title": "\udcff"}))
@example(call=("alma_create_work_item", {"title": "t", "item_type": "bogus"}))
@example(
    call=(
        "alma_learn",
        {
            "agent": "a",
            "task": "t",
            "outcome": "success",
            "strategy_used": "s",
            "duration_ms": 2**70,
        },
    )
)
def test_every_tool_call_is_answered_and_the_server_keeps_serving(server, call):
    tool, arguments = call
    result = server.call(tool, **arguments)
    if result.get("isError"):
        assert error_text(result).strip()
    else:
        assert "structuredContent" in result
