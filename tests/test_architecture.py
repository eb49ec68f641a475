"""Imports flow one way: pages → alma_app.ui → alma_app → store, never back up."""

from __future__ import annotations

import ast
from pathlib import Path

import alma_app

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_pages_never_touch_the_store_or_databases():
    for path in [*files("pages"), ROOT / "streamlit_app.py"]:
        bad = imported_modules(path) & {"store", "lancedb", "duckdb", "lance"}
        assert not bad, f"{path.name} imports {bad}"


def test_core_never_imports_streamlit_outside_ui():
    for path in files("alma_app"):
        if "ui" in path.relative_to(ROOT / "alma_app").parts:
            continue
        assert "streamlit" not in imported_modules(path), path


def test_only_the_store_imports_lancedb_and_duckdb():
    for path in files("alma_app") + files("pages"):
        assert not imported_modules(path) & {"lancedb", "duckdb", "lance"}, path


def test_store_never_imports_the_core():
    for path in files("store"):
        assert "alma_app" not in imported_modules(path), path


def test_the_public_surface_is_explicit():
    for name in alma_app.__all__:
        assert hasattr(alma_app, name), name
    for name in (
        "ALMA",
        "Heuristic",
        "Outcome",
        "UserPreference",
        "DomainKnowledge",
        "AntiPattern",
        "MemorySlice",
        "AlmaError",
    ):
        assert name in alma_app.__all__
