"""The public surface does not change by accident: the documented imports, every public class's
methods with their signatures, and the MCP tool list with its schemas are compared to a snapshot
taken from the code before the house was restructured (tests/snapshots/public_surface.json).

A deliberate change to the surface regenerates the snapshot, and the diff is reviewed with it:

    ALMA_UPDATE_SNAPSHOT=1 python -m pytest tests/test_public_surface.py
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
import os
import re
from pathlib import Path
from typing import Any

import anyio
import pytest

from alma_app import ALMA
from alma_app.mcp.server import build_server
from tests.conftest import AGENTS

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "public_surface.json"
UPDATE = os.environ.get("ALMA_UPDATE_SNAPSHOT") == "1"

# Modules a user imports from, as the README and the original's README show them. A module with
# `__all__` is recorded by it; one without lists its documented names here.
MODULES: dict[str, tuple[str, ...] | None] = {
    "alma_app": None,
    "alma_app.progress": None,
    "alma_app.session": None,
    "alma_app.domains": None,
    "alma_app.types": (
        "AntiPattern",
        "DomainKnowledge",
        "Heuristic",
        "Memory",
        "MemoryPage",
        "MemorySlice",
        "Outcome",
        "ScoreBreakdown",
        "UserPreference",
        "new_id",
        "set_clock",
        "utcnow",
    ),
}

_SELF_ANNOTATION = re.compile(r"^\(self: '[^']*'")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def signature(obj: Any) -> str:
    """The signature as source text (annotations stay strings), without memory addresses and
    without an annotation on `self` (a mixin's `self: 'Host'` says nothing about the API)."""
    try:
        text = str(inspect.signature(obj))
    except (TypeError, ValueError):
        text = "(<no signature>)"
    return _SELF_ANNOTATION.sub("(self", _ADDRESS.sub("", text))


def members(cls: type) -> dict[str, str]:
    """Public members of a class, inherited ones included, except what builtins define."""
    found: dict[str, str] = {"<init>": signature(cls)}
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or owner.__module__ == "builtins":
            continue
        raw = vars(owner)[name]
        if isinstance(raw, property):
            found[name] = "property"
        elif isinstance(raw, classmethod):
            found[name] = "classmethod " + signature(getattr(cls, name))
        elif isinstance(raw, staticmethod):
            found[name] = "staticmethod " + signature(getattr(cls, name))
        elif inspect.isfunction(raw):
            found[name] = "method " + signature(raw)
        else:
            found[name] = "attribute"
    return found


def describe(obj: Any) -> Any:
    if inspect.isclass(obj):
        return {"class": members(obj)}
    if callable(obj):
        return {"function": signature(obj)}
    return {"value": type(obj).__name__}


def public_api() -> dict[str, Any]:
    api: dict[str, Any] = {}
    for module_name, listed in MODULES.items():
        module = importlib.import_module(module_name)
        names = listed if listed is not None else tuple(module.__all__)
        api[module_name] = {
            "__all__": sorted(module.__all__) if listed is None else None,
            "names": {name: describe(getattr(module, name)) for name in sorted(names)},
        }
    return api


def mcp_tools() -> dict[str, Any]:
    """The tool list as an MCP client receives it, read from the server object (no transport)."""
    alma = ALMA(project_id="snapshot", storage="memory", embedding="hashing", agents=AGENTS)
    try:
        tools = anyio.run(build_server(alma).list_tools)
    finally:
        alma.close()
    return {
        tool.name: {
            "title": tool.title,
            "description": tool.description,
            "input_schema": tool.input_schema,
            "output_schema": tool.output_schema,
        }
        for tool in sorted(tools, key=lambda t: t.name)
    }


def live_surface() -> dict[str, Any]:
    return {"public_api": public_api(), "mcp_tools": mcp_tools()}


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True) + "\n"


def test_public_api_and_mcp_tools_match_the_snapshot():
    live = live_surface()
    if UPDATE:
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(dump(live))
        pytest.skip(f"snapshot rewritten: {SNAPSHOT}")
    expected = json.loads(SNAPSHOT.read_text())
    for section in ("public_api", "mcp_tools"):
        want, got = dump(expected[section]), dump(live[section])
        diff = "".join(
            difflib.unified_diff(
                want.splitlines(keepends=True),
                got.splitlines(keepends=True),
                fromfile=f"snapshot {section}",
                tofile=f"live {section}",
            )
        )
        assert not diff, (
            f"the {section} changed (regenerate with ALMA_UPDATE_SNAPSHOT=1 if on purpose):\n"
            + diff
        )
