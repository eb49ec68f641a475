"""The stdio transport, with one guard the SDK lacks: a request whose JSON holds a lone surrogate
escape ("\\udcff", what a non-UTF-8 byte becomes in many clients) is answered at once.

The SDK parses each line with pydantic, which refuses such JSON; it then drops the line without
an answer and the client waits forever. Here such a line never reaches the SDK: a `tools/call`
gets a tool error naming the argument (as any invalid argument would), any other request a
JSON-RPC "invalid params" error, a notification nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from io import TextIOWrapper
from typing import Any

import anyio
import mcp_types as types
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage


def lone_surrogate_at(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) that is not valid Unicode, else None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "(value)"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            found = lone_surrogate_at(key, inner) or lone_surrogate_at(item, inner)
            if found:
                return found.encode("ascii", "backslashreplace").decode()
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = lone_surrogate_at(item, f"{path}[{i}]")
            if found:
                return found
    return None


def refusal(line: str) -> types.JSONRPCMessage | None:
    """The answer to a line with a lone surrogate; None when the line is fine (or not JSON)."""
    if "\\ud" not in line.lower():
        return None  # no surrogate escape; raw bytes were already decoded with replacement
    try:
        message = json.loads(line)
    except ValueError:
        return None  # the SDK reports what is not JSON
    if not isinstance(message, dict) or lone_surrogate_at(message) is None:
        return None
    request_id = message.get("id")
    if not isinstance(request_id, int | str) or lone_surrogate_at(request_id):
        return None  # a notification (or a broken id): nothing to answer
    params = message.get("params") if isinstance(message.get("params"), dict) else {}
    if message.get("method") == "tools/call" and isinstance(params.get("arguments"), dict):
        where = lone_surrogate_at(params["arguments"]) or "arguments"
        text = f"invalid argument {where}: is not valid Unicode (a lone surrogate)"
        result = types.CallToolResult(content=[types.TextContent(type="text", text=text)])
        result.is_error = True
        return types.JSONRPCResponse(
            jsonrpc="2.0", id=request_id, result=result.model_dump(by_alias=True, exclude_none=True)
        )
    where = lone_surrogate_at(params) or "params"
    error = types.ErrorData(
        code=types.INVALID_PARAMS, message=f"{where}: is not valid Unicode (a lone surrogate)"
    )
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error)


class GuardedStdin:
    """stdin as the SDK reads it (lines, UTF-8 with replacement), minus refused lines, whose
    answers go to `answers` once the transport is up."""

    def __init__(self) -> None:
        wrapper = TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
        self._lines = anyio.wrap_file(wrapper)
        self.send, self._pending = anyio.create_memory_object_stream[SessionMessage](100)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str]:
        async for line in self._lines:
            answer = refusal(line)
            if answer is None:
                yield line
            else:
                await self.send.send(SessionMessage(answer))

    async def forward(self, write_stream: Any) -> None:
        async with self._pending:
            async for message in self._pending:
                await write_stream.send(message)


async def run_stdio(server: MCPServer) -> None:
    """MCPServer.run_stdio_async with the lone-surrogate guard on stdin."""
    stdin = GuardedStdin()
    lowlevel = server._lowlevel_server  # the SDK's own run_stdio_async uses it the same way
    async with (
        stdio_server(stdin=stdin) as (read_stream, write_stream),  # type: ignore[arg-type]
        anyio.create_task_group() as tasks,
    ):
        tasks.start_soon(stdin.forward, write_stream)
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
        tasks.cancel_scope.cancel()
