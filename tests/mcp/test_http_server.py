"""The streamable HTTP transport: loopback by default, a bearer token when one is configured,
and a refusal to bind a non-loopback address without one."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx2
import pytest

from tests.conftest import ROOT
from tests.mcp.conftest import OFFLINE, http_session, run


@pytest.mark.slow
def test_http_transport_serves_the_same_tools_on_loopback(mcp_config, http_server):
    url = http_server(mcp_config())

    async def scenario():
        async with http_session(url) as client:
            tools = (await client.session.list_tools()).tools
            assert "alma_retrieve" in {t.name for t in tools}
            fact = await client.call(
                "alma_add_knowledge",
                agent="victor",
                domain="api_patterns",
                fact="Orders are paginated with opaque cursors",
            )
            found = await client.call("alma_retrieve", task="paginate orders", agent="victor")
            assert found["memories"][0]["id"] == fact["id"]
            error = await client.fail("alma_retrieve", task="x", agent="victor", top_k=-1)
            assert "top_k" in error

    run(scenario)


@pytest.mark.slow
def test_http_transport_with_a_token_requires_the_bearer_header(mcp_config, http_server):
    url = http_server(mcp_config(), token="s3cret-token")

    async def scenario():
        async with http_session(url, token="s3cret-token") as client:
            health = await client.call("alma_health")
            assert health["status"] == "ok"

    run(scenario)
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in (None, "Bearer wrong-token"):
        sent = dict(headers, Authorization=auth) if auth else headers
        response = httpx2.post(url, json=request, headers=sent, timeout=10)
        assert response.status_code == 401, (auth, response.text)


def test_non_loopback_binding_without_a_token_is_refused(mcp_config):
    env = dict(os.environ, **OFFLINE)
    env.pop("ALMA_MCP_TOKEN", None)
    command = [sys.executable, "-m", "alma_app.mcp", "--config", str(mcp_config())]
    command += ["--transport", "http", "--host", "0.0.0.0"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error:") and "ALMA_MCP_TOKEN" in lines[0]
