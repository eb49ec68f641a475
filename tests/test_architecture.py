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
        bad = imported_modules(path) & {"store", "alma_store", "lancedb", "duckdb", "lance"}
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


# ---------------------------------------------------------------- the house (issue 16)

PACKAGES = {"alma_app": ROOT / "alma_app", "store": ROOT / "store", "alma_store": ROOT / "store"}
MAX_LINES = 400  # a module past this is split by responsibility (STYLE.md, principle 10)
# Not the core: the facade, the front ends beside the dashboard (CLI, MCP server, the harness,
# a client of ALMA like the CLI), the UI, and the compatibility paths (re-exports).
FRONT = {"alma_app.api", "alma_app.cli"}
FRONT_PACKAGES = {"ui", "mcp", "harness"}
SHIMS = {"alma_app.types", "alma_app.progress", "alma_app.session", "alma_app.domains"}


def module_name(path: Path) -> str:
    """The dotted name of a file under alma_app/ or store/ (store/ under its folder's name)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def canonical(name: str) -> str:
    """`alma_store.x` and `store.x` are one module: the store/ folder's."""
    head, _, rest = name.partition(".")
    return "store" + (f".{rest}" if rest else "") if head == "alma_store" else name


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Line numbers inside `if TYPE_CHECKING:` blocks (imports for annotations only)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of alma_app and store it imports (at any depth, in functions too,
    not under `if TYPE_CHECKING:`), relative imports and `from pkg import submodule` resolved."""
    paths = {module_name(p): p for p in [*files("alma_app"), *files("store")]}
    known = set(paths)
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                targets.update(canonical(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = canonical(node.module or "")
                for alias in node.names:  # a submodule, else a name the module defines
                    sub = f"{module}.{alias.name}"
                    targets.add(sub if sub in known else module)
        graph[name] = {_owner(t, known) for t in targets if _owner(t, known)} - {name}
    return graph


def _owner(target: str, known: set[str]) -> str:
    """The known module a dotted import target names (its longest known prefix), or ""."""
    parts = target.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in known:
            return candidate
    return ""


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_graph_builder_sees_what_it_must():
    graph = import_graph()
    assert "alma_app.memory.repository" in graph["alma_app.memory.search"]
    assert "store" in graph["alma_app.memory.repository"]  # `import store as st`
    assert "alma_app.memory.scoring" in graph["alma_app.memory.search"]  # from pkg import mod
    assert canonical("alma_store.schemas") == "store.schemas"
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_among_alma_app_and_store_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_core_module_imports_the_facade_the_ui_or_streamlit():
    for path in files("alma_app"):
        name = module_name(path)
        parts = name.split(".")
        if FRONT_PACKAGES & set(parts) or name in FRONT | SHIMS or path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            for target in names:
                bad = (
                    target.split(".")[0] == "streamlit"
                    or target in ("alma_app.api",)
                    or (target.startswith(("alma_app.api.", "alma_app.ui")))
                )
                assert not bad, f"{name} imports {target} (line {node.lineno})"


def test_no_module_in_alma_app_is_over_the_size_bound():
    for path in files("alma_app"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (> {MAX_LINES})"


# What each layer of the core may import (the house's picture; front ends, the facade and
# the UI sit above and may import any of it).
GROUND = {"errors", "config", "checks", "values", "decay", "embeddings", "onnx_minilm"}
GROUND |= {"events", "context", "tables"}
MAY_IMPORT = {
    "ground": {"ground", "store"},
    "memory": {"ground", "memory", "store"},
    "board": {"ground", "board", "store"},
    "sessions": {"ground", "memory", "board", "sessions", "store"},
}


def layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "store":
        return "store"
    if len(parts) > 1 and parts[1] in GROUND:
        return "ground"
    if len(parts) > 1 and parts[1] in MAY_IMPORT:
        return parts[1]
    return None


def test_each_layer_of_the_core_imports_only_what_lies_below_it():
    for module, targets in import_graph().items():
        allowed = MAY_IMPORT.get(layer(module) or "")
        if allowed is None:
            continue
        for target in targets:
            assert layer(target) in allowed, f"{module} imports {target}"
