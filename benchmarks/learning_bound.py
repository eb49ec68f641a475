"""How fast could ANY memory make the scripted agent of learning_curve.py succeed? A bound.

An ideal memory on the same world, stream and policy (benchmarks/learning_world.py): it knows
each task's family (no retrieval error, no cross-family advice), matches strategies exactly (no
embedding), and learns by the rules of alma_app/memory/learning.py, with the evidence functions
of alma_app/memory/evidence.py: a heuristic from `min_occurrences` successes that the record
supports, an anti-pattern from 2 failures that it supports, one retiring the other, and (with
`unlearn`) an anti-pattern retired by a success after which `still_fails` is False; with
`probation`, a heuristic also forms when the record says `likely_works` and is retired when a
failure leaves its counts no longer `likely_works`, and with `refusal` one failure whose error
`names_strategy` forms an anti-pattern (stop 15). The rules "reckless" form a heuristic from one
success and an anti-pattern from one failure, whatever the evidence. The gap between ours and
the ideal is what retrieval and matching cost; the ideal's own figures are what the policy and
the world allow.

Run: `.venv/bin/python benchmarks/learning_bound.py [--tasks 1000] [--seeds 7,8,9]`
(standard library + alma_app.memory.evidence; a second or two per run).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alma_app.memory.evidence import (
    laplace,
    likely_works,
    names_strategy,
    still_fails,
    supported,
)
from benchmarks.learning_curve import CHANGE_SHARE, change_figures, rate, summarise
from benchmarks.learning_world import (
    Task,
    build_world,
    change_world,
    make_stream,
    simulate,
)

Key = tuple[str, str, str]  # agent, family, strategy


@dataclass
class IdealMemory:
    """Exact buckets per (agent, family); rules as in alma_app.memory.learning."""

    min_occurrences: int = 2
    unlearn: bool = True
    reckless: bool = False
    probation: bool = False
    refusal: bool = False
    name: str = "ideal"
    family_of: dict[str, str] = field(default_factory=dict)  # task text -> family
    history: dict[Key, list[bool]] = field(default_factory=lambda: defaultdict(list))
    loose: dict[Key, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    heuristics: dict[Key, list[int]] = field(default_factory=dict)  # key -> [successes, uses]
    anti_patterns: set[Key] = field(default_factory=set)

    def advice(self, agent: str, task: str) -> tuple[list[tuple[str, str]], list[str]]:
        family = self.family_of[task]
        mine = [(k, v) for k, v in self.heuristics.items() if k[:2] == (agent, family)]
        mine.sort(key=lambda kv: -laplace(*kv[1]))
        avoid = [k[2] for k in self.anti_patterns if k[:2] == (agent, family)]
        return [(k[2], family) for k, _ in mine], avoid

    def supports(self, results: list[bool], value: bool) -> bool:
        return self.reckless or supported(results, value)

    def learn(self, task: Task, success: bool, strategy: str, error: str | None) -> None:
        key = (task.agent, task.family, strategy)
        results = self.history[key]
        results.append(success)
        counts = self.loose[key]  # successes, failures not yet behind a heuristic/anti-pattern
        if key in self.heuristics:
            self.heuristics[key][1] += 1
            self.heuristics[key][0] += success
            if self.probation and not likely_works(*self.heuristics[key]):
                del self.heuristics[key]
        elif success:
            counts[0] += 1
            needed = 1 if self.reckless else self.min_occurrences
            works = self.supports(results, True)
            works = works or (self.probation and likely_works(sum(results), len(results)))
            if counts[0] >= needed and works:
                # with probation, every success of the record counts (as the product's, whose
                # retired heuristics leave their outcomes free to form the next one)
                formed_from = sum(results) if self.probation else counts[0]
                self.heuristics[key] = [formed_from, len(results)]
                counts[0] = 0
                self.anti_patterns.discard(key)
        if success and self.unlearn and key in self.anti_patterns and not still_fails(results):
            self.anti_patterns.discard(key)
            counts[1] = 0
        if not success and key not in self.anti_patterns:
            counts[1] += 1
            refused = self.refusal and names_strategy(error, strategy)
            refused = refused and not supported(results, True)
            if refused or (
                counts[1] >= (1 if self.reckless else 2) and self.supports(results, False)
            ):
                self.anti_patterns.add(key)
                counts[1] = 0
                self.heuristics.pop(key, None)


def run(memory: IdealMemory, tasks: int, seed: int, change: bool) -> dict:
    world = build_world(seed)
    if change:
        change_world(world)
    stream = make_stream(world, tasks, seed)
    memory.family_of = {t.text: t.family for t in stream}
    change_at = int(CHANGE_SHARE * tasks) if change else None
    rows = simulate(memory, world, stream, change_at=change_at)["rows"]
    oracle = simulate(None, world, stream, change_at=change_at, oracle=True)["rows"]
    out = summarise({"rows": rows}, oracle, world)
    out["oracle_last_200"] = round(rate(oracle, tasks - 200, tasks), 3)
    if change_at is not None:
        out |= change_figures(rows, oracle, change_at, "deployer")
    return out


RULES = {
    "min_occurrences 3, no unlearning (main before)": dict(min_occurrences=3, unlearn=False),
    "min_occurrences 2 + unlearning (stop 14)": dict(min_occurrences=2, unlearn=True),
    "+ probation, min_occurrences 1 (stop 15)": dict(min_occurrences=1, probation=True),
    "+ probation + refusal by name (stop 15, product)": dict(
        min_occurrences=1, probation=True, refusal=True
    ),
    "reckless: 1 success / 1 failure, no evidence": dict(reckless=True, unlearn=False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--seeds", default="7,8,9,10,11")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"ideal memory, {args.tasks} tasks; per seed {seeds}")
    for name, options in RULES.items():
        plain = [run(IdealMemory(**options), args.tasks, s, False) for s in seeds]
        moved = [run(IdealMemory(**options), args.tasks, s, True) for s in seeds]
        print(f"\n{name}")
        cells = {
            "oracle, last 200": [p["oracle_last_200"] for p in plain],
            "success, last 200": [p["last_200"] for p in plain],
            "tasks until 90% of the oracle": [p["tasks_to_90pct_oracle"] for p in plain],
            "regret": [p["regret"] for p in plain],
            "change: changed families, first 50 after": [
                m["changed_families_after_first_50"] for m in moved
            ],
            "change: changed families, last 50": [
                m["changed_families_after_last_50"] for m in moved
            ],
            "change: success, first 100 after": [m["after_first_100"] for m in moved],
        }
        for label, values in cells.items():
            print(f"  {label:44}" + "".join(f"{'—' if v is None else v:>8}" for v in values))


if __name__ == "__main__":
    main()
