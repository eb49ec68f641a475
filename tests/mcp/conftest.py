"""Start the real MCP server as a subprocess and talk to it with the SDK's own clients."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.conftest import AGENTS, ROOT

OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
CALL_TIMEOUT_S = 120  # the first call with the real model loads it


@pytest.fixture
def mcp_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config for the server: mcp_config(embedding="hashing", **agent overrides)."""

    def write(embedding: str = "hashing", agents: dict[str, Any] | None = None) -> Path:
        path = tmp_path / ".alma" / "config.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "project_id": "mcp-test",
            "storage_dir": "store",
            "embedding": embedding,
            "agents": agents or AGENTS,
        }
        path.write_text(yaml.safe_dump({"alma": body}))
        return path

    return write


class Client:
    """A ClientSession with helpers that unwrap tool results."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session

    async def call(self, name: str, **arguments: Any) -> Any:
        """Call a tool that must succeed; returns its structured result."""
        result = await self.session.call_tool(name, arguments)
        assert not result.is_error, f"{name} failed: {self.text(result)}"
        assert result.structured_content is not None, f"{name} returned no structured content"
        return result.structured_content

    async def fail(self, name: str, **arguments: Any) -> str:
        """Call a tool that must answer with a tool error; returns the error text."""
        result = await self.session.call_tool(name, arguments)
        assert result.is_error, f"{name} should have failed, got {result.structured_content}"
        return self.text(result)

    @staticmethod
    def text(result: Any) -> str:
        return "\n".join(getattr(block, "text", "") for block in result.content)


@asynccontextmanager
async def stdio_session(config: Path, log: Path, *, via_cli: bool = False) -> AsyncIterator[Client]:
    """The server as `python -m alma_app.mcp --config <config>` (or `alma mcp`) over stdio."""
    if via_cli:
        command, args = str(Path(sys.executable).parent / "alma"), ["mcp"]
    else:
        command, args = sys.executable, ["-m", "alma_app.mcp"]
    params = StdioServerParameters(
        command=command,
        args=[*args, "--config", str(config)],
        env=OFFLINE,
        cwd=str(ROOT),
    )
    with log.open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT_S) as session,
        ):
            await session.initialize()
            yield Client(session)


@asynccontextmanager
async def http_session(url: str, token: str | None = None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT_S) as session,
    ):
        await session.initialize()
        yield Client(session)


def run(scenario: Callable[[], Any], timeout: float = 240) -> None:
    """Run an async scenario with an overall deadline, so a stuck server fails the test."""

    async def bounded() -> None:
        with anyio.fail_after(timeout):
            await scenario()

    anyio.run(bounded)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start `python -m alma_app.mcp --transport http` on a free loopback port; returns its URL."""
    processes: list[subprocess.Popen] = []

    def start(config: Path, token: str | None = None) -> str:
        port = free_port()
        env = dict(os.environ, **OFFLINE)
        env.pop("ALMA_MCP_TOKEN", None)
        if token:
            env["ALMA_MCP_TOKEN"] = token
        log = tmp_path / f"http-{port}.log"
        command = [sys.executable, "-m", "alma_app.mcp", "--config", str(config)]
        command += ["--transport", "http", "--port", str(port)]
        with log.open("w") as out:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        processes.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"server exited: {log.read_text()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return f"http://127.0.0.1:{port}/mcp"
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"server did not listen on {port}: {log.read_text()}")

    yield start
    for proc in processes:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)
