"""What every tool module shares: the one place core errors become MCP tool errors, and the
annotated argument types (so the published input schemas carry descriptions and bounds)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from alma_app.errors import AlmaError, ValidationError


@contextmanager
def tool_errors() -> Iterator[None]:
    """Turn an AlmaError into a ToolError, which the SDK answers as an `isError` result.

    A ValidationError's message starts with the argument's name ("top_k: must be ..."), so the
    client sees which argument was wrong. Anything else is a bug: the SDK logs it and answers a
    generic tool error, and the server keeps serving.
    """
    try:
        yield
    except ValidationError as exc:
        raise ToolError(f"invalid argument {exc}") from exc
    except AlmaError as exc:
        raise ToolError(str(exc)) from exc


Agent = Annotated[str, Field(description="agent name, as configured in .alma/config.yaml")]
OptionalAgent = Annotated[str | None, Field(description="only this agent (default: all)")]
Ids = Annotated[list[str], Field(description="memory ids")]
