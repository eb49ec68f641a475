"""Two writers reinforcing and one reviewer approving and editing the same 50 memories, in real
processes on one store: every acknowledged change is in the store at the end, reinforcement
counts add up exactly, and each strategy the writers learn forms exactly one heuristic. Then the
same loops again while the test kills a process with SIGKILL ten times at points it chooses: the
store opens, nothing acknowledged is missing, and no event whose memory never committed is shown.

Each worker appends what it was acknowledged to its own file right after the call returns and
tells the test how far it got through a pipe. Operations are numbered and deterministic, so a
worker restarted after a kill resumes at its first unacknowledged operation and re-runs it.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import multiprocessing.connection
import os
import signal
import sys
import types
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from alma_app import ALMA
from alma_app.analytics import recent_activity
from alma_app.memory.types import DomainKnowledge


@pytest.fixture(autouse=True)
def plain_main_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spawned children re-import the parent's __main__ by its path. Earlier AppTests in the
    same pytest process leave a page script there (pages/review.py, which opens the default
    config), so each child would run a page and die: give them an empty __main__ instead."""
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))


PROJECT = "shared"
AGENT = "helena"
DOMAIN = "auth"
MEMORIES = 50
STRATEGIES = 5
OPERATIONS = int(os.environ.get("ALMA_RELIABILITY_OPERATIONS", "2000"))
KILLED_OPERATIONS = int(os.environ.get("ALMA_RELIABILITY_KILLED_OPERATIONS", "300"))
KILLS = 10
WORKERS = ("writer-0", "writer-1", "reviewer")

pytestmark = pytest.mark.slow


def spelled(seed: str) -> str:
    """Four words no other seed shares (the hashing embedder sees them as unrelated)."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    letters = "".join(chr(ord("a") + int(c, 16)) for c in digest)
    return " ".join(letters[i : i + 6] for i in range(0, 24, 6))


FACTS = [f"the {spelled(f'fact {i}')} setting" for i in range(MEMORIES)]
STRATEGY_TEXTS = [spelled(f"strategy {i}") for i in range(STRATEGIES)]


def open_alma(store_dir: str) -> ALMA:
    return ALMA(project_id=PROJECT, storage_dir=store_dir, embedding="hashing", compact_every=64)


# ---------------------------------------------------------------------- the workers' loops


def writer_step(alma: ALMA, name: str, n: int) -> dict[str, Any]:
    """Every tenth operation learns a success of one of the shared strategies; the others
    restate one of the 50 facts word for word, which reinforces it."""
    if n % 10 == 9:
        strategy = STRATEGY_TEXTS[(n // 10) % STRATEGIES]
        result = alma.learn(AGENT, f"{name} task {n}", "success", strategy, task_type="login")
        return {"op": "learn", "strategy": strategy, "outcome": result.outcome.id}
    fact = FACTS[(n * 7 + (0 if name == "writer-0" else 3)) % MEMORIES]
    memory = alma.add_domain_knowledge(AGENT, DOMAIN, fact, source="agent")
    return {"op": "reinforce", "id": memory.id, "fact": fact}


def reviewer_step(alma: ALMA, ids: list[str], n: int) -> dict[str, Any]:
    """Approves, edits a field, or edits and approves; every value names its operation."""
    memory_id = ids[n % MEMORIES]
    kind = (n // MEMORIES) % 3
    if kind == 0:
        alma.approve([memory_id], "reviewer")
        return {"op": "approve", "id": memory_id}
    if kind == 1:
        alma.update_memory(memory_id, actor="reviewer", source=f"review {n}")
        return {"op": "edit", "id": memory_id, "field": "source", "value": f"review {n}"}
    alma.edit_and_approve(memory_id, "reviewer", shared_with=[f"agent-{n}"])
    return {"op": "edit", "id": memory_id, "field": "shared_with", "value": [f"agent-{n}"]}


def work(store_dir: str, name: str, operations: int, acks: str, barrier: Any, pipe: Any) -> None:
    """One worker process: resume after the last acknowledged operation, run to the end."""
    alma = open_alma(store_dir)
    done = len(Path(acks).read_text().splitlines()) if os.path.exists(acks) else 0
    stored = alma.list_memories(memory_type="domain_knowledge", limit=1000).items
    by_fact = {getattr(m, "fact", ""): m.id for m in stored}
    ids = [by_fact[f] for f in FACTS]
    if barrier is not None:
        barrier.wait()  # all three start together: maximum overlap
    with open(acks, "a", encoding="utf-8") as out:
        for n in range(done, operations):
            ack = reviewer_step(alma, ids, n) if name == "reviewer" else writer_step(alma, name, n)
            out.write(json.dumps({"n": n, **ack}) + "\n")
            out.flush()
            pipe.send(n + 1)
    alma.close()
    pipe.send("done")


# ---------------------------------------------------------------------- running them


def seed(store_dir: str) -> list[str]:
    with open_alma(store_dir) as alma:
        facts = [
            DomainKnowledge(agent=AGENT, domain=DOMAIN, fact=f, status="pending", project_id="")
            for f in FACTS
        ]
        alma.add_memories(facts)
        return [f.id for f in facts]


def run(tmp_path: Path, operations: dict[str, int], kills: list[tuple[str, int]]) -> dict:
    """Run the three workers to the end; kill (SIGKILL) `name` once it has acknowledged `at`
    operations, for each (name, at) in kills, and restart it. Returns the acks per worker."""
    store_dir = str(tmp_path / "store")
    seed(store_dir)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(WORKERS))
    acks = {name: str(tmp_path / f"{name}.acks") for name in WORKERS}
    pending = {name: sorted(at for who, at in kills if who == name) for name in WORKERS}
    procs: dict[str, Any] = {}
    pipes: dict[str, Any] = {}

    def start(name: str, first: bool) -> None:
        mine, theirs = ctx.Pipe(duplex=False)
        args = (store_dir, name, operations[name], acks[name], barrier if first else None, theirs)
        procs[name] = ctx.Process(target=work, args=args, daemon=True)
        procs[name].start()
        theirs.close()
        pipes[name] = mine

    for name in WORKERS:
        start(name, first=True)
    running = set(WORKERS)
    while running:
        for conn in multiprocessing.connection.wait([pipes[n] for n in running], timeout=120):
            name = next(n for n in running if pipes[n] is conn)
            try:
                message = conn.recv()
            except EOFError:  # died on its own: that is a failure of the test subject
                procs[name].join()
                pytest.fail(f"{name} exited with {procs[name].exitcode}")
            if message == "done":
                procs[name].join(timeout=60)
                running.discard(name)
            elif pending[name] and message >= pending[name][0]:
                pending[name].pop(0)
                os.kill(procs[name].pid, signal.SIGKILL)  # somewhere inside the next operation
                procs[name].join()
                conn.close()
                start(name, first=False)
    return {
        name: [json.loads(line) for line in Path(path).read_text().splitlines()]
        for name, path in acks.items()
    }


# ---------------------------------------------------------------------- checking


def check(store_dir: str, acked: dict, kills: int) -> None:
    """Everything acknowledged is there; counts are exact (within one per kill when killed)."""
    writes = [a for name in ("writer-0", "writer-1") for a in acked[name]]
    with open_alma(store_dir) as alma:
        facts = alma.list_memories(memory_type="domain_knowledge", limit=1000).items
        assert len(facts) == MEMORIES  # a restatement never became a second memory
        by_id = {m.id: m for m in facts}

        reinforced = Counter(a["id"] for a in writes if a["op"] == "reinforce")
        assert set(reinforced) <= set(by_id)
        for memory_id, memory in by_id.items():
            count = int(memory.metadata.get("reinforcements", 0))
            # A kill can land after a reinforcement committed and before it was acknowledged;
            # the restarted worker then runs that operation again.
            assert reinforced[memory_id] <= count <= reinforced[memory_id] + kills, memory_id
            events = [e for e in alma.history(memory_id) if e.action == "reinforce"]
            assert len(events) >= reinforced[memory_id]

        last_edit: dict[tuple[str, str], Any] = {}
        approved = set()
        for a in acked["reviewer"]:
            if a["op"] == "edit":
                last_edit[(a["id"], a["field"])] = a["value"]
            if a["op"] == "approve" or a.get("field") == "shared_with":
                approved.add(a["id"])
        for (memory_id, field), value in last_edit.items():
            assert getattr(by_id[memory_id], field) == value, (memory_id, field)
        assert {m.id for m in facts if m.status == "approved"} == approved

        learned = defaultdict(set)
        for a in writes:
            if a["op"] == "learn":
                learned[a["strategy"]].add(a["outcome"])
        heuristics = alma.list_memories(memory_type="heuristic", limit=1000).items
        assert sorted(h.strategy for h in heuristics) == sorted(learned)  # one per strategy
        for h in heuristics:
            sources = set(h.source_outcome_ids)
            assert learned[h.strategy] <= sources  # every acknowledged success counted ...
            assert h.occurrence_count == len(sources) == len(h.source_outcome_ids)  # ... once
            assert len(sources) <= len(learned[h.strategy]) + kills

        known = {m.id for m in alma.list_memories(limit=10_000).items}
        known |= {a.memory.id for a in alma.list_archived(limit=10_000)}
        for row in recent_activity(alma, limit=10_000):
            assert row["memory_id"] in known  # no orphan event shown
        logged = alma.store.sql(
            "SELECT DISTINCT entity_id FROM events WHERE entity = 'memory'", tables=["events"]
        ).column("entity_id")
        acknowledged = {a["outcome"] for a in writes if a["op"] == "learn"} | set(by_id)
        assert acknowledged <= set(logged.to_pylist())  # each with its create event


def split(total: int) -> dict[str, int]:
    """Writers get 35% of the operations each, the reviewer 30%."""
    writer = total * 35 // 100
    return {"writer-0": writer, "writer-1": writer, "reviewer": total - 2 * writer}


def test_concurrent_writers_and_a_reviewer_lose_no_acknowledged_change(tmp_path: Path) -> None:
    operations = split(OPERATIONS)
    acked = run(tmp_path, operations, kills=[])
    assert {name: len(a) for name, a in acked.items()} == operations
    check(str(tmp_path / "store"), acked, kills=0)


def test_kill_9_at_ten_points_loses_no_acknowledged_change(tmp_path: Path) -> None:
    operations = split(KILLED_OPERATIONS)
    per_worker = {"writer-0": 4, "writer-1": 3, "reviewer": 3}
    kills = [  # after this many acknowledged operations of that worker
        (name, operations[name] * (k + 1) // (count + 1))
        for name, count in per_worker.items()
        for k in range(count)
    ]
    assert len(kills) == KILLS
    acked = run(tmp_path, operations, kills)
    assert {name: len(a) for name, a in acked.items()} == operations
    check(str(tmp_path / "store"), acked, kills=KILLS)


def add_new_facts(store_dir: str, barrier: Any) -> None:
    with open_alma(store_dir) as alma:
        barrier.wait()
        for i in range(5):
            alma.add_domain_knowledge(AGENT, DOMAIN, f"the {spelled(f'new {i}')} setting")


def test_two_processes_adding_the_same_new_facts_store_each_once(tmp_path: Path) -> None:
    store_dir = str(tmp_path / "store")
    open_alma(store_dir).close()  # tables exist before the race
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=add_new_facts, args=(store_dir, barrier)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    with open_alma(store_dir) as alma:
        facts = alma.list_memories(memory_type="domain_knowledge", limit=100).items
        assert len(facts) == 5
        assert sorted(int(m.metadata.get("reinforcements", 0)) for m in facts) == [1] * 5
