"""Retrieve and write latency on a local directory vs Azure Blob Storage (Azurite), with the
number of storage requests each operation makes.

Azurite runs on this machine, so its round trips cost well under a millisecond; a real region
costs ~5-30 ms per request. The requests-per-operation column (counted from Azurite's debug
log) is what carries over: the `@20ms` column estimates latency at a 20 ms round trip as
measured + requests × 20 ms (an upper bound: Lance issues some requests in parallel).
Rows compare the read-consistency settings: LanceDB re-checking the table version on every read
(interval 0) against this project's default for object stores (a 1 s interval, with explicit
checks where freshness matters; see docs/scaling.md).

Run: `.venv/bin/python benchmarks/objectstore.py [--memories 1000] [--ops 40]`. Prints a table
and writes benchmarks/results/objectstore.json. Needs Azurite (`.ci/run` installs it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alma_app import ALMA, HashingEmbedder  # noqa: E402
from alma_store import lance_store  # noqa: E402
from benchmarks.workload import make_memories, make_queries  # noqa: E402
from tests.objectstore import azurite as emulator  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
RTT_MS = 20.0
DEFAULT_INTERVAL = lance_store.OBJECT_STORE_CONSISTENCY


def timed(op: Callable[[int], object], count: int, requests: Callable[[], int]) -> dict:
    """p50/p95 of `count` calls of op(i), and storage requests per call."""
    latencies = []
    before = requests()
    for i in range(count):
        started = time.perf_counter()
        op(i)
        latencies.append((time.perf_counter() - started) * 1000)
    per_op = (requests() - before) / count
    p50 = float(np.percentile(latencies, 50))
    return {
        "p50_ms": p50,
        "p95_ms": float(np.percentile(latencies, 95)),
        "requests_per_op": per_op,
        "at_rtt_ms": p50 + per_op * RTT_MS,
    }


def measure(alma: ALMA, ops: int, requests: Callable[[], int]) -> dict[str, dict]:
    queries = make_queries(ops, seed=7)
    alma.retrieve(*queries[0])  # warm: table handles, FTS index, DuckDB
    rows = {
        "retrieve (new query)": timed(lambda i: alma.retrieve(*queries[i]), ops, requests),
        "retrieve (repeated)": timed(lambda i: alma.retrieve(*queries[0]), ops, requests),
        "single write": timed(
            lambda i: alma.add_domain_knowledge("bench", "testing", f"benchmark fact {i} {i**3}"),
            ops,
            requests,
        ),
        "list_memories page": timed(lambda i: alma.list_memories(limit=50), ops, requests),
    }
    alma.store.wait_for_maintenance()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=1000, help="memories in each store")
    parser.add_argument("--ops", type=int, default=40, help="calls timed per operation")
    args = parser.parse_args()
    embedder = HashingEmbedder()  # the model's cost is the same everywhere; storage is measured
    memories = make_memories(args.memories)
    workdir = tempfile.mkdtemp(prefix="alma-objbench-")
    azurite = emulator.start(debug_log=str(Path(workdir) / "azurite-debug.log"))
    results: dict[str, dict[str, dict]] = {}
    try:
        backends = {
            "local directory": (str(Path(workdir) / "store"), {}, None),
            "azurite, interval 0": ("azure0", azurite.storage_options(), timedelta(0)),
            "azurite, default": ("azure1", azurite.storage_options(), None),
        }
        for name, (where, options, interval) in backends.items():
            uri = where if not options else azurite.create_container(where) + "/store"
            # the object-store default, swapped for this row (no setting exposes it)
            lance_store.OBJECT_STORE_CONSISTENCY = (
                DEFAULT_INTERVAL if interval is None else interval
            )
            alma = ALMA(
                project_id="bench", storage_dir=uri, storage_options=options, embedder=embedder
            )
            alma.add_memories(memories)
            alma.compact()
            counter = azurite.requests if options else (lambda: 0)
            results[name] = measure(alma, args.ops, counter)
            alma.close()
            print(f"measured {name}", flush=True)
    finally:
        azurite.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    header = f"{'backend':<22} {'operation':<22} {'p50 ms':>7} {'p95 ms':>7} {'req/op':>7}"
    print(f"\n{args.memories} memories, {args.ops} calls each\n{header} {'@20ms':>7}")
    for backend, rows in results.items():
        for op, r in rows.items():
            print(
                f"{backend:<22} {op:<22} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} "
                f"{r['requests_per_op']:>7.1f} {r['at_rtt_ms']:>7.0f}"
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "objectstore.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
