"""Hypothesis drives the public API through random sequences of add, learn, update, approve,
reject, revert, forget, restore and delete, against a plain model of what must be stored: after
every step the stored memories (ids and statuses, shared_with) and the archive equal the model's.
No lost memory, no phantom one, whatever the order.

Texts are spelled from fresh hashes so that no write is a near-duplicate of another
(the write-semantics rules are tested elsewhere); learn() uses a small pool of strategies so that
heuristics and anti-patterns form and are reinforced.
"""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as hs
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from alma_app import ALMA
from tests.conftest import AGENTS

STRATEGIES = ["check the inputs first", "mock the network layer", "retry with a fresh session"]
REVIEWER = "reviewer"


class ApiMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.alma = ALMA(project_id="model", storage="memory", embedding="hashing", agents=AGENTS)
        self.stored: dict[str, tuple[str, tuple[str, ...]]] = {}  # id -> (status, shared_with)
        self.archived: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.created: dict[str, str] = {}  # id -> status in its create event
        self.counter = itertools.count()

    def teardown(self) -> None:
        self.alma.close()

    def _text(self) -> str:
        """A text sharing no word with any other: four words spelled from a fresh hash."""
        digest = hashlib.sha256(str(next(self.counter)).encode()).hexdigest()
        letters = "".join(chr(ord("a") + int(c, 16)) for c in digest)
        return " ".join(letters[i : i + 6] for i in range(0, 24, 6))

    def _new(self, memory_id: str, status: str) -> None:
        assert memory_id not in self.stored and memory_id not in self.archived
        self.stored[memory_id] = (status, ())
        self.created[memory_id] = status

    # ------------------------------------------------------------------ writes

    @rule()
    def add_fact(self) -> None:
        fact = self.alma.add_domain_knowledge("helena", "form_validation", self._text())
        self._new(fact.id, fact.status)

    @rule()
    def add_preference(self) -> None:
        pref = self.alma.add_preference("user-1", "style", self._text())
        self._new(pref.id, pref.status)

    @rule(strategy=hs.sampled_from(STRATEGIES), success=hs.booleans())
    def learn(self, strategy: str, success: bool) -> None:
        outcome = "success" if success else "failure"
        result = self.alma.learn(
            "helena", f"task {next(self.counter)}", outcome, strategy, task_type="form_validation"
        )
        self._new(result.outcome.id, result.outcome.status)
        for memory, action in (
            (result.heuristic, result.heuristic_action),
            (result.anti_pattern, result.anti_pattern_action),
        ):
            if action == "created":
                assert memory is not None
                self._new(memory.id, memory.status)
            elif action == "retired":  # the evidence now contradicts it: archived, restorable
                assert memory is not None and memory.id in self.stored
                self.archived[memory.id] = self.stored.pop(memory.id)
            elif action is not None:
                assert memory is not None and memory.id in self.stored  # reinforced, not new

    @precondition(lambda self: self.stored)
    @rule(data=hs.data(), share=hs.lists(hs.sampled_from(["victor", "ana"]), unique=True))
    def update(self, data: hs.DataObject, share: list[str]) -> None:
        memory_id = data.draw(hs.sampled_from(sorted(self.stored)))
        self.alma.update_memory(memory_id, shared_with=share)
        self.stored[memory_id] = (self.stored[memory_id][0], tuple(share))

    @precondition(lambda self: self.stored)
    @rule(data=hs.data(), approve=hs.booleans())
    def review(self, data: hs.DataObject, approve: bool) -> None:
        memory_id = data.draw(hs.sampled_from(sorted(self.stored)))
        if approve:
            self.alma.approve([memory_id], REVIEWER)
        else:
            self.alma.reject([memory_id], REVIEWER, reason="not now")
        status = "approved" if approve else "rejected"
        self.stored[memory_id] = (status, self.stored[memory_id][1])

    @precondition(lambda self: self.stored or self.archived)
    @rule(data=hs.data())
    def revert_to_creation(self, data: hs.DataObject) -> None:
        memory_id = data.draw(hs.sampled_from(sorted({*self.stored, *self.archived})))
        create = self.alma.history(memory_id)[0]
        assert create.action == "create"
        self.alma.revert(memory_id, create.id, actor=REVIEWER)
        self.archived.pop(memory_id, None)
        self.stored[memory_id] = (self.created[memory_id], ())

    @precondition(lambda self: self.stored)
    @rule(data=hs.data())
    def delete(self, data: hs.DataObject) -> None:
        memory_id = data.draw(hs.sampled_from(sorted(self.stored)))
        self.alma.delete_memory(memory_id, actor=REVIEWER)
        self.archived[memory_id] = self.stored.pop(memory_id)

    @rule(threshold=hs.sampled_from([0.3, 0.6, 0.8]))
    def forget(self, threshold: float) -> None:
        result = self.alma.forget(min_confidence=threshold)
        for memory_id in result.ids:
            self.archived[memory_id] = self.stored.pop(memory_id)

    @precondition(lambda self: self.archived)
    @rule(data=hs.data())
    def restore(self, data: hs.DataObject) -> None:
        ids = data.draw(hs.lists(hs.sampled_from(sorted(self.archived)), min_size=1, unique=True))
        self.alma.restore(ids, actor=REVIEWER)
        for memory_id in ids:
            self.stored[memory_id] = self.archived.pop(memory_id)

    # ------------------------------------------------------------------ the model holds

    @invariant()
    def store_equals_model(self) -> None:
        page = self.alma.list_memories(limit=10_000)
        stored = {m.id: (m.status, tuple(m.shared_with)) for m in page.items}
        assert len(page.items) == page.total == len(stored)  # no id stored twice
        assert stored == self.stored
        archived = {a.memory.id for a in self.alma.list_archived(limit=10_000)}
        assert archived == set(self.archived)


ApiMachine.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_the_api_never_loses_or_invents_a_memory = pytest.mark.slow(ApiMachine.TestCase)
