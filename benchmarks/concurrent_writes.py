"""Single-write latency with 1, 2 and 4 writer processes on one store (local disk by default).

Each writer is a separate process (as separate hosts or agents would be) with its own ALMA on
the same store; all start together and write back to back with `add_domain_knowledge` (the
near-duplicate check, the memory and its event: a real single write, hashing embedder so the
model does not dominate). Prints p50/p95/max per writer count and writes
benchmarks/results/concurrent_writes-<label>.json.

Run: `.venv/bin/python benchmarks/concurrent_writes.py [--writes 60] [--label after]`.
`--src DIR` runs the writers against another copy of the code (e.g. an older commit exported
with `git archive <rev> alma_app store | tar -x -C DIR`) to measure "before".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

WRITER = textwrap.dedent(
    """
    import json, sys, time
    from alma_app import ALMA
    store, name, count, start_at, threads, every = sys.argv[1:7]
    alma = ALMA(project_id="bench", storage_dir=store, embedding="hashing",
                compact_every=int(every))
    alma.add_domain_knowledge(name, "bench", f"{name} warm-up write")
    def write(i):
        t0 = time.perf_counter()
        alma.add_domain_knowledge(name, "bench", f"{name} fact number {i} about topic {i * 7919}")
        return (time.perf_counter() - t0) * 1000
    while time.time() < float(start_at):
        time.sleep(0.005)
    if int(threads) > 1:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(int(threads)) as pool:
            latencies = list(pool.map(write, range(int(count))))
    else:
        latencies = [write(i) for i in range(int(count))]
    print(json.dumps(latencies))
    """
)


def run(writers: int, writes: int, src: Path, threads: int, every: int) -> list[list[float]]:
    """Latencies (ms) of each writer's writes, all writers starting at the same moment."""
    env = dict(os.environ, PYTHONPATH=str(src), HF_HUB_OFFLINE="1")
    with tempfile.TemporaryDirectory(prefix="alma-cw-") as tmp:
        store = str(Path(tmp) / "store")
        init = (
            "import sys; from alma_app import ALMA; "
            "ALMA(project_id='bench', storage_dir=sys.argv[1], embedding='hashing')"
            ".add_domain_knowledge('init', 'bench', 'first memory')"
        )
        subprocess.run([sys.executable, "-c", init, store], env=env, check=True)
        start_at = time.time() + 6.0  # time for every process to import and warm up
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, store, f"w{n}"]
                + [str(a) for a in (writes, start_at, threads, every)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(writers)
        ]
        latencies: list[list[float]] = []
        for proc in procs:
            out, err = proc.communicate(timeout=900)
            if proc.returncode != 0:
                raise SystemExit(f"writer failed:\n{err[-3000:]}")
            latencies.append(json.loads(out.strip().splitlines()[-1]))
        return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=60, help="writes per writer process")
    parser.add_argument("--writers", default="1,2,4", help="writer process counts")
    parser.add_argument("--threads", type=int, default=1, help="threads per writer process")
    parser.add_argument("--compact-every", type=int, default=256, help="the setting")
    parser.add_argument("--label", default="current", help="name of this run in the results")
    parser.add_argument("--src", type=Path, default=ROOT, help="code the writers import")
    args = parser.parse_args()
    rows = []
    print(
        f"{args.label}: {args.writes} writes per process, {args.threads} thread(s) each, "
        f"compact_every={args.compact_every}"
    )
    print(f"{'writers':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'writes/s':>9}")
    for writers in [int(w) for w in args.writers.split(",")]:
        per_writer = run(writers, args.writes, args.src, args.threads, args.compact_every)
        lat = [ms for writer in per_writer for ms in writer]
        elapsed_s = max(sum(writer) for writer in per_writer) / 1000 / args.threads
        row = {
            "writers": writers,
            "p50_ms": float(np.percentile(lat, 50)),
            "p95_ms": float(np.percentile(lat, 95)),
            "p99_ms": float(np.percentile(lat, 99)),
            "max_ms": float(np.max(lat)),
            "writes_per_s": len(lat) / max(elapsed_s, 1e-9),
        }
        rows.append(row)
        print(
            f"{writers:>8} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['p99_ms']:>8.1f} "
            f"{row['max_ms']:>8.1f} "
            f"{row['writes_per_s']:>9.1f}",
            flush=True,
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"concurrent_writes-{args.label}.json"
    settings = {"threads": args.threads, "writes": args.writes, "compact_every": args.compact_every}
    out.write_text(json.dumps({"label": args.label, **settings, "rows": rows}))


if __name__ == "__main__":
    main()
