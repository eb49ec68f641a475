"""500 mixed learn() calls with the real model: how many heuristics and anti-patterns form
compared with how many distinct strategies the workload used, and learn() latency.

The workload: 2 agents x 3 task types; per task type 3 good strategies (succeed 90% of the time)
and 2 bad ones (always fail, with the bad strategy's typical error). Every strategy is written
in its base wording, one hand-written paraphrase and templated variants. An ideal learner makes
one heuristic per good strategy and one anti-pattern per bad one (a good strategy's rare failures
may also reach the 2 needed for an anti-pattern; those are counted apart).

Run: .venv/bin/python benchmarks/learning_mix.py [--calls 500] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# task type -> (agent, tasks, good strategies, bad strategies); each strategy: (base, paraphrase)
WORKLOAD: dict[str, tuple[str, list[str], list[tuple[str, str]], list[tuple[str, str, str]]]] = {
    "form_validation": (
        "helena",
        ["Test the signup form", "Check the checkout form errors", "Verify the address form"],
        [
            ("test each field's validation one at a time", "check every form field separately"),
            (
                "submit the form empty and assert every error message",
                "send a blank form and verify all the validation messages",
            ),
            (
                "use boundary values for length-limited fields",
                "try values right at the min and max length limits",
            ),
        ],
        [
            (
                "only test the happy path with valid data",
                "just check the form with correct input",
                "missed the required-field bug",
            ),
            (
                "assert on the exact pixel position of error labels",
                "check error labels by their screen coordinates",
                "layout changed, test broke",
            ),
        ],
    ),
    "selector_patterns": (
        "helena",
        ["Pick selectors for the login page", "Locate the cart buttons", "Find the menu items"],
        [
            (
                "select elements by their data-testid attribute",
                "locate elements using data-testid hooks",
            ),
            (
                "locate elements by accessible role and name",
                "find elements through their ARIA role and label",
            ),
            (
                "scope selectors inside a stable parent container",
                "search for elements within a fixed parent section",
            ),
        ],
        [
            (
                "copy absolute XPath selectors from devtools",
                "paste the full XPath path the browser generates",
                "NoSuchElement after a redesign",
            ),
            (
                "select elements by auto-generated CSS class names",
                "target the hashed CSS module class names",
                "class names changed on rebuild",
            ),
        ],
    ),
    "testing_strategies": (
        "helena",
        ["Write tests for the dashboard", "Stabilise the e2e suite", "Test the search page"],
        [
            (
                "wait explicitly for elements before interacting",
                "add explicit waits until elements are ready",
            ),
            (
                "reset the database with fixtures before each test",
                "restore a clean seeded database for every test",
            ),
            (
                "mock the third-party payment API in tests",
                "stub out the external payment service during tests",
            ),
        ],
        [
            (
                "use hard-coded sleep calls to wait for the page",
                "pause with fixed sleeps until the page loads",
                "flaky timeouts in CI",
            ),
            (
                "make tests depend on the order they run in",
                "rely on earlier tests to set up state for later ones",
                "fails when run alone",
            ),
        ],
    ),
    "api_patterns": (
        "victor",
        ["Design the orders endpoint", "Add the users API", "Expose the reports endpoint"],
        [
            (
                "paginate large result sets with cursor tokens",
                "use cursor-based pagination for big responses",
            ),
            ("version the API in the URL path", "put the API version number in the route"),
            ("return RFC 7807 problem details for errors", "send errors as problem+json documents"),
        ],
        [
            (
                "return every record in one unpaginated response",
                "send the whole table back in a single reply",
                "response timed out at 30s",
            ),
            (
                "put secrets in query string parameters",
                "pass API keys in the URL query",
                "keys leaked into access logs",
            ),
        ],
    ),
    "database_queries": (
        "victor",
        ["Speed up the report query", "Fix the slow order lookup", "Query monthly totals"],
        [
            (
                "add a composite index on the filtered columns",
                "create a multi-column index covering the WHERE clause",
            ),
            (
                "use parameterized queries instead of string formatting",
                "bind query parameters rather than building SQL strings",
            ),
            (
                "batch inserts in transactions of a thousand rows",
                "group inserts into transactions of about 1000 rows",
            ),
        ],
        [
            (
                "run one query per row in a loop",
                "issue a separate query for every item (N+1)",
                "took 40 seconds for 2000 rows",
            ),
            (
                "wrap indexed columns in functions in the WHERE clause",
                "apply functions to indexed columns inside the filter",
                "full table scan",
            ),
        ],
    ),
    "error_handling": (
        "victor",
        ["Handle payment failures", "Make the sync job robust", "Deal with upstream outages"],
        [
            (
                "retry transient errors with exponential backoff",
                "back off exponentially and retry temporary failures",
            ),
            (
                "make handlers idempotent with request keys",
                "use idempotency keys so repeated requests are safe",
            ),
            (
                "add a circuit breaker around the flaky upstream",
                "wrap the unreliable dependency in a circuit breaker",
            ),
        ],
        [
            (
                "catch every exception and ignore it",
                "swallow all exceptions silently",
                "data loss went unnoticed",
            ),
            (
                "retry failed calls immediately in a tight loop",
                "retry instantly without any delay, again and again",
                "overloaded the upstream",
            ),
        ],
    ),
}
TEMPLATES = ["{s}", "I decided to {s}", "{s}, as before", "Approach: {s}", "Mainly {s}"]


def build_workload(calls: int, rng: random.Random) -> list[dict]:
    pool = []
    for task_type, (agent, tasks, good, bad) in WORKLOAD.items():
        for base, para in good:
            pool.append((agent, task_type, tasks, base, para, None))
        for base, para, error in bad:
            pool.append((agent, task_type, tasks, base, para, error))
    out = []
    for _ in range(calls):
        agent, task_type, tasks, base, para, error = rng.choice(pool)
        wording = para if rng.random() < 0.3 else base
        strategy = rng.choice(TEMPLATES).format(s=wording)
        good = error is None
        success = good and rng.random() < 0.9
        out.append(
            {
                "agent": agent,
                "task": f"{rng.choice(tasks)} (ticket {rng.randint(100, 999)})",
                "outcome": "success" if success else "failure",
                "strategy_used": strategy[0].upper() + strategy[1:],
                "task_type": task_type,
                "error_message": (error or "intermittent failure") if not success else None,
                "base": base,
                "good": good,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--similarity", type=float, default=None, help="strategy_similarity")
    args = parser.parse_args()

    import torch

    from alma_app import ALMA, MiniLMEmbedder

    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    work = build_workload(args.calls, rng)
    agents = {
        "helena": {"can_learn": ["form_validation", "selector_patterns", "testing_strategies"]},
        "victor": {"can_learn": ["api_patterns", "database_queries", "error_handling"]},
    }
    embedder = MiniLMEmbedder()
    embedder.model()
    with tempfile.TemporaryDirectory() as tmp:
        options = {} if args.similarity is None else {"strategy_similarity": args.similarity}
        alma = ALMA(
            project_id="bench",
            storage_dir=f"{tmp}/store",
            agents=agents,
            embedder=embedder,
            **options,
        )
        threshold = alma.settings.strategy_similarity
        print(f"strategy_similarity: {threshold}")
        base_of: dict[str, str] = {}
        latencies = []
        started = time.perf_counter()
        for call in work:
            t = time.perf_counter()
            result = alma.learn(
                call["agent"],
                call["task"],
                call["outcome"],
                call["strategy_used"],
                task_type=call["task_type"],
                error_message=call["error_message"],
            )
            latencies.append((time.perf_counter() - t) * 1000)
            base_of[result.outcome.id] = call["base"]
        total_s = time.perf_counter() - started
        heuristics = alma.list_memories(memory_type="heuristic", limit=1000).items
        antis = alma.list_memories(memory_type="anti_pattern", limit=1000).items
        alma.close()

    good = {c["base"] for c in work if c["good"]}
    bad = {c["base"] for c in work if not c["good"]}
    success_counts = Counter(c["base"] for c in work if c["outcome"] == "success")

    def bases(memory) -> Counter:
        return Counter(base_of[i] for i in memory.source_outcome_ids if i in base_of)

    def summarise(memories, name: str, expected: set[str], text) -> None:
        per_base: dict[str, list[str]] = defaultdict(list)
        mixed = 0
        for m in memories:
            counted = bases(m)
            per_base[counted.most_common(1)[0][0]].append(text(m))
            mixed += len(counted) > 1
        covered = expected & set(per_base)
        dupes = sum(len(t) - 1 for t in per_base.values() if len(t) > 1)
        others = sum(len(t) for b, t in per_base.items() if b not in expected)
        pair_sims = []
        for texts in per_base.values():
            if len(texts) > 1:
                vectors = embedder.embed(texts)
                sims = vectors @ vectors.T
                pair_sims += [float(sims[i, j]) for i in range(len(texts)) for j in range(i)]
        print(
            f"{name}: {len(memories)} for {len(expected)} distinct strategies "
            f"(covered {len(covered)}, duplicates {dupes}, from other strategies {others}, "
            f"mixing strategies {mixed})"
        )
        if pair_sims:
            print(
                f"  duplicates' strategy similarity to each other: max {max(pair_sims):.2f}, "
                f"median {statistics.median(pair_sims):.2f} (threshold {threshold})"
            )

    print(f"workload: {len(work)} learn() calls, 2 agents, {len(WORKLOAD)} task types")
    print(
        f"distinct strategies: {len(good | bad)} ({len(good)} good, {len(bad)} bad); "
        f"{sum(c['outcome'] == 'success' for c in work)} successes, "
        f"{sum(c['outcome'] == 'failure' for c in work)} failures; "
        f"good strategies with >= 3 successes: {sum(success_counts[b] >= 3 for b in good)}"
    )
    summarise(heuristics, "heuristics", good, lambda h: h.strategy)
    summarise(antis, "anti-patterns", bad, lambda a: a.pattern)
    with_alternative = sum(1 for a in antis if a.better_alternative)
    print(f"anti-patterns with a better_alternative: {with_alternative}/{len(antis)}")
    q = statistics.quantiles(latencies, n=100)
    print(
        f"learn() latency ms: p50 {statistics.median(latencies):.1f}, p95 {q[94]:.1f}, "
        f"max {max(latencies):.1f}; total {total_s:.1f}s ({args.threads} torch thread(s))"
    )


if __name__ == "__main__":
    main()
