"""Core benchmark: retrieve latency at 1k / 10k / 100k memories, single writes, single learn(),
forget, bulk ingest, the dashboard's Memories page first render, peak RSS.

Every figure uses the real MiniLM model. Building the 100k store needs 100k embeddings (~2.5
minutes on 2 cores in bfloat16, ~6-7 in float32); they are cached under benchmarks/results/, one
file per precision, so later runs skip that step.
Prints a table and writes benchmarks/results/core.json. Run: `make bench` or
`.venv/bin/python benchmarks/core.py [--sizes 1000,10000,100000]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.peer_runner import use_checkout

use_checkout(str(Path(__file__).resolve().parent.parent))  # this checkout's alma_store

from alma_app import ALMA, DomainKnowledge, MiniLMEmbedder  # noqa: E402
from benchmarks.workload import (  # noqa: E402
    ACTIONS,
    AREAS,
    PROBLEMS,
    TASK_TYPES,
    TECHNIQUES,
    make_memories,
    make_queries,
)

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cached_vectors(texts: list[str], embedder: MiniLMEmbedder) -> np.ndarray:
    """Embeddings of the synthetic corpus, computed once and kept under results/."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"corpus-{len(texts)}-{embedder.precision}.npy"
    if path.exists():
        vectors = np.load(path)
        if vectors.shape == (len(texts), embedder.dim):
            return vectors
    print(f"embedding {len(texts)} memories with MiniLM (cached for next time)…", flush=True)
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    step = 2048
    started = time.perf_counter()
    for start in range(0, len(texts), step):
        vectors[start : start + step] = embedder.embed(texts[start : start + step])
        done = min(start + step, len(texts))
        rate = done / (time.perf_counter() - started)
        print(f"\r  {done}/{len(texts)} ({rate:.0f}/s)", end="", flush=True)
    print()
    np.save(path, vectors)
    return vectors


def bench_bulk_ingest(embedder: MiniLMEmbedder, root: Path, count: int = 2000) -> float:
    """Memories/s through the public API: embedding and storing, in batches of 500."""
    alma = ALMA(project_id="bench", storage_dir=str(root / "ingest"), embedder=embedder)
    memories = make_memories(count, seed=7)
    started = time.perf_counter()
    for start in range(0, count, 500):
        alma.add_memories(memories[start : start + 500], actor="bench")
    elapsed = time.perf_counter() - started
    alma.close()
    return count / elapsed


def build_store(size: int, memories, vectors, embedder, root: Path) -> ALMA:
    alma = ALMA(
        project_id="bench",
        storage_dir=str(root / f"store-{size}"),
        embedder=embedder,
        compact_every=10_000,
    )
    batch = 5000
    for start in range(0, size, batch):
        chunk = memories[start : start + batch]
        alma.repo.insert(chunk, actor="bench", vectors=vectors[start : start + len(chunk)])
    alma.compact()
    return alma


def bench_retrieve(alma: ALMA, queries: list[tuple[str, str]]) -> tuple[list[float], list[float]]:
    """The questions right after the store is built (10 warm-ups first), then the same
    questions worded anew (uncached embeddings): the first pass shares the machine with the
    mirror's background preparation of a freshly loaded store, the second shows it settled."""
    for task, agent in queries[:10]:  # warm caches and the index
        alma.retrieve(task + " warmup", agent=agent)
    passes: list[list[float]] = []
    for suffix in ("", " (asked again)"):
        times = []
        for task, agent in queries:
            started = time.perf_counter()
            alma.retrieve(task + suffix, agent=agent, top_k=5)
            times.append((time.perf_counter() - started) * 1000)
        passes.append(times)
    return passes[0], passes[1]


def bench_single_writes(alma: ALMA, count: int = 200) -> list[float]:
    rng = random.Random(3)
    times = []
    for i in range(count):
        fact = f"benchmark fact {i}: service {rng.randint(1, 999)} answers in {rng.random():.3f}s"
        started = time.perf_counter()
        alma.add_domain_knowledge("agent-0", "performance", fact)
        times.append((time.perf_counter() - started) * 1000)
    return times


def bench_raw_writes(alma: ALMA, count: int = 200) -> list[float]:
    """One memory per add_memories() call: embed, store, log the event (no duplicate check)."""
    times = []
    for i in range(count):
        memory = DomainKnowledge(
            agent="agent-1",
            domain="performance",
            fact=f"raw fact {i}: cache {i * 3} expires after {i % 60} min",
        )
        started = time.perf_counter()
        alma.add_memories([memory])
        times.append((time.perf_counter() - started) * 1000)
    return times


def bench_retrieve_after_write(alma: ALMA, queries: list[tuple[str, str]]) -> list[float]:
    """Retrieves each right after a write (an agent learns, then starts its next task): the
    store has a new version, so caches miss and the search mirror reads the new fragment."""
    times = []
    for i, (task, agent) in enumerate(queries[:50]):
        alma.add_memories(
            [DomainKnowledge(agent=agent, domain="performance", fact=f"fresh fact {i}: {task}")]
        )
        started = time.perf_counter()
        alma.retrieve(task + " (after a write)", agent=agent, top_k=5)
        times.append((time.perf_counter() - started) * 1000)
    return times


def bench_learn(alma: ALMA, count: int = 100) -> list[float]:
    """learn() on a populated store: embed, store the outcome, look for similar strategies."""
    rng = random.Random(5)
    times = []
    for i in range(count):
        agent = f"agent-{i % 10}"
        task = f"{rng.choice(ACTIONS)} the {rng.choice(AREAS)} with {rng.choice(PROBLEMS)} ({i})"
        started = time.perf_counter()
        alma.learn(
            agent,
            task,
            rng.choice(["success", "failure"]),
            rng.choice(TECHNIQUES),
            task_type=rng.choice(TASK_TYPES),
        )
        times.append((time.perf_counter() - started) * 1000)
    return times


def bench_forget(alma: ALMA) -> dict[str, float]:
    """forget() over the whole store: a dry run, then the real one (archive + delete + events)."""
    started = time.perf_counter()
    dry = alma.forget(dry_run=True)
    dry_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    done = alma.forget()
    return {
        "forget_dry_run_ms": round(dry_ms, 1),
        "forget_ms": round((time.perf_counter() - started) * 1000, 1),
        "forgotten": done.count,
        "forgotten_dry_run": dry.count,
    }


def bench_dashboard(size: int, runs: int = 3) -> float:
    """Median first render of the Memories page (benchmarks/dashboard.py, its cached store)."""
    from benchmarks import dashboard

    previous = os.environ.get("ALMA_CONFIG")
    os.environ["ALMA_CONFIG"] = str(dashboard.build_store(size))
    cwd = os.getcwd()
    os.chdir(dashboard.ROOT)
    try:
        return statistics.median(dashboard.time_page("memories", runs))
    finally:
        os.chdir(cwd)
        if previous is None:
            os.environ.pop("ALMA_CONFIG", None)
        else:
            os.environ["ALMA_CONFIG"] = previous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--dashboard-size",
        type=int,
        default=100_000,
        help="memories in the store the Memories page renders (0 to skip)",
    )
    parser.add_argument("--out", default=str(RESULTS / "core.json"), help="the JSON written")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    embedder = MiniLMEmbedder()
    embedder.model()
    memories = make_memories(max(sizes), seed=1)
    vectors = cached_vectors([m.text() for m in memories], embedder)
    queries = make_queries(args.queries, seed=2)
    root = Path(tempfile.mkdtemp(prefix="alma-bench-"))
    results: dict[str, object] = {
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "embedding_precision": embedder.precision,
        "sizes": {},
    }
    try:
        print("bulk ingest (embed + store, public API)…", flush=True)
        results["bulk_ingest_per_s"] = round(bench_bulk_ingest(embedder, root), 1)
        for size in sizes:
            print(f"building the {size}-memory store…", flush=True)
            started = time.perf_counter()
            alma = build_store(size, memories[:size], vectors[:size], embedder, root)
            build_s = time.perf_counter() - started
            times, settled = bench_retrieve(alma, queries)
            after_write = bench_retrieve_after_write(alma, queries)
            entry = {
                "build_s": round(build_s, 1),
                "retrieve_p50_ms": round(statistics.median(times), 2),
                "retrieve_p95_ms": round(percentile(times, 95), 2),
                "retrieve_again_p50_ms": round(statistics.median(settled), 2),
                "retrieve_again_p95_ms": round(percentile(settled, 95), 2),
                "retrieve_after_write_p50_ms": round(statistics.median(after_write), 2),
                "retrieve_after_write_p95_ms": round(percentile(after_write, 95), 2),
            }
            if size == sizes[min(1, len(sizes) - 1)]:
                writes = bench_single_writes(alma)
                results["single_write_p50_ms"] = round(statistics.median(writes), 2)
                results["single_write_p95_ms"] = round(percentile(writes, 95), 2)
                raw = bench_raw_writes(alma)
                results["raw_write_p50_ms"] = round(statistics.median(raw), 2)
                results["raw_write_p95_ms"] = round(percentile(raw, 95), 2)
                results["single_write_store_size"] = size
                learns = bench_learn(alma)
                results["learn_p50_ms"] = round(statistics.median(learns), 2)
                results["learn_p95_ms"] = round(percentile(learns, 95), 2)
                results.update(bench_forget(alma))
            results["sizes"][str(size)] = entry  # type: ignore[index]
            alma.close()
            print(f"  {size}: {entry}", flush=True)
        results["peak_rss_mb"] = round(peak_rss_mb(), 1)  # before the dashboard's own store
        if args.dashboard_size:
            print(f"dashboard Memories page at {args.dashboard_size} memories…", flush=True)
            results["memories_page_first_render_s"] = round(bench_dashboard(args.dashboard_size), 3)
            results["memories_page_store_size"] = args.dashboard_size
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print()
    print(
        f"{'memories':>10} | {'retrieve p50 ms':>15} | {'retrieve p95 ms':>15} | "
        f"{'asked again p50 / p95':>21} | {'after a write p50 / p95':>23}"
    )
    for size, entry in results["sizes"].items():  # type: ignore[union-attr]
        again = f"{entry['retrieve_again_p50_ms']} / {entry['retrieve_again_p95_ms']}"
        after = f"{entry['retrieve_after_write_p50_ms']} / {entry['retrieve_after_write_p95_ms']}"
        print(
            f"{size:>10} | {entry['retrieve_p50_ms']:>15} | {entry['retrieve_p95_ms']:>15} | "
            f"{again:>21} | {after:>23}"
        )
    print(
        f"raw write (add_memories, one memory) p50 {results.get('raw_write_p50_ms')} ms, "
        f"p95 {results.get('raw_write_p95_ms')} ms; "
        "add_domain_knowledge (with near-duplicate check) "
        f"p50 {results.get('single_write_p50_ms')} ms, "
        f"p95 {results.get('single_write_p95_ms')} ms "
        f"(store of {results.get('single_write_store_size')})"
    )
    print(
        f"learn() p50 {results.get('learn_p50_ms')} ms, p95 {results.get('learn_p95_ms')} ms; "
        f"forget {results.get('forget_ms')} ms for {results.get('forgotten')} memories "
        f"(dry run {results.get('forget_dry_run_ms')} ms)"
    )
    if "memories_page_first_render_s" in results:
        print(
            f"Memories page first render {results['memories_page_first_render_s']} s "
            f"({results['memories_page_store_size']} memories)"
        )
    print(
        f"bulk ingest {results['bulk_ingest_per_s']} memories/s; "
        f"peak RSS {results['peak_rss_mb']} MB"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
