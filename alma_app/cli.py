"""The `alma` command: set up a store, load the demo, inspect it, start the dashboard.

Errors print one clear line to stderr and exit with status 1 (2 for usage errors).
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
        "min_occurrences_for_heuristic": "3",
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
    from alma_app.sample import SAMPLE_DIR, load_sample_memories

    path = resolve_config_path(args.config)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE_DIR / "config.yaml", path)
        print(f"wrote {path} from sample_data/config.yaml")
    alma = _open(args)
    added = load_sample_memories(alma)
    print(f"sample data: {added} memories added; store holds {alma.stats()['total']}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alma", description="ALMA: memory for AI agents.")
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
    p = add("ui", cmd_ui, "start the dashboard")
    p.add_argument("--address", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AlmaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
