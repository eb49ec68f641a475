"""The seeded world and the scripted agent of benchmarks/learning_curve.py (standard library only).

Imported by learning_curve.py for our ALMA, the no-memory baseline and the oracle, and by
learning_curve_peer.py inside the original package's venv, so every system meets the same tasks,
the same random draws and the same policy; only the memory differs.

World: 4 agents, 6 task families each (24). A family offers 5 candidate strategies from its
agent's pool: one or two that usually work (WORKS), two that usually fail (FAILS) and one trap
that always fails with a telling error. Roles are drawn per family, so a strategy good in one
family is often bad or the trap in another of the same agent: advice from the wrong family hurts.
Every task is phrased afresh (templates, synonyms, entities, ticket noise); one template and one
subject wording per family are held out until HELD_OUT_FROM of the stream.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

WORKS, FAILS = 0.9, 0.15
HELD_OUT_FROM = 0.6  # share of the stream after which held-out phrasings appear

AGENTS: dict[str, dict[str, Any]] = {
    "ui-tester": {
        "domain": "form testing",
        "pool": [
            "wait for the network to go idle before asserting",
            "fill every field from a realistic fixture file",
            "add fixed sleep calls between the steps",
            "locate elements by stable data-testid attributes",
            "locate elements by their generated CSS class names",
            "stub the backend with recorded HTTP responses",
            "run against the shared staging backend",
            "clear cookies and local storage before each run",
        ],
        "errors": [
            "assertion failed: expected the confirmation banner",
            "element not interactable after 10 seconds",
            "screenshot differs from the baseline",
        ],
        "families": {
            "login_form": ["login form", "sign-in page", "log-in screen"],
            "signup_form": ["signup form", "registration page", "new account wizard"],
            "checkout_form": ["checkout form", "payment step", "order confirmation page"],
            "search_box": ["search box", "type-ahead search field", "autocomplete search"],
            "file_upload": ["file upload widget", "attachment uploader", "drag-and-drop upload"],
            "date_picker": ["date picker", "calendar input", "booking date selector"],
        },
        "entities": ["of the billing portal", "in the mobile web app", "on the partner site"],
    },
    "api-tester": {
        "domain": "API testing",
        "pool": [
            "generate requests from the OpenAPI schema",
            "replay captured production traffic",
            "hard-code the expected JSON bodies",
            "mint fresh tokens through the OAuth client flow",
            "reuse one long-lived admin token",
            "back off exponentially on 429 responses",
            "fire all requests in parallel at full speed",
            "verify payload signatures with the shared secret",
        ],
        "errors": [
            "expected status 200, got 500",
            "response body did not match the contract",
            "connection reset by peer",
        ],
        "families": {
            "rest_pagination": [
                "paginated list endpoint",
                "cursor paging API",
                "page-by-page listing",
            ],
            "auth_tokens": ["token authentication", "bearer token check", "login API session"],
            "rate_limits": ["rate limiter", "request throttling", "API quota enforcement"],
            "webhooks": ["webhook delivery", "event callback endpoint", "outgoing webhook"],
            "graphql_schema": ["GraphQL schema", "GraphQL resolvers", "GraphQL query layer"],
            "file_download": ["file download endpoint", "export download API", "report download"],
        },
        "entities": ["for the payments service", "of the inventory API", "in the public API v2"],
    },
    "db-migrator": {
        "domain": "database migrations",
        "pool": [
            "write the migration as small online batches",
            "lock the whole table during the change",
            "add a nullable column first and backfill later",
            "rehearse on a restored copy of production",
            "edit the production schema by hand",
            "create indexes concurrently",
            "run the migration inside a single huge transaction",
            "dual-write to the old and new columns",
        ],
        "errors": [
            "migration timed out after 30 minutes",
            "replication lag exceeded the alarm",
            "check constraint violated by existing rows",
        ],
        "families": {
            "add_column": ["new column", "extra table column", "added field in the schema"],
            "index_build": ["missing index", "slow query index", "composite index"],
            "table_rename": ["table rename", "renamed relation", "table name change"],
            "data_backfill": ["data backfill", "historic row backfill", "bulk data fix"],
            "foreign_keys": ["foreign key", "referential constraint", "parent-child link"],
            "enum_change": ["enum type change", "status value list", "allowed values enum"],
        },
        "entities": ["in the orders database", "on the analytics warehouse", "of the users DB"],
    },
    "deployer": {
        "domain": "deployments",
        "pool": [
            "shift traffic gradually with a canary",
            "restart every instance at once",
            "roll out region by region behind a flag",
            "bake a new immutable image and swap it",
            "patch the running containers in place",
            "drain connections before stopping instances",
            "purge the whole CDN cache",
            "keep the previous release warm for instant rollback",
        ],
        "errors": [
            "health checks failed on two instances",
            "error rate crossed 2% after the rollout",
            "rollout stalled waiting for pods",
        ],
        "families": {
            "web_release": ["web frontend release", "website deploy", "front-end rollout"],
            "config_change": ["config change", "settings rollout", "environment variable update"],
            "db_pool": ["connection pool resize", "database pool settings", "pool size tuning"],
            "image_update": ["base image update", "container image bump", "OS image refresh"],
            "cdn_update": ["CDN rule change", "edge cache settings", "CDN routing update"],
            "worker_scale": ["worker fleet resize", "queue worker scaling", "background job pool"],
        },
        "entities": ["for the EU cluster", "in production", "of the checkout stack"],
    },
}

VERBS = [
    ("test", "testing"),
    ("verify", "verification"),
    ("check", "a check"),
    ("exercise", "a run-through"),
    ("validate", "validation"),
    ("handle", "handling"),
]
NOISE = ["", " asap", " before Friday", " (flaky last week)", " for the release", " again"]
TEMPLATES = [
    "{verb} the {subject} {entity}{noise} [{ticket}]",
    "{ticket}: {entity_cap}, {verb} its {subject}{noise}",
    "the {subject} {entity} needs {gerund}{noise} ({ticket})",
    "please {verb} how the {subject} behaves {entity}{noise}, ref {ticket}",  # held out
]
HELD_OUT_TEMPLATE = len(TEMPLATES) - 1


@dataclass(frozen=True)
class Family:
    agent: str
    name: str
    subjects: tuple[str, ...]
    probs: dict[str, float]  # candidate strategy -> success probability (before any change)
    trap: str
    trap_error: str

    @property
    def candidates(self) -> list[str]:
        return list(self.probs)


@dataclass
class World:
    seed: int
    families: list[Family]
    changed: dict[str, dict[str, float]] = field(default_factory=dict)  # family -> new probs

    def probs(self, family: Family, after_change: bool) -> dict[str, float]:
        return self.changed.get(family.name, family.probs) if after_change else family.probs


def build_world(seed: int) -> World:
    """Roles drawn per family from the agent's pool; the same seed gives the same world."""
    rng = random.Random(seed)
    families = []
    for agent, spec in AGENTS.items():
        for name, subjects in spec["families"].items():
            picks = rng.sample(spec["pool"], 5)
            good = picks[:2] if rng.random() < 0.4 else picks[:1]
            bad = [s for s in picks[len(good) : 4]]
            trap = picks[4]
            probs = {s: WORKS for s in good} | {s: FAILS for s in bad} | {trap: 0.0}
            order = rng.sample(list(probs), len(probs))  # candidates offered in a mixed order
            error = f"refused: '{trap}' is unsafe for a {subjects[0]} ({spec['domain']} rule)"
            families.append(
                Family(agent, name, tuple(subjects), {s: probs[s] for s in order}, trap, error)
            )
    return World(seed, families)


def change_world(world: World, agent: str = "deployer") -> None:
    """A platform change for one agent: in each of its families the best strategy now fails
    and a formerly failing one works."""
    for family in world.families:
        if family.agent != agent:
            continue
        probs = dict(family.probs)
        best = max(probs, key=lambda s: probs[s])
        fallen = next(s for s in probs if probs[s] == FAILS)
        probs[best], probs[fallen] = FAILS, WORKS
        world.changed[family.name] = probs


@dataclass(frozen=True)
class Task:
    index: int
    agent: str
    family: str
    text: str
    held_out: bool
    draw: float  # the success draw: a strategy works when draw < its probability
    explore: float  # the exploration draw, shared by every system


def make_stream(world: World, n: int, seed: int) -> list[Task]:
    rng = random.Random(seed * 7919 + 1)
    tasks = []
    for i in range(n):
        family = rng.choice(world.families)
        spec = AGENTS[family.agent]
        late = i >= HELD_OUT_FROM * n
        held = late and rng.random() < 0.5
        template = HELD_OUT_TEMPLATE if held else rng.randrange(HELD_OUT_TEMPLATE)
        subject = family.subjects[-1] if held else rng.choice(family.subjects[:-1])
        verb, gerund = rng.choice(VERBS)
        entity = rng.choice(spec["entities"])
        text = TEMPLATES[template].format(
            verb=verb,
            gerund=gerund,
            subject=subject,
            entity=entity,
            entity_cap=entity[0].upper() + entity[1:],
            noise=rng.choice(NOISE),
            ticket=f"{rng.choice('ABCDEFGH')}{rng.choice('QRSTUVWX')}-{rng.randrange(100, 9999)}",
        )
        tasks.append(Task(i, family.agent, family.name, text, held, rng.random(), rng.random()))
    return tasks


# ---------------------------------------------------------------------- the agent


class Memory(Protocol):
    """A memory system seen by the agent: what it advises, and what it is told."""

    name: str

    def advice(self, agent: str, task: str) -> tuple[list[tuple[str, str]], list[str]]:
        """(heuristics best first as (strategy, family), anti-pattern strategies)."""

    def learn(self, task: Task, success: bool, strategy: str, error: str | None) -> None: ...


def choose(
    task: Task, family: Family, heuristics: list[tuple[str, str]], avoid: list[str]
) -> tuple[str, str]:
    """The policy: follow the best retrieved heuristic that is a candidate and not an
    anti-pattern; else explore among the candidates not avoided (all of them if none is left)."""
    candidates = family.candidates
    banned = set(avoid)
    for strategy, _ in heuristics:
        if strategy in candidates and strategy not in banned:
            return strategy, "heuristic"
    open_ = [s for s in candidates if s not in banned] or candidates
    return open_[int(task.explore * len(open_))], "explore"


def simulate(
    memory: Memory | None,
    world: World,
    stream: list[Task],
    *,
    change_at: int | None = None,
    oracle: bool = False,
    before_task: Callable[[Task], None] | None = None,
) -> dict[str, Any]:
    """Run the stream; per task: the choice, its source, success, its expected value and the
    oracle's, whether it was the trap (and whether its anti-pattern had been retrieved before),
    and which family the first retrieved heuristic came from."""
    by_name = {f.name: f for f in world.families}
    seen_anti: set[tuple[str, str]] = set()
    rows, times = [], {"retrieve": [], "learn": []}
    for task in stream:
        if before_task is not None:
            before_task(task)
        family = by_name[task.family]
        probs = world.probs(family, change_at is not None and task.index >= change_at)
        heuristics: list[tuple[str, str]] = []
        avoid: list[str] = []
        if oracle:
            strategy, source = max(probs, key=lambda s: probs[s]), "oracle"
        else:
            if memory is not None:
                started = time.perf_counter()
                heuristics, avoid = memory.advice(task.agent, task.text)
                times["retrieve"].append((time.perf_counter() - started) * 1000)
            strategy, source = choose(task, family, heuristics, avoid)
        success = task.draw < probs[strategy]
        trap = strategy == family.trap
        error = None
        if not success:
            errors = AGENTS[task.agent]["errors"]
            error = family.trap_error if trap else errors[int(task.draw * 1000) % len(errors)]
        if memory is not None and not oracle:
            started = time.perf_counter()
            memory.learn(task, success, strategy, error)
            times["learn"].append((time.perf_counter() - started) * 1000)
        first = heuristics[0][1] if heuristics else None
        rows.append(
            {
                "i": task.index,
                "family": task.family,
                "held_out": task.held_out,
                "strategy": strategy,
                "source": source,
                "success": success,
                "expected": probs[strategy],
                "best": max(probs.values()),
                "trap": trap,
                "trap_known": trap and (task.agent, strategy) in seen_anti,
                "first_family": first,
                "told_both": any(s in avoid for s, _ in heuristics),
            }
        )
        seen_anti.update((task.agent, s) for s in avoid)
    return {"rows": rows, "times": times}


def latency(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None}
    ordered = sorted(values)
    pick = lambda q: round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)  # noqa: E731
    return {"n": len(values), "p50_ms": pick(0.5), "p95_ms": pick(0.95)}
