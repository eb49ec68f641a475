"""Dashboard benchmark: first-render time of the Memories page (and the others) at 100k memories.

Builds a store of N synthetic memories (benchmarks/workload.py, one in seven pending) through the
public API in batches, with the hashing embedder: rendering does not depend on embedding quality.
The store is kept under benchmarks/results/ and reused. Each page is rendered once to warm the
cached ALMA handle, then `AppTest.from_file(page).run()` is timed on fresh AppTests (a new
browser session's first render) and the median is printed; target for Memories: <= 1.5 s.
Run: `.venv/bin/python benchmarks/dashboard.py [--size 100000] [--runs 5]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alma_app import ALMA  # noqa: E402
from benchmarks.workload import make_memories  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PAGES = ["memories", "overview", "review", "export"]
BATCH = 5000


def build_store(size: int) -> Path:
    """A config over a store of `size` memories; reused when it already holds that many."""
    folder = RESULTS / f"dashboard-{size}"
    config = folder / "config.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    settings = {"project_id": "bench", "embedding": "hashing", "storage_dir": "store"}
    config.write_text(yaml.safe_dump({"alma": settings}))
    alma = ALMA.from_config(config)
    try:
        have = alma.stats()["total"]
        if have == size:
            return config
        if have:
            raise SystemExit(f"{folder} holds {have} memories, not {size}; delete it first")
        memories = make_memories(size)
        for i, memory in enumerate(memories):
            if i % 7 == 3:
                memory.status = "pending"
        started = time.perf_counter()
        for start in range(0, size, BATCH):
            alma.add_memories(memories[start : start + BATCH], actor="benchmark")
            done = min(start + BATCH, size)
            rate = done / (time.perf_counter() - started)
            print(f"\r  stored {done}/{size} ({rate:.0f}/s)", end="", flush=True)
        print()
        alma.compact()
    finally:
        alma.close()
    return config


def time_page(name: str, runs: int) -> list[float]:
    from streamlit.testing.v1 import AppTest

    path = str(ROOT / "pages" / f"{name}.py")
    warm = AppTest.from_file(path, default_timeout=300).run()
    if warm.exception:
        raise SystemExit(f"{name}: {warm.exception[0].value}")
    times = []
    for _ in range(runs):
        app = AppTest.from_file(path, default_timeout=300)
        started = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - started)
        if app.exception or app.error:
            raise SystemExit(f"{name}: {(app.exception or app.error)[0].value}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", default=",".join(PAGES))
    args = parser.parse_args()
    config = build_store(args.size)
    os.environ["ALMA_CONFIG"] = str(config)
    os.chdir(ROOT)
    results = {}
    print(f"first render at {args.size} memories (median of {args.runs}, after a warm-up):")
    for name in args.pages.split(","):
        times = time_page(name, args.runs)
        results[name] = {"median_s": statistics.median(times), "runs_s": times}
        print(f"  {name:<10} {statistics.median(times):6.3f} s  (min {min(times):.3f} s)")
    out = RESULTS / "dashboard.json"
    out.write_text(json.dumps({"size": args.size, "pages": results}, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
