"""The ALMA MCP server, built on the official MCP Python SDK (mcp 2.x, `MCPServer`).

    python -m alma_app.mcp --config .alma/config.yaml                    # stdio (default)
    python -m alma_app.mcp --transport http --port 8765                  # streamable HTTP

Over HTTP the server binds 127.0.0.1 unless told otherwise. It refuses to bind any other address
unless a token is set in $ALMA_MCP_TOKEN; with a token, every request must carry
`Authorization: Bearer <token>` (checked by the SDK's bearer-auth middleware).
"""

from __future__ import annotations

import argparse
import hmac
import os
import sys
from collections.abc import Sequence

import anyio
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

from alma_app.api import ALMA
from alma_app.config import resolve_config_path
from alma_app.errors import AlmaError, ConfigError
from alma_app.mcp.options import DEFAULT_HOST, DEFAULT_PORT, TOKEN_ENV, add_arguments, is_loopback
from alma_app.mcp.stdio import run_stdio
from alma_app.mcp.tools_memory import SERVER_VERSION, register_memory_tools
from alma_app.mcp.tools_work import register_work_tools

INSTRUCTIONS = (
    "ALMA is the agent's persistent memory. Call alma_retrieve before a task and put its prompt "
    "text in context; call alma_learn after it with the outcome. Work items and sessions keep "
    "track of what is being done across sessions."
)


class StaticTokenVerifier:
    """Accepts exactly one bearer token (compared in constant time)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._token.encode()):
            return AccessToken(token=token, client_id="alma-mcp-client", scopes=[])
        return None


def build_server(
    alma: ALMA,
    *,
    token: str | None = None,
    url: str = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}",
    log_level: str = "WARNING",
) -> MCPServer:
    """An MCPServer with every ALMA tool bound to `alma`; with a token, HTTP requires it."""
    auth_options: dict = {}
    if token:
        # The SDK's bearer middleware needs AuthSettings; no OAuth server is involved, so the
        # issuer is this server itself and no metadata routes are published.
        auth_options = {
            "auth": AuthSettings(issuer_url=url, resource_server_url=None),
            "token_verifier": StaticTokenVerifier(token),
        }
    server: MCPServer = MCPServer(
        "alma",
        title="ALMA memory",
        instructions=INSTRUCTIONS,
        version=SERVER_VERSION,
        log_level=log_level,  # type: ignore[arg-type]
        **auth_options,
    )
    register_memory_tools(server, alma)
    register_work_tools(server, alma)
    return server


def serve(args: argparse.Namespace) -> int:
    """Open the store named by args.config and serve until the client (or Ctrl-C) stops it.

    Raises ConfigError before opening anything when HTTP would bind a non-loopback address
    without a token.
    """
    token = os.environ.get(TOKEN_ENV) or None
    if args.transport == "http" and not is_loopback(args.host) and token is None:
        raise ConfigError(
            f"refusing to serve on {args.host} without a token: set {TOKEN_ENV} (clients then "
            "send 'Authorization: Bearer <token>') or bind 127.0.0.1",
            key="--host",
        )
    if not 0 < args.port < 65536:
        raise ConfigError(f"must be from 1 to 65535, got {args.port}", key="--port")
    alma = ALMA.from_config(resolve_config_path(args.config))
    try:
        if args.transport == "stdio":
            anyio.run(run_stdio, build_server(alma, log_level=args.log_level))
            return 0
        host = f"[{args.host}]" if ":" in args.host else args.host
        url = f"http://{host}:{args.port}"
        server = build_server(alma, token=token, url=url, log_level=args.log_level)
        auth = "bearer token required" if token else "no token (loopback only)"
        print(f"ALMA MCP server on {url}{args.path} ({auth})", file=sys.stderr, flush=True)
        server.run(
            "streamable-http", host=args.host, port=args.port, streamable_http_path=args.path
        )
        return 0
    finally:
        alma.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m alma_app.mcp", description="Serve ALMA's memory tools over MCP."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return serve(args)
    except AlmaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
