"""Forgetting, the archive, and confidence curves for the dashboard.

`forget` applies the policy of `decay.forget_reason` and moves what it removes to the archive
table (no vector, no index entry stays in `memories`); `restore` re-embeds archived memories and
puts them back. Deleted memories land in the same archive, so they can be restored the same way.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import alma_store as st
from alma_app import decay
from alma_app.checks import check_confidence, check_id_list, check_limit, check_text, utc
from alma_app.errors import ConflictError, MemoryNotFound, ValidationError
from alma_app.memory.repository import RETRIES, MemoryRepository, memory_from_plain
from alma_app.memory.types import Memory
from alma_app.values import utcnow

SYSTEM = "system"
RESTORE_REASON = "restored from archive; decay clock restarted"


@dataclass(frozen=True)
class ForgottenMemory:
    memory: Memory
    reason: str


@dataclass(frozen=True)
class ForgetResult:
    """What forget() removed (or, in a dry run, would remove), each with the rule that applied."""

    dry_run: bool
    items: list[ForgottenMemory]

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def ids(self) -> list[str]:
        return [item.memory.id for item in self.items]

    @property
    def memories(self) -> list[Memory]:
        return [item.memory for item in self.items]


@dataclass(frozen=True)
class ArchivedMemory:
    memory: Memory
    archived_at: datetime
    actor: str
    reason: str | None


@dataclass(frozen=True)
class ExpiringMemory:
    """A memory whose effective confidence will fall below the forget threshold soon."""

    memory: Memory
    crosses_at: datetime
    days_left: float


def _number(argument: str, value: Any, *, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(argument, f"expected a finite number, got {value!r}")
    if value < low:
        raise ValidationError(argument, f"must be at least {low}, got {value!r}")
    return float(value)


class Forgetter:
    def __init__(self, repo: MemoryRepository) -> None:
        self.repo = repo

    def _scan(self, agent: str | None) -> list[Memory]:
        where = st.all_of(
            st.Eq("project_id", self.repo.settings.project_id),
            None if agent is None else st.Eq("agent", check_text("agent", agent)),
        )
        return self.repo.scan(where, order_by="id")

    def forget(
        self,
        agent: str | None = None,
        older_than_days: float = 90,
        min_confidence: float | None = None,
        dry_run: bool = False,
        below_confidence: float | None = None,
        actor: str = SYSTEM,
    ) -> ForgetResult:
        """Remove (to the archive) or, with dry_run, list the memories the policy forgets."""
        if below_confidence is not None:
            if min_confidence is not None and min_confidence != below_confidence:
                raise ValidationError(
                    "below_confidence", "is an alias of min_confidence; give only one"
                )
            min_confidence = below_confidence
        if min_confidence is None:
            min_confidence = self.repo.settings.decay.forget_threshold
        threshold = check_confidence(min_confidence, "min_confidence")
        days = _number("older_than_days", older_than_days)
        if not isinstance(dry_run, bool):
            raise ValidationError("dry_run", f"expected True or False, got {dry_run!r}")
        check_text("actor", actor)
        now = utcnow()
        items = []
        for memory in self._scan(agent):
            effective = memory.effective_confidence or 0.0
            reason = decay.forget_reason(memory, effective, now, days, threshold)
            if reason is not None:
                items.append(ForgottenMemory(memory, reason))
        if not dry_run:
            groups: dict[str, list[Memory]] = defaultdict(list)
            for item in items:
                groups[item.reason].append(item.memory)
            for reason, memories in groups.items():
                self._archive(memories, reason, actor, days, threshold)
        return ForgetResult(dry_run=dry_run, items=items)

    def _archive(
        self, memories: list[Memory], reason: str, actor: str, days: float, threshold: float
    ) -> None:
        """Archive one group; a memory changed meanwhile (reinforced, validated) is read again
        and archived only if the policy still forgets it, as it is now."""
        for attempt in range(RETRIES):
            try:
                self.repo.archive_and_delete(memories, actor=actor, action="forget", reason=reason)
                return
            except ConflictError:
                now = utcnow()
                memories = [
                    m
                    for m in self.repo.get_many([m.id for m in memories])
                    if decay.forget_reason(m, m.effective_confidence or 0.0, now, days, threshold)
                    == reason
                ]
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise ConflictError([m.id for m in memories], f"kept changing through {RETRIES} attempts")

    def restore(self, memory_ids: Any, actor: str) -> list[Memory]:
        """Put archived (forgotten or deleted) memories back, re-embedded, as they were except
        for the decay clock: it restarts now (a restore is a human saying the memory matters),
        so the next forget() does not archive them again at once. Raises ConflictError, storing
        nothing, if another caller restored one of them meanwhile."""
        ids = check_id_list("memory_ids", memory_ids)
        check_text("actor", actor)
        rows = self.repo.archive.rows(ids)
        present = self.repo.stored_ids(ids)
        memories = []
        now = utcnow()
        for memory_id in ids:
            row = rows.get(memory_id)
            if row is None or row["project_id"] != self.repo.settings.project_id:
                raise MemoryNotFound(memory_id)
            if memory_id in present:
                raise ValidationError("memory_ids", f"{memory_id!r} is not archived: it is stored")
            memory = memory_from_plain(json.loads(row["record"]))
            setattr(memory, memory.CLOCK_FIELD, now)
            memory.version += 1  # a change: a caller holding the archived version must re-read
            memories.append(memory)
        self.repo.insert(
            memories,
            actor=actor,
            action="restore",
            reason=RESTORE_REASON,
            only_new=True,
        )
        self.repo.archive.drop(ids)
        return memories

    def list_archived(self, agent: str | None = None, limit: int = 100) -> list[ArchivedMemory]:
        """Archived memories, most recently archived first."""
        check_limit("limit", limit, 1, 10_000)
        where = st.all_of(
            st.Eq("project_id", self.repo.settings.project_id),
            None if agent is None else st.Eq("agent", check_text("agent", agent)),
        )
        rows = self.repo.archive.page(where, limit=limit)
        return [
            ArchivedMemory(
                memory=memory_from_plain(json.loads(r["record"])),
                archived_at=utc(r["archived_at"]),
                actor=r["actor"],
                reason=r["reason"],
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ curves

    def confidence_curve(
        self,
        memory: Memory,
        start: datetime | None = None,
        end: datetime | None = None,
        points: int = 60,
    ) -> decay.ConfidenceCurve:
        """Effective confidence from start (default: the decay clock) to end (default: past the
        forget-threshold crossing and at least two half-lives), with the crossing time."""
        check_limit("points", points, 2, 10_000)
        for name, value in (("start", start), ("end", end)):
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise ValidationError(name, "expected a timezone-aware datetime")
        half_life = self.repo.settings.decay.half_life(memory.TYPE)
        threshold = self.repo.settings.decay.forget_threshold
        crossing = decay.crosses_at(memory.stored_confidence, memory.clock, half_life, threshold)
        start = start or memory.clock
        if end is None:
            end = max(start + timedelta(days=2 * half_life), utcnow() + timedelta(days=1))
            if crossing is not None:
                end = max(end, crossing + timedelta(days=0.1 * half_life))
        if end <= start:
            raise ValidationError("end", "must be after start")
        return decay.confidence_curve(
            memory.stored_confidence, memory.clock, half_life, threshold, start, end, points
        )

    def expiring(self, within_days: float = 30, agent: str | None = None) -> list[ExpiringMemory]:
        """Memories still above the forget threshold that will fall below it within N days,
        soonest first (the dashboard's Confidence page)."""
        horizon = _number("within_days", within_days)
        threshold = self.repo.settings.decay.forget_threshold
        now = utcnow()
        out = []
        for memory in self._scan(agent):
            half_life = self.repo.settings.decay.half_life(memory.TYPE)
            when = decay.crosses_at(memory.stored_confidence, memory.clock, half_life, threshold)
            if when is not None and now < when <= now + timedelta(days=horizon):
                days_left = (when - now).total_seconds() / 86400.0
                out.append(ExpiringMemory(memory, when, days_left))
        out.sort(key=lambda e: e.crosses_at)
        return out
