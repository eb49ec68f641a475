"""Memories people and agents state or edit directly: preferences, facts, batches, edits, deletes
and the settling of flagged contradictions (learned memories come from learning.py)."""

from __future__ import annotations

from typing import Any

import alma_store as st
from alma_app.checks import check_confidence, check_ids, check_text
from alma_app.errors import ConflictError, MemoryNotFound, ValidationError
from alma_app.events import HUMAN
from alma_app.memory.repository import RETRIES, MemoryRepository
from alma_app.memory.review import Reviewer, apply_changes
from alma_app.memory.scope import Scope
from alma_app.memory.types import DomainKnowledge, Memory, UserPreference
from alma_app.memory.writes import M, Writer


class Editor:
    def __init__(
        self, repo: MemoryRepository, writer: Writer, reviewer: Reviewer, scope: Scope
    ) -> None:
        self.repo = repo
        self.writer = writer
        self.reviewer = reviewer
        self.scope = scope
        self.project_id = repo.settings.project_id

    # ------------------------------------------------------------------ adding

    def add_preference(
        self, user_id: str, category: str, preference: str, source: str
    ) -> UserPreference:
        memory = UserPreference(
            user_id=check_text("user_id", user_id),
            category=check_text("category", category),
            preference=check_text("preference", preference),
            source=check_text("source", source),
            project_id=self.project_id,
            status="approved",
        )
        actor = HUMAN if source != "agent" else user_id
        return self.add_once(memory, st.Eq("user_id", user_id), actor, ("user", user_id))

    def add_domain_knowledge(
        self, agent: str, domain: str, fact: str, source: str, confidence: float
    ) -> DomainKnowledge:
        self.scope.check_agent(agent)
        check_text("domain", domain)
        self.scope.check_scope(agent, domain)
        memory = DomainKnowledge(
            agent=agent,
            domain=domain,
            fact=check_text("fact", fact),
            source=check_text("source", source),
            confidence=check_confidence(confidence),
            project_id=self.project_id,
            status="approved",
        )
        actor = HUMAN if source == "user" else agent
        return self.add_once(memory, st.Eq("agent", agent), actor, ("agent", agent))

    def add_once(self, memory: M, owner: st.Filter, actor: str, key: tuple[str, str]) -> M:
        """Writer.remember, one writer at a time per owner and type (across processes), so
        the same fact written twice at the same instant is stored once; a reinforcement that
        lost a race with a reviewer's write is simply run again on the fresh memory (remember
        raises ConflictError only before it has written anything)."""
        for _ in range(RETRIES):
            with self.repo.writing("add", memory.TYPE, *key):
                try:
                    return self.writer.remember(memory, owner, actor)
                except ConflictError:
                    continue
        raise ConflictError([memory.id], f"its near-duplicate kept changing ({RETRIES} tries)")

    def add_memories(self, memories: list[Memory], actor: str) -> int:
        if not isinstance(memories, list) or not all(isinstance(m, Memory) for m in memories):
            raise ValidationError("memories", "expected a list of Memory objects")
        self.repo.insert(memories, actor=actor)
        return len(memories)

    # ------------------------------------------------------------------ managing

    def get_memory(self, memory_id: str) -> Memory:
        memory = self.repo.get(memory_id)
        if memory.project_id != self.project_id:
            raise MemoryNotFound(memory_id)
        return memory

    def get_memories(self, memory_ids: list[str]) -> list[Memory]:
        check_ids("memory_ids", memory_ids)
        return [m for m in self.repo.get_many(memory_ids) if m.project_id == self.project_id]

    def update_memory(
        self,
        memory_id: str,
        changes: dict[str, Any],
        *,
        actor: str,
        reason: str | None,
        expected_version: int | None,
    ) -> Memory:
        before = self.get_memory(memory_id)
        apply_changes(before, changes, self.repo.copy(before))  # bad edits fail before I/O
        return self.repo.update(
            memory_id,
            lambda memory: apply_changes(memory, changes, memory),
            actor=actor,
            action="edit",
            reason=reason,
            expected_version=expected_version,
        )

    def delete_memories(self, memory_ids: list[str] | str, actor: str, reason: str | None) -> int:
        if isinstance(memory_ids, str):
            memory_ids = [memory_ids]
        for memory_id in memory_ids:
            check_text("memory_ids", memory_id)
        for _ in range(RETRIES):  # a memory changed meanwhile: archive its new version
            found = [m for m in self.repo.get_many(memory_ids) if m.project_id == self.project_id]
            try:
                self.repo.archive_and_delete(found, actor=actor, action="delete", reason=reason)
            except ConflictError:
                continue
            return len(found)
        raise ConflictError(list(memory_ids), f"kept changing through {RETRIES} attempts")

    def resolve_contradiction(
        self,
        memory_id: str,
        other_id: str,
        reviewer: str,
        reject: str | None,
        reason: str | None,
    ) -> list[Memory]:
        check_text("memory_id", memory_id)
        check_text("other_id", other_id)
        if reject is not None and reject not in (memory_id, other_id):
            raise ValidationError("reject", "must be one of the two memories' ids, or None")
        resolved = self.writer.resolve(memory_id, other_id, check_text("reviewer", reviewer))
        if reject is None:
            return resolved
        kept = other_id if reject == memory_id else memory_id
        why = check_text("reason", reason or f"contradicted by {kept}")
        self.reviewer.set_status([reject], "rejected", reviewer, why)
        return self.get_memories([memory_id, other_id])
