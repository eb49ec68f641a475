"""Review and history: approve / reject / edit-and-approve, validation, and the event log.

Every change to a memory is an event with its actor, time and before/after values (the JSON of
`records.to_plain`). Actions written: create, reinforce, weaken, edit, approve, reject, validate,
delete, forget, restore, revert. `revert` rebuilds a memory from an event's snapshot, so any
earlier version can be restored, including one that has since been deleted or forgotten.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alma_app.checks import check_id_list, check_text, utc
from alma_app.errors import ConflictError, MemoryNotFound, NotFoundError, ValidationError
from alma_app.memory.repository import RETRIES, MemoryRepository, memory_from_plain
from alma_app.memory.types import Memory
from alma_app.values import utcnow

ACTIONS = (
    "create",
    "reinforce",
    "weaken",
    "edit",
    "approve",
    "reject",
    "validate",
    "delete",
    "forget",
    "restore",
    "revert",
)
PROTECTED = {
    "id",
    "version",
    "type",
    "project_id",
    "created_at",
    "updated_at",
    "effective_confidence",
    "score",
}


@dataclass(frozen=True)
class HistoryEvent:
    """One change to a memory; before is None for a creation, after is None for a removal."""

    id: str
    memory_id: str
    action: str
    actor: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None

    def changed_fields(self) -> list[str]:
        """Names of the fields whose value differs between before and after."""
        before, after = self.before or {}, self.after or {}
        skip = {"updated_at", "version", "effective_confidence", "score"}
        return sorted(k for k in (set(before) | set(after)) - skip if before.get(k) != after.get(k))


def apply_changes(before: Memory, changes: dict[str, Any], copy: Memory) -> Memory:
    """Set edited fields on a copy, refusing unknown/protected fields and wrong value types."""
    for name, value in changes.items():
        if name in PROTECTED or not hasattr(copy, name) or callable(getattr(copy, name)):
            raise ValidationError(name, f"is not an editable field of a {before.TYPE}")
        old = getattr(before, name)
        if old is not None and value is not None:
            numeric = isinstance(old, float) and isinstance(value, int)
            if isinstance(old, bool) != isinstance(value, bool) or (
                not isinstance(value, type(old)) and not numeric
            ):
                raise ValidationError(
                    name, f"expected {type(old).__name__}, got {type(value).__name__}"
                )
            if numeric:
                value = float(value)
        setattr(copy, name, value)
    return copy


class Reviewer:
    """Status changes, validation and history of memories; used by ALMA."""

    def __init__(self, repo: MemoryRepository) -> None:
        self.repo = repo

    def _load(self, memory_ids: Sequence[str]) -> list[Memory]:
        found = {
            m.id: m
            for m in self.repo.get_many(memory_ids)
            if m.project_id == self.repo.settings.project_id
        }
        for memory_id in memory_ids:
            if memory_id not in found:
                raise MemoryNotFound(memory_id)
        return [found[i] for i in memory_ids]

    def set_status(
        self, memory_ids: Any, status: str, actor: str, reason: str | None = None
    ) -> list[Memory]:
        """Approve or reject many memories in one commit; unknown ids fail before any write.

        A memory another caller changed meanwhile is read again and the status set on its new
        version (a status change does not depend on the rest of the memory)."""
        ids = check_id_list("memory_ids", memory_ids)
        check_text("reviewer", actor)
        action = "approve" if status == "approved" else "reject"
        for attempt in range(RETRIES):
            changes = []
            for memory in self._load(ids):
                if memory.status == status:
                    continue
                new = self.repo.copy(memory)
                new.status = status
                changes.append((new, memory))
            try:
                self.repo.save_many(changes, actor=actor, action=action, reason=reason)
            except ConflictError:
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                continue
            return [new for new, _ in changes]
        raise ConflictError(ids, f"kept changing through {RETRIES} attempts")

    def edit_and_approve(
        self,
        memory_id: str,
        reviewer: str,
        changes: dict[str, Any],
        expected_version: int | None = None,
    ) -> Memory:
        """Apply a reviewer's edits and approve in one write (re-embedded if the text changed).

        The edits are set on the latest version (re-applied if another caller wrote first),
        unless expected_version is given: then a memory that moved on raises ConflictError."""
        check_text("reviewer", reviewer)
        (current,) = self._load([check_text("memory_id", memory_id)])
        apply_changes(current, changes, self.repo.copy(current))  # bad edits fail before I/O

        def change(memory: Memory) -> Memory:
            new = apply_changes(memory, changes, memory)
            new.status = "approved"
            return new

        edited = ", ".join(sorted(changes)) or "no fields"
        return self.repo.update(
            memory_id,
            change,
            actor=reviewer,
            action="approve",
            reason=f"edited: {edited}",
            expected_version=expected_version,
        )

    def validate(self, memory_id: str, actor: str) -> Memory:
        """Confirm a memory is still true: its decay clock restarts, stored confidence stays."""
        check_text("actor", actor)
        self._load([check_text("memory_id", memory_id)])

        def change(memory: Memory) -> Memory:
            setattr(memory, memory.CLOCK_FIELD, utcnow())
            return memory

        return self.repo.update(memory_id, change, actor=actor, action="validate")

    # ------------------------------------------------------------------ history

    def history(self, memory_id: str) -> list[HistoryEvent]:
        """Every event of a memory, oldest first (also for deleted or forgotten memories)."""
        check_text("memory_id", memory_id)
        rows = self.repo.events.of("memory", memory_id)
        if rows and not self.repo.is_known(memory_id):
            return []  # an event whose memory never committed (a crash): not shown
        return [_event(r) for r in rows]

    def revert(self, memory_id: str, event_id: str, actor: str) -> Memory:
        """Restore the memory as it was after that event (before it, for a removal).

        Raises ConflictError if the memory changed (or was restored) while this ran."""
        check_text("actor", actor)
        check_text("event_id", event_id)
        events = self.history(memory_id)
        event = next((e for e in events if e.id == event_id), None)
        if event is None:
            raise NotFoundError("event of this memory", event_id)
        snapshot = event.after if event.after is not None else event.before
        if snapshot is None:
            raise ValidationError("event_id", "the event holds no version of the memory")
        target = memory_from_plain(snapshot)
        reason = f"reverted to the version of event {event.id} ({event.action})"
        try:
            (current,) = self._load([memory_id])
        except MemoryNotFound:
            # Past every version it ever had, so no caller's old read can match it again.
            seen = [(e.after or e.before or {}).get("version") or 0 for e in events]
            target.version = max(seen, default=0) + 1
            self.repo.insert([target], actor=actor, action="revert", reason=reason, only_new=True)
            self.repo.archive.drop([memory_id])
            return target
        # Not re-applied on a conflict: a revert chosen against one version would silently undo
        # a change made since, so a concurrent write makes it raise ConflictError instead.
        return self.repo.save(target, before=current, actor=actor, action="revert", reason=reason)


def _event(row: dict[str, Any]) -> HistoryEvent:
    at = row["at"]
    return HistoryEvent(
        id=row["id"],
        memory_id=row["entity_id"],
        action=row["action"],
        actor=row["actor"],
        at=utc(at),
        before=json.loads(row["before"]) if row.get("before") else None,
        after=json.loads(row["after"]) if row.get("after") else None,
        reason=row.get("reason"),
    )
