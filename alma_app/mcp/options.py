"""The server's command-line options, shared by `python -m alma_app.mcp` and `alma mcp`.

Kept free of heavy imports so that `alma --help` stays fast.
"""

from __future__ import annotations

import argparse
import ipaddress

TOKEN_ENV = "ALMA_MCP_TOKEN"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
TRANSPORTS = ("stdio", "http")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def add_arguments(parser: argparse.ArgumentParser, *, config: bool = True) -> None:
    """Add --transport, --host, --port, --path, --log-level (and --config) to a parser."""
    if config:
        parser.add_argument(
            "--config", help="config file (default: $ALMA_CONFIG or .alma/config.yaml)"
        )
    parser.add_argument(
        "--transport", choices=TRANSPORTS, default="stdio", help="stdio (default) or http"
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"HTTP address to bind (default {DEFAULT_HOST}; any other needs ${TOKEN_ENV})",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT})"
    )
    parser.add_argument("--path", default="/mcp", help="HTTP endpoint path (default /mcp)")
    parser.add_argument(
        "--log-level", choices=LOG_LEVELS, default="WARNING", help="server log level (stderr)"
    )
