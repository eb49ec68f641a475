"""Writes of stated memories (add_domain_knowledge, add_preference) that never lose the caller's
words, and the review of the contradictions they flag.

A new memory is compared with the most similar stored memories of the same owner and type
(vector search, at least the related_similarity setting) and classified by alma_app.memory.novelty:
- restatement: the stored memory is reinforced and returned, as before (its confidence becomes
  the higher of the two, its clock restarts, metadata["reinforcements"] counts such writes);
  restating a superseded value makes it current again (it supersedes the newest version);
- supersedes: the new memory is stored with metadata[SUPERSEDES] = old id, and the old one gets
  metadata[SUPERSEDED_BY] = new id through a "supersede" event in its history (it ranks lower
  but stays retrievable);
- contradicts: the new memory is stored and both carry metadata[CONTRADICTS] (a
  "flag_contradiction" event on the old one) until a human resolves the pair;
- otherwise it is stored as new.
The returned memory's write_result says which ("reinforced", "superseded",
"contradiction_flagged", "created").
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np

import alma_store as st
from alma_app.errors import MemoryNotFound, ValidationError
from alma_app.memory import links, novelty
from alma_app.memory.repository import MemoryRepository, check_text, store_errors
from alma_app.memory.types import Memory, utcnow

M = TypeVar("M", bound=Memory)
CANDIDATES = 5  # nearest memories of the owner compared with a new one
MAX_CHAIN = 100  # supersede links followed to find the current version
# The store's search mirror reads the previous write's rows while the new memory is embedded:
# both wait in native code (Lance I/O, ONNX Runtime), so a write costs max() of them, not sum().
_WARM_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alma-warm")


@dataclass
class Contradiction:
    """Two stored memories flagged as possibly contradicting each other (older first)."""

    first: Memory
    second: Memory


class Writer:
    """The write rule for stated memories, and the contradictions it flags; used by ALMA."""

    def __init__(self, repo: MemoryRepository) -> None:
        self.repo = repo

    def remember(self, memory: M, owner: st.Filter, actor: str) -> M:
        """Store, reinforce, supersede or flag (see the module docstring); returns the memory
        that holds the caller's words, with its write_result set."""
        related = self._related_filter(memory, owner)
        with store_errors():
            warming = _WARM_POOL.submit(self.repo.store.warm, "memories", [related])
            try:
                vector = self.repo.embed([memory])[0]
            finally:
                warming.result()
        compared = self._related(memory, vector, related)
        restated = next((m for m, v in compared if v.kind == "restatement"), None)
        if restated is not None:
            return cast(M, self._reinforce(restated, memory, actor))
        current = [(m, v) for m, v in compared if links.superseded_by(m) is None] or compared
        if not current:
            self.repo.insert([memory], actor=actor, vectors=vector[None, :])
            memory.write_result = "created"
            return memory
        old, verdict = current[0]
        if verdict.kind == "supersedes":
            memory.metadata[links.SUPERSEDES] = old.id
            reason = f"supersedes {old.id} ({verdict.changed})"
            self.repo.insert([memory], actor=actor, vectors=vector[None, :], reason=reason)
            self._mark_superseded(old, memory.id, actor, verdict.changed)
            memory.write_result = "superseded"
        else:
            memory.metadata[links.CONTRADICTS] = [old.id]
            reason = f"may contradict {old.id} ({verdict.changed})"
            self.repo.insert([memory], actor=actor, vectors=vector[None, :], reason=reason)
            self._link(
                old.id,
                links.CONTRADICTS,
                memory.id,
                actor,
                action="flag_contradiction",
                reason=f"may be contradicted by {memory.id} ({verdict.changed})",
            )
            memory.write_result = "contradiction_flagged"
        return memory

    def _related_filter(self, memory: Memory, owner: st.Filter) -> st.Filter:
        """The owner's live memories of this memory's type: those a write is compared with."""
        return st.And(
            (
                st.Eq("project_id", self.repo.settings.project_id),
                st.Eq("type", memory.TYPE),
                st.In("status", ("approved", "pending")),
                owner,
            )
        )

    def _related(
        self, memory: Memory, vector: np.ndarray, where: st.Filter
    ) -> list[tuple[Memory, novelty.Verdict]]:
        """The memories passing `where` (_related_filter) similar enough to compare, most
        similar first."""
        threshold = self.repo.settings.related_similarity
        with store_errors():
            # Only ids and distances: whole rows are read in the rare near-duplicate case.
            hits = self.repo.store.vector_search(
                "memories", vector, where=where, limit=CANDIDATES, columns=["id"]
            )
        similar = {h["id"]: 1.0 - h["_distance"] for h in hits}
        similar = {i: s for i, s in similar.items() if s >= threshold}
        if not similar:
            return []
        text = memory.text()
        return [
            (m, novelty.classify(text, m.text(), similar[m.id], threshold))
            for m in self.repo.get_many(list(similar))
        ]

    def _reinforce(self, existing: Memory, memory: Memory, actor: str) -> Memory:
        new = self.repo.copy(existing)
        new.confidence = max(existing.stored_confidence, memory.stored_confidence)  # type: ignore[attr-defined]
        setattr(new, new.CLOCK_FIELD, utcnow())
        new.metadata["reinforcements"] = int(new.metadata.get("reinforcements", 0)) + 1
        head = self._current_version(existing)
        if head is not None:  # a superseded value, stated again: current once more
            new.metadata.pop(links.SUPERSEDED_BY, None)
            new.metadata[links.SUPERSEDES] = head.id
        saved = self.repo.save(
            new,
            before=existing,
            actor=actor,
            action="reinforce",
            reason=f"restatement: {memory.text()[:200]}",
        )
        if head is not None:
            self._mark_superseded(head, saved.id, actor, "stated again")
        saved.write_result = "reinforced"
        return saved

    def _current_version(self, memory: Memory) -> Memory | None:
        """The newest memory of a superseded one's chain, or None when it is not superseded."""
        seen = {memory.id}
        head: Memory | None = None
        next_id = links.superseded_by(memory)
        while next_id is not None and next_id not in seen and len(seen) < MAX_CHAIN:
            found = self.repo.get_many([next_id])
            if not found:
                break
            head = found[0]
            seen.add(head.id)
            next_id = links.superseded_by(head)
        return head

    def _mark_superseded(self, old: Memory, new_id: str, actor: str, changed: str) -> None:
        self._link(
            old.id,
            links.SUPERSEDED_BY,
            new_id,
            actor,
            action="supersede",
            reason=f"superseded by {new_id} ({changed})",
        )

    def _link(
        self, memory_id: str, key: str, other_id: str, actor: str, *, action: str, reason: str
    ) -> None:
        """Record a link on a stored memory after the new one was written. repo.update re-reads
        and re-applies it when the memory changed meanwhile, so a concurrent reviewer's edit is
        kept and the caller's write (already stored) is never re-run."""

        def change(memory: Memory) -> Memory:
            if key == links.CONTRADICTS:
                memory.metadata[key] = [*links.contradicts(memory), other_id]
            else:
                memory.metadata[key] = other_id
            return memory

        self.repo.update(memory_id, change, actor=actor, action=action, reason=reason)

    # ------------------------------------------------------------------ contradictions

    def contradictions(self, agent: str | None = None, limit: int = 50) -> list[Contradiction]:
        """Open possible contradictions, oldest flag first, each pair once; a pair with a
        rejected side is left out."""
        if agent is not None:
            check_text("agent", agent)
        flagged = self.repo.find(
            st.all_of(
                st.TextContains("metadata", f'"{links.CONTRADICTS}":'),
                st.Eq("agent", agent) if agent is not None else None,
            ),
            limit=10_000,
            order_by="created_at",
            descending=False,
        ).items
        pairs: dict[frozenset[str], Contradiction] = {}
        others = {
            m.id: m for m in self.repo.get_many([i for f in flagged for i in links.contradicts(f)])
        }
        for memory in flagged:
            for other_id in links.contradicts(memory):
                other = others.get(other_id)
                key = frozenset((memory.id, other_id))
                if other is None or key in pairs or "rejected" in (memory.status, other.status):
                    continue  # a rejected side is never retrieved: nothing left to resolve
                first, second = sorted((memory, other), key=lambda m: m.created_at)
                pairs[key] = Contradiction(first, second)
        return list(pairs.values())[:limit]

    def resolve(self, memory_id: str, other_id: str, reviewer: str) -> list[Memory]:
        """Clear the open flag between two memories (each keeps the other's id under
        REVIEWED_CONTRADICTIONS); raises ValidationError when they are not flagged together."""
        check_text("reviewer", reviewer)
        pair = self.repo.get_many([memory_id, other_id])
        if len(pair) != 2:
            missing = memory_id if all(m.id != memory_id for m in pair) else other_id
            raise MemoryNotFound(missing)
        first, second = pair
        if second.id not in links.contradicts(first) and first.id not in links.contradicts(second):
            raise ValidationError("other_id", f"{other_id} is not flagged against {memory_id}")
        saved = []
        for memory, other in ((first, second), (second, first)):

            def change(current: Memory, other_id: str = other.id) -> Memory:
                remaining = [i for i in links.contradicts(current) if i != other_id]
                if remaining:
                    current.metadata[links.CONTRADICTS] = remaining
                else:
                    current.metadata.pop(links.CONTRADICTS, None)
                reviewed = links.reviewed_contradictions(current)
                current.metadata[links.REVIEWED_CONTRADICTIONS] = [*reviewed, other_id]
                return current

            saved.append(
                self.repo.update(
                    memory.id,
                    change,
                    actor=reviewer,
                    action="resolve_contradiction",
                    reason=f"reviewed against {other.id}",
                )
            )
        return saved
