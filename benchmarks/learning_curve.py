"""Do agents get better? A learning curve of the whole loop: retrieve, act, learn.

A seeded world (benchmarks/learning_world.py: 4 agents, 24 task families, strategies that
usually work, usually fail, or always fail with a telling error) and a stream of tasks phrased
in ever new words. One scripted agent (follow the best retrieved heuristic that is a candidate,
avoid retrieved anti-patterns, else explore) runs the same stream with:
- ours: ALMA through its public API (retrieve, the slice's fields, learn), MiniLM;
- alma-memory 0.11.0 in .venv-peer (quickstart wiring, same MiniLM weights),
  via benchmarks/learning_curve_peer.py;
- no memory (always explores) and the oracle (always the best strategy).
Variants, ours (and, with the job peer-change, the original): require_review with a reviewer
approving after REVIEW_DELAY tasks; a long calendar (DAYS_PER_TASK per task through the
injectable clock alma_app.types.set_clock, confidence decay and a monthly forget()); and a
mid-stream change of which strategy works for one agent (at 60% of the stream).
Each system runs in a process of its own, side by side (--jobs picks them; --reuse keeps the
finished runs of the same stream under benchmarks/results/learning_curve_runs/).

Prints success per window, tasks until 80% / 90% of the oracle (100-task windows), regret,
traps repeated after their anti-pattern was retrieved, heuristics per family (duplicates, wrong
ones), cross-family first heuristics and latencies; writes benchmarks/results/learning_curve.json
and learning_curve.html (plotly).

Run: `.venv/bin/python benchmarks/learning_curve.py [--tasks 1000] [--seed 7] [--quick]
[--jobs ours,peer,review,calendar,change,peer-change] [--reuse]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alma_app import ALMA, MiniLMEmbedder  # noqa: E402
from alma_app.types import set_clock  # noqa: E402
from benchmarks.learning_world import (  # noqa: E402
    AGENTS,
    Task,
    World,
    build_world,
    change_world,
    latency,
    make_stream,
    simulate,
)

RESULTS = ROOT / "benchmarks" / "results"
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
WINDOW = 100
REVIEW_DELAY = 25  # tasks between a memory turning up pending and the reviewer approving it
DAYS_PER_TASK = 0.5  # the long calendar: 1,000 tasks span 500 days
CHANGE_SHARE = 0.6


class OurMemory:
    """Our ALMA; each agent declares its families as the categories it learns."""

    name = "ours"

    def __init__(self, root: Path, embedder: MiniLMEmbedder, *, review: bool = False) -> None:
        agents = {
            a: {"can_learn": list(spec["families"]), "require_review": review}
            for a, spec in AGENTS.items()
        }
        self.alma = ALMA(
            project_id="curve", storage_dir=str(root / "store"), agents=agents, embedder=embedder
        )

    def advice(self, agent: str, task: str) -> tuple[list[tuple[str, str]], list[str]]:
        got = self.alma.retrieve(task, agent=agent, top_k=5)
        return [(h.strategy, h.task_type) for h in got.heuristics], [
            a.pattern for a in got.anti_patterns
        ]

    def learn(self, task: Task, success: bool, strategy: str, error: str | None) -> None:
        self.alma.learn(
            task.agent,
            task.text,
            "success" if success else "failure",
            strategy,
            task_type=task.family,
            error_message=error,
        )

    def heuristics(self) -> list[dict[str, Any]]:
        page = self.alma.list_memories(memory_type="heuristic", limit=10000)
        return [
            {"agent": h.agent, "family": h.task_type, "strategy": h.strategy, "status": h.status}
            for h in page.items
        ]

    def anti_patterns(self) -> list[dict[str, Any]]:
        page = self.alma.list_memories(memory_type="anti_pattern", limit=10000)
        return [
            {"agent": a.agent, "family": a.task_type, "strategy": a.pattern} for a in page.items
        ]


class Reviewer:
    """Approves every pending memory REVIEW_DELAY tasks after it first turned up."""

    def __init__(self, alma: ALMA) -> None:
        self.alma = alma
        self.first_seen: dict[str, int] = {}

    def __call__(self, task: Task) -> None:
        if task.index % 5:
            return
        pending = self.alma.list_memories(status="pending", limit=1000).items
        for memory in pending:
            self.first_seen.setdefault(memory.id, task.index)
        due = [m.id for m in pending if task.index - self.first_seen[m.id] >= REVIEW_DELAY]
        if due:
            self.alma.approve(due, reviewer="reviewer")


class Calendar:
    """Advances a simulated clock DAYS_PER_TASK per task and runs forget() every 30 days."""

    def __init__(self, alma: ALMA) -> None:
        self.alma = alma
        self.start = datetime(2026, 1, 1, tzinfo=UTC)
        self.now = self.start
        self.forgotten = 0
        self.last_forget = 0

    def clock(self) -> datetime:
        return self.now

    def __call__(self, task: Task) -> None:
        self.now = self.start + timedelta(days=task.index * DAYS_PER_TASK)
        day = int(task.index * DAYS_PER_TASK)
        if day - self.last_forget >= 30:
            self.last_forget = day
            self.forgotten += self.alma.forget(actor="calendar").count


def run_ours(
    world: World,
    stream: list[Task],
    embedder: MiniLMEmbedder,
    *,
    change_at: int | None = None,
    review: bool = False,
    calendar: bool = False,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="alma-curve-") as tmp:
        memory = OurMemory(Path(tmp), embedder, review=review)
        hook, previous = None, None
        cal = None
        if review:
            hook = Reviewer(memory.alma)
        if calendar:
            cal = hook = Calendar(memory.alma)
            previous = set_clock(cal.clock)
        try:
            result = simulate(memory, world, stream, change_at=change_at, before_task=hook)
            result["heuristics"] = memory.heuristics()
            result["anti_patterns"] = memory.anti_patterns()
        finally:
            if calendar:
                set_clock(previous)
            memory.alma.close()
        if cal is not None:
            result["forgotten"] = cal.forgotten
    return result


def run_peer(tasks: int, seed: int, change_at: int | None) -> dict[str, Any]:
    """The original in its own venv; {"fatal": ...} when it cannot run."""
    if not PEER_PYTHON.exists():
        return {"fatal": f"no {PEER_PYTHON} (run benchmarks/vs_alma_memory.py once to make it)"}
    with tempfile.TemporaryDirectory(prefix="alma-curve-peer-") as tmp:
        spec, out = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec.write_text(json.dumps({"tasks": tasks, "seed": seed, "change_at": change_at}))
        proc = subprocess.run(
            [str(PEER_PYTHON), str(ROOT / "benchmarks" / "learning_curve_peer.py"), spec, out],
            capture_output=True,
            text=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
        )
        if out.exists():
            return json.loads(out.read_text())
        return {"fatal": proc.stderr[-2000:]}


# ---------------------------------------------------------------------- figures


def rate(rows: list[dict[str, Any]], lo: int, hi: int) -> float:
    part = rows[lo:hi]
    return sum(r["success"] for r in part) / len(part) if part else 0.0


def tasks_until(rows: list[dict], oracle: list[dict], share: float, start: int = 0) -> int | None:
    """Tasks after `start` until the success over the last WINDOW tasks (all after start, at
    most WINDOW) reaches `share` of the oracle's over the same tasks."""
    for end in range(start + 20, len(rows) + 1):
        lo = max(start, end - WINDOW)
        target = share * rate(oracle, lo, end)
        if rate(rows, lo, end) >= target:
            return end - start
    return None


def summarise(result: dict[str, Any], oracle: list[dict], world: World) -> dict[str, Any]:
    if "rows" not in result:
        return {"fatal": result.get("fatal", "no rows")}
    rows = result["rows"]
    n = len(rows)
    families = {f.name: f for f in world.families}

    def role(name: str) -> dict[str, float]:
        """Success rates at the end of the stream (after a change, if the world has one)."""
        return world.probs(families[name], after_change=True)

    out: dict[str, Any] = {
        "windows": [round(rate(rows, lo, lo + WINDOW), 3) for lo in range(0, n, WINDOW)],
        "last_200": round(rate(rows, n - 200, n), 3),
        "tasks_to_80pct_oracle": tasks_until(rows, oracle, 0.8),
        "tasks_to_90pct_oracle": tasks_until(rows, oracle, 0.9),
        "regret": round(sum(r["best"] - r["expected"] for r in rows), 1),
        "traps": sum(r["trap"] for r in rows),
        "traps_after_anti_pattern": sum(r["trap_known"] for r in rows),
        "told_use_and_avoid": sum(r["told_both"] for r in rows),
        "held_out_success": round(
            sum(r["success"] for r in rows if r["held_out"])
            / max(1, sum(r["held_out"] for r in rows)),
            3,
        ),
    }
    firsts = [r for r in rows if r["first_family"] is not None]
    out["cross_family_first"] = sum(r["first_family"] != r["family"] for r in firsts)
    out["cross_family_first_share"] = round(out["cross_family_first"] / n, 3)
    if "heuristics" in result:
        hs = result["heuristics"]
        keys = Counter((h["agent"], h["family"], h["strategy"]) for h in hs)
        wrong = [
            h
            for h in hs
            if h["family"] in families and role(h["family"]).get(h["strategy"], 0.0) < 0.5
        ]
        out["heuristics"] = {
            "total": len(hs),
            "families_with_one": len({(a, f) for a, f, _ in keys}),
            "duplicates": sum(c - 1 for c in keys.values()),
            "wrong_strategy": len(wrong),
            "unknown_family": sum(h["family"] not in families for h in hs),
        }
    if "anti_patterns" in result:
        aps = result["anti_patterns"]
        out["anti_patterns"] = {
            "total": len(aps),
            "on_good_strategies": sum(
                role(a["family"]).get(a["strategy"], 0.0) >= 0.5
                for a in aps
                if a["family"] in families
            ),
        }
    out["latency"] = {op: latency(v) for op, v in result.get("times", {}).items()}
    for key in ("failed_calls", "forgotten"):
        if key in result:
            out[key] = result[key]
    return out


def change_figures(rows: list[dict], oracle: list[dict], change_at: int, agent: str) -> dict:
    n = len(rows)
    hit = {r["i"] for r in rows if r["family"] in AGENTS[agent]["families"]}
    after = [r for r in rows[change_at:] if r["i"] in hit]
    return {
        "before_100": round(rate(rows, change_at - 100, change_at), 3),
        "after_first_100": round(rate(rows, change_at, change_at + 100), 3),
        "after_last_100": round(rate(rows, n - 100, n), 3),
        "back_to_80pct_oracle_after": tasks_until(rows, oracle, 0.8, start=change_at),
        "changed_families_after_first_50": round(
            sum(r["success"] for r in after[:50]) / max(1, len(after[:50])), 3
        ),
        "changed_families_after_last_50": round(
            sum(r["success"] for r in after[-50:]) / max(1, len(after[-50:])), 3
        ),
    }


def print_table(title: str, summaries: dict[str, dict[str, Any]]) -> None:
    print(f"\n== {title}")
    names = list(summaries)
    print(f"{'':34}" + "".join(f"{n[:22]:>24}" for n in names))
    keys = [k for k in summaries[names[0]] if k not in ("windows", "latency")]
    width = max(len(s.get("windows", [])) for s in summaries.values())
    for w in range(width):
        cells = [s.get("windows", [None] * width)[w] for s in summaries.values()]
        print(f"{f'success, tasks {w * WINDOW}-{(w + 1) * WINDOW}':34}" + fmt(cells))
    for key in keys:
        print(f"{key:34}" + fmt([s.get(key) for s in summaries.values()]))
    for op in ("retrieve", "learn"):
        cells = [
            (lambda lat: f"{lat['p50_ms']} / {lat['p95_ms']}" if lat.get("n") else None)(
                s.get("latency", {}).get(op, {})
            )
            for s in summaries.values()
        ]
        print(f"{op + ' p50 / p95 (ms)':34}" + fmt(cells))


def fmt(cells: list[Any]) -> str:
    return "".join(f"{'—' if c is None else str(c)[:22]:>24}" for c in cells)


def write_chart(curves: dict[str, list[dict]], path: Path, change_at: int | None) -> None:
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, rows in curves.items():
        xs = list(range(50, len(rows) + 1, 10))
        ys = [rate(rows, x - 50, x) for x in xs]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name))
    if change_at is not None:
        fig.add_vline(x=change_at, line_dash="dot", annotation_text="world changes (variant)")
    fig.update_layout(
        title="Success rate over the last 50 tasks",
        xaxis_title="task",
        yaxis_title="success rate",
        yaxis_range=[0, 1],
    )
    fig.write_html(str(path), include_plotlyjs=True)  # readable offline


JOBS = ("ours", "peer", "review", "calendar", "change", "peer-change")


def run_job(job: str, tasks: int, seed: int, change_at: int) -> dict[str, Any]:
    """One system on one stream (run in a process of its own, see main)."""
    if job in ("peer", "peer-change"):
        return run_peer(tasks, seed, change_at if job == "peer-change" else None)
    world = build_world(seed)
    if job == "change":
        change_world(world)
    stream = make_stream(world, tasks, seed)
    embedder = MiniLMEmbedder()
    embedder.model()
    return run_ours(
        world,
        stream,
        embedder,
        change_at=change_at if job == "change" else None,
        review=job == "review",
        calendar=job == "calendar",
    )


def launch(jobs: list[str], args: argparse.Namespace, runs: Path) -> None:
    """Run the jobs side by side, each in its own process writing runs/<job>.json: on a busy
    machine they share the CPU better, and a finished job survives an interrupted run."""
    procs = []
    for job in jobs:
        cmd = [sys.executable, __file__, "--job", job, "--tasks", str(args.tasks)]
        cmd += ["--seed", str(args.seed), "--runs", str(runs)]
        procs.append((job, subprocess.Popen(cmd, stdout=subprocess.DEVNULL)))
    for job, proc in procs:
        proc.wait()
        print(f"  {job}: {'done' if proc.returncode == 0 else f'failed ({proc.returncode})'}")


def load(runs: Path, job: str, tasks: int, seed: int) -> dict[str, Any] | None:
    path = runs / f"{job}.json"
    if not path.exists():
        return None
    result = json.loads(path.read_text())
    return result if (result.get("tasks"), result.get("seed")) == (tasks, seed) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="300 tasks, ours only, no variants")
    parser.add_argument("--jobs", default=",".join(JOBS), help=f"any of {', '.join(JOBS)}")
    parser.add_argument("--reuse", action="store_true", help="keep finished runs of this stream")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=Path, default=RESULTS / "learning_curve_runs")
    args = parser.parse_args()
    if args.quick:
        args.tasks, args.jobs = 300, "ours"
    change_at = int(CHANGE_SHARE * args.tasks)
    if args.job:  # a child: one run, written for the parent
        result = run_job(args.job, args.tasks, args.seed, change_at)
        result |= {"tasks": args.tasks, "seed": args.seed}
        args.runs.mkdir(parents=True, exist_ok=True)
        (args.runs / f"{args.job}.json").write_text(json.dumps(result))
        return
    jobs = [j for j in args.jobs.split(",") if j]
    todo = [j for j in jobs if not (args.reuse and load(args.runs, j, args.tasks, args.seed))]
    print(f"{args.tasks} tasks, seed {args.seed}; running {', '.join(todo) or 'nothing'}…")
    launch(todo, args, args.runs)
    report(args, jobs, change_at)


def report(args: argparse.Namespace, jobs: list[str], change_at: int) -> None:
    world, changed = build_world(args.seed), build_world(args.seed)
    change_world(changed)
    stream = make_stream(world, args.tasks, args.seed)
    runs = {j: load(args.runs, j, args.tasks, args.seed) for j in jobs}
    runs = {j: r for j, r in runs.items() if r is not None}
    oracle = simulate(None, world, stream, oracle=True)
    main_runs = {"oracle": oracle, "no memory": simulate(None, world, stream)}
    names = {"ours": "ours", "peer": "alma-memory 0.11.0"}
    main_runs |= {names[j]: runs[j] for j in ("ours", "peer") if j in runs}
    rows = oracle["rows"]
    main_summary = {k: summarise(v, rows, world) for k, v in main_runs.items()}
    print_table(f"main stream: {args.tasks} tasks, seed {args.seed}", main_summary)
    out: dict[str, Any] = {"tasks": args.tasks, "seed": args.seed, "main": main_summary}
    curves = {k: v["rows"] for k, v in main_runs.items() if "rows" in v}

    variants: dict[str, dict[str, Any]] = {}
    for job, name in (("review", "ours, require_review"), ("calendar", "ours, long calendar")):
        if job in runs:
            variants[name] = summarise(runs[job], rows, world)
            curves[name] = runs[job].get("rows", [])
    if "change" in runs or "peer-change" in runs:
        c_stream = make_stream(changed, args.tasks, args.seed)
        c_runs = {
            "oracle, change": simulate(None, changed, c_stream, change_at=change_at, oracle=True),
            "no memory, change": simulate(None, changed, c_stream, change_at=change_at),
        }
        c_runs |= {
            name: runs[job]
            for job, name in (("change", "ours, change"), ("peer-change", "alma-memory, change"))
            if job in runs
        }
        c_rows = c_runs["oracle, change"]["rows"]
        for name, res in c_runs.items():
            variants[name] = summarise(res, c_rows, changed)
            if "rows" in res:
                variants[name] |= change_figures(res["rows"], c_rows, change_at, "deployer")
                if not name.startswith("oracle"):
                    curves[name] = res["rows"]
    if variants:
        print_table(f"variants (change at task {change_at}, deployer's families)", variants)
        out["variants"] = variants
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "learning_curve.json").write_text(json.dumps(out, indent=2))
    write_chart(curves, RESULTS / "learning_curve.html", change_at if "change" in runs else None)
    print(f"\nwrote {RESULTS / 'learning_curve.json'} and learning_curve.html")


if __name__ == "__main__":
    main()
