"""A deterministic synthetic workload: varied memories of every type over ten agents, and
realistic task queries. Shared by the benchmarks."""

from __future__ import annotations

import random
from datetime import timedelta

from alma_app.types import (
    AntiPattern,
    DomainKnowledge,
    Heuristic,
    Memory,
    Outcome,
    UserPreference,
    utcnow,
)

AGENTS = [f"agent-{i}" for i in range(10)]
AREAS = [
    "login form",
    "checkout page",
    "shopping cart",
    "search results",
    "user profile",
    "payment API",
    "orders endpoint",
    "inventory service",
    "email notifications",
    "admin dashboard",
    "password reset",
    "product catalogue",
    "shipping rates",
    "coupon codes",
    "session cookies",
    "image uploads",
    "audit log",
    "rate limiter",
    "recommendation widget",
    "invoice export",
]
ACTIONS = [
    "test",
    "debug",
    "refactor",
    "speed up",
    "document",
    "validate",
    "monitor",
    "secure",
    "migrate",
    "review",
]
TECHNIQUES = [
    "data-testid selectors",
    "explicit waits for network idle",
    "property-based tests",
    "contract tests",
    "database transactions",
    "idempotency keys",
    "exponential backoff",
    "EXPLAIN ANALYZE",
    "feature flags",
    "snapshot tests",
    "structured logging",
    "connection pooling",
    "read replicas",
    "cache headers",
    "input sanitisation",
    "canary releases",
    "fuzzing",
    "pagination cursors",
    "batch queries",
    "mock servers",
]
PROBLEMS = [
    "timeouts",
    "flaky assertions",
    "N+1 queries",
    "race conditions",
    "memory leaks",
    "stale caches",
    "missing indexes",
    "unicode bugs",
    "rounding errors",
    "deadlocks",
]
TASK_TYPES = [
    "testing_strategies",
    "api_patterns",
    "database_queries",
    "performance_tuning",
    "error_handling",
]


def make_memories(count: int, seed: int = 1) -> list[Memory]:
    rng = random.Random(seed)
    now = utcnow()
    out: list[Memory] = []
    for i in range(count):
        agent = AGENTS[(i // 5) % len(AGENTS)]  # every agent owns every kind of memory
        area, action = rng.choice(AREAS), rng.choice(ACTIONS)
        technique, problem = rng.choice(TECHNIQUES), rng.choice(PROBLEMS)
        task_type = rng.choice(TASK_TYPES)
        created = now - timedelta(days=rng.uniform(0, 200))
        kind = i % 5
        tag = f"#{i}"
        common = {"agent": agent, "created_at": created, "updated_at": created}
        if kind == 0:
            memory: Memory = Heuristic(
                condition=f"{action} the {area} when {problem} appear {tag}",
                strategy=f"use {technique} and check {rng.choice(AREAS)} first",
                task_type=task_type,
                confidence=rng.uniform(0.3, 1.0),
                occurrence_count=(uses := rng.randint(1, 20)),
                success_count=min(rng.randint(0, 10), uses),  # never more than it was used
                last_validated=created,
                **common,
            )
        elif kind == 1:
            memory = Outcome(
                task=f"{action} the {area} ({problem}) {tag}",
                task_type=task_type,
                success=rng.random() > 0.3,
                strategy_used=f"{technique} on the {area}",
                duration_ms=rng.randint(100, 90_000),
                timestamp=created,
                **common,
            )
        elif kind == 2:
            memory = UserPreference(
                user_id=f"user-{i % 7}",
                category=rng.choice(["style", "tools", "reports"]),
                preference=f"prefers {technique} when working on the {area} {tag}",
                timestamp=created,
                created_at=created,
                updated_at=created,
            )
        elif kind == 3:
            memory = DomainKnowledge(
                domain=task_type,
                fact=f"the {area} suffers from {problem}; {technique} helps {tag}",
                confidence=rng.uniform(0.3, 1.0),
                last_verified=created,
                **common,
            )
        else:
            memory = AntiPattern(
                pattern=f"skipping {technique} on the {area} {tag}",
                why_bad=f"it leads to {problem}",
                better_alternative=f"apply {technique}",
                task_type=task_type,
                occurrence_count=rng.randint(2, 9),
                last_seen=created,
                **common,
            )
        out.append(memory)
    return out


def make_queries(count: int, seed: int = 2) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [
        (
            f"{rng.choice(ACTIONS)} the {rng.choice(AREAS)} that has {rng.choice(PROBLEMS)} "
            f"using {rng.choice(TECHNIQUES)} (run {i})",
            rng.choice(AGENTS),
        )
        for i in range(count)
    ]
