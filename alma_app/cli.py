"""The `alma` command: set up a store, load the demo, search, export/import, forget, and start
the MCP server or the dashboard. Every command is one call into the core (ALMA, transfer).

Errors print one clear line (`error: ...`) to stderr and exit with status 1 (2 for usage errors).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from alma_app.config import AGENT_KEYS, SETTINGS, resolve_config_path
from alma_app.errors import AlmaError

ROOT = Path(__file__).resolve().parent.parent


def _open(args: argparse.Namespace):
    from alma_app.api import ALMA

    return ALMA.from_config(resolve_config_path(args.config))


def commented_config(project_id: str) -> str:
    """A config file with every setting documented (written by `alma init`)."""
    lines = [
        "# ALMA configuration. Every key is optional except project_id; defaults are shown.",
        "alma:",
        f"  # {SETTINGS['project_id'][1]}",
        f"  project_id: {project_id}",
        f"  # {SETTINGS['storage'][1]}",
        "  storage: lancedb",
        f"  # {SETTINGS['storage_dir'][1]}",
        "  storage_dir: store",
        f"  # {SETTINGS['embedding'][1]}",
        "  embedding: minilm",
        f"  # {SETTINGS['embedding_precision'][1]}",
        "  embedding_precision: auto",
        f"  # {SETTINGS['embedding_backend'][1]}",
        "  embedding_backend: auto",
        f"  # {SETTINGS['search_mirror'][1]}",
        "  search_mirror: true",
        f"  # {SETTINGS['strict_agents'][1]}",
        "  strict_agents: false",
        f"  # {SETTINGS['agents'][1]}",
        "  agents:",
        "    helena:",
    ]
    example = {
        "domain": "coding",
        "can_learn": "[testing_strategies, selector_patterns]",
        "cannot_learn": "[backend_logic]",
        "min_occurrences_for_heuristic": "2",
        "require_review": "false",
        "share_with": "[]",
    }
    for key, (_type, help_text) in AGENT_KEYS.items():
        lines.append(f"      # {help_text}")
        lines.append(f"      {key}: {example[key]}")
    return "\n".join(lines) + "\n"


def cmd_init(args: argparse.Namespace) -> int:
    path = resolve_config_path(args.config)
    if path.exists() and not args.force:
        print(f"error: {path} already exists (use --force to overwrite)", file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(commented_config(args.project_id), encoding="utf-8")
    print(f"wrote {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Create the sample config if there is none, then load the sample data (idempotent)."""
    from alma_app.sample import SAMPLE_DIR, load_sample_board, load_sample_memories

    path = resolve_config_path(args.config)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE_DIR / "config.yaml", path)
        print(f"wrote {path} from sample_data/config.yaml")
    alma = _open(args)
    added = load_sample_memories(alma)
    board = load_sample_board(alma)
    print(
        f"sample data: {added} memories and {board} work items/handoffs added; "
        f"store holds {alma.stats()['total']} memories"
    )
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    stats = _open(args).stats(agent=args.agent)
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"project {stats['project_id']}: {stats['total']} memories, {stats['pending']} pending")
    for name, per_type in sorted(stats["by_agent_and_type"].items()):
        counts = ", ".join(f"{t} {n}" for t, n in per_type.items() if n)
        print(f"  {name}: {counts}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    hits = _open(args).search(
        args.query,
        agent=args.agent,
        memory_type=args.type,
        status=args.status,
        limit=args.limit,
        mode=args.mode,
    )
    if args.json:
        from alma_app.memory.records import to_plain

        print(json.dumps([to_plain(m) for m in hits], indent=2, ensure_ascii=False))
        return 0
    if not hits:
        print("no memories match")
        return 0
    for m in hits:
        total = f"{m.score.total:.3f}" if m.score else "  -  "
        line = f"{total}  {m.TYPE:<16} {m.agent or '-':<10} {m.status:<8} {m.summary()}"
        print(f"{line}  [{m.id}]")
    return 0


def _agent_ids(alma, agents: list[str]) -> list[str]:
    """Ids of every memory of the given agents (for an export of several agents)."""
    ids: list[str] = []
    for agent in agents:
        offset = 0
        while True:
            page = alma.list_memories(agent=agent, limit=5000, offset=offset)
            ids.extend(m.id for m in page.items)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                break
    return ids


def cmd_export(args: argparse.Namespace) -> int:
    from alma_app.memory.transfer import write_export

    fmt = args.format or ("parquet" if Path(args.out).suffix == ".parquet" else "jsonl")
    alma = _open(args)
    agents = args.agent or []
    filters = {"memory_type": args.type, "status": args.status}
    if len(agents) == 1:
        filters["agent"] = agents[0]
    ids = _agent_ids(alma, agents) if len(agents) > 1 else None
    count = write_export(
        alma, args.out, fmt, ids, include_embeddings=not args.no_embeddings, **filters
    )
    print(f"exported {count} memories to {args.out} ({fmt})")
    return 0


class ProgressBar:
    """A textual progress bar on stderr: redrawn in place on a terminal, one line per step
    otherwise (logs, CI)."""

    def __init__(self, label: str, width: int = 30) -> None:
        self.label, self.width = label, width
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        filled = self.width * done // total if total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{self.label} [{bar}] {done}/{total}"
        end = "\n" if not self.tty or done >= total else ""
        print(("\r" if self.tty else "") + line, end=end, file=sys.stderr, flush=True)


def cmd_import(args: argparse.Namespace) -> int:
    from alma_app.memory.transfer import import_records, read_located_records

    located = read_located_records(args.file)
    alma = _open(args)
    count = import_records(
        alma,
        [record for _, record in located],
        locations=[where for where, _ in located],
        progress=ProgressBar("importing"),
    )
    print(f"imported {count} memories from {args.file}; store holds {alma.stats()['total']}")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    result = _open(args).forget(
        agent=args.agent,
        older_than_days=args.older_than_days,
        min_confidence=args.min_confidence,
        dry_run=args.dry_run,
        actor="cli",
    )
    for item in result.items:
        m = item.memory
        print(f"{item.reason:<14} {m.TYPE:<16} {m.agent or '-':<10} {m.summary()}  [{m.id}]")
    if result.dry_run:
        print(f"would forget {result.count} memories (dry run: nothing removed)")
    else:
        print(f"forgot {result.count} memories (archived; restorable from the dashboard)")
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    from alma_app.mcp.server import serve

    return serve(args)


def cmd_ui(args: argparse.Namespace) -> int:
    env = dict(os.environ, ALMA_CONFIG=str(resolve_config_path(args.config)))
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "streamlit_app.py"),
        "--server.address",
        args.address,
        "--server.port",
        str(args.port),
    ]
    return subprocess.call(command, env=env)


class Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line, like every other error of the command."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from alma_app.mcp.options import add_arguments as add_mcp_arguments
    from alma_app.memory.search import MODES
    from alma_app.memory.transfer import FORMATS
    from alma_app.memory.types import MEMORY_TYPES, STATUSES

    parser = Parser(prog="alma", description="ALMA: memory for AI agents.")
    parser.add_argument("--config", help="config file (default: $ALMA_CONFIG or .alma/config.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        p.add_argument("--config", default=argparse.SUPPRESS, help="config file")
        return p

    p = add("init", cmd_init, "write a commented .alma/config.yaml")
    p.add_argument("--project-id", default="my-project", help="project id to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    add("demo", cmd_demo, "load the bundled sample data (idempotent)")
    p = add("stats", cmd_stats, "memory counts per agent, type and status")
    p.add_argument("--agent", help="only this agent")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = add("search", cmd_search, "hybrid search over memories, with score breakdowns")
    p.add_argument("query", help="text to search for")
    p.add_argument("--agent", help="only this agent's memories")
    p.add_argument("--type", choices=MEMORY_TYPES, help="only this memory type")
    p.add_argument("--status", choices=STATUSES, help="only this status (default: any)")
    p.add_argument("--limit", type=int, default=10, help="at most N results (default 10)")
    p.add_argument("--mode", choices=MODES, default="hybrid", help="ranking (default hybrid)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = add("export", cmd_export, "write memories to a JSONL or Parquet file")
    p.add_argument("--out", required=True, help="file to write")
    p.add_argument("--format", choices=FORMATS, help="default: from the file suffix, else jsonl")
    p.add_argument(
        "--no-embeddings", action="store_true", help="leave vectors out (recomputed on import)"
    )
    p.add_argument("--agent", action="append", help="only this agent (repeat for several)")
    p.add_argument("--type", choices=MEMORY_TYPES, help="only this memory type")
    p.add_argument("--status", choices=STATUSES, help="only this status")
    p = add("import", cmd_import, "load memories from an export (same ids are replaced)")
    p.add_argument("file", help="a .jsonl or .parquet file written by `alma export`")
    p = add("forget", cmd_forget, "archive stale or low-confidence memories")
    p.add_argument("--agent", help="only this agent")
    p.add_argument(
        "--older-than-days", type=float, default=90, help="staleness age in days (default 90)"
    )
    p.add_argument(
        "--min-confidence", type=float, help="forget below this (default: decay.forget_threshold)"
    )
    p.add_argument("--dry-run", action="store_true", help="list what would go; remove nothing")
    p = add("mcp", cmd_mcp, "serve the MCP tools (stdio by default)")
    add_mcp_arguments(p, config=False)
    p = add("ui", cmd_ui, "start the dashboard")
    p.add_argument("--address", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    from alma_app.doctor import command as cmd_doctor

    add("doctor", cmd_doctor, "check that the configured store is reachable and writable")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AlmaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
