"""MemoryRepository: memories in the store, with embeddings, events, archive and decay on read.

Every change goes through here so that it is embedded, validated and recorded as an event with
its before/after values. The facade in api.py and the learning code both use it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

import alma_store as st
from alma_app import decay
from alma_app.checks import MAX_TEXT_CHARS as MAX_TEXT_CHARS
from alma_app.checks import check_confidence as check_confidence
from alma_app.checks import check_limit, check_text
from alma_app.config import Settings
from alma_app.embeddings import Embedder
from alma_app.errors import ConflictError, MemoryNotFound, ValidationError
from alma_app.errors import store_errors as store_errors
from alma_app.events import EventEntry as EventEntry
from alma_app.events import EventLog
from alma_app.memory import task_vectors
from alma_app.memory.archive import Archive
from alma_app.memory.records import ROW_COLUMNS, check_memory, from_row, to_plain, to_row
from alma_app.memory.records import memory_from_plain as memory_from_plain
from alma_app.memory.types import Memory, MemoryPage
from alma_app.values import utcnow

TASK_VECTOR = task_vectors.COLUMN

RETRIES = 20  # re-reads of a memory whose conditional write lost a race, before ConflictError
ORDERABLE = ("created_at", "updated_at", "confidence", "validated_at", "type", "agent", "status")


class MemoryRepository:
    """The memories and archive tables' one door (events go through the EventLog it holds)."""

    def __init__(
        self,
        store: st.LanceStore,
        embedder: Embedder,
        settings: Settings,
        events: EventLog | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.events = events or EventLog(store, settings.project_id)
        self.archive = Archive(store)

    # ------------------------------------------------------------------ reading

    def version(self) -> int:
        """The memories table's version: it changes with every write (retrieve's cache key)."""
        with store_errors():
            return self.store.version("memories")

    def hydrate(self, row: dict[str, Any], now: datetime | None = None) -> Memory:
        memory = from_row(row)
        memory.effective_confidence = decay.effective_confidence(
            memory.stored_confidence,
            memory.clock,
            now or utcnow(),
            self.settings.decay.half_life(memory.TYPE),
        )
        return memory

    def get(self, memory_id: str) -> Memory:
        check_text("memory_id", memory_id)
        with store_errors():
            rows = self.store.get("memories", [memory_id], columns=ROW_COLUMNS)
        if not rows:
            raise MemoryNotFound(memory_id)
        return self.hydrate(rows[0])

    def get_many(self, ids: Sequence[str]) -> list[Memory]:
        with store_errors():
            rows = self.store.get("memories", list(ids), columns=ROW_COLUMNS)
        by_id = {r["id"]: r for r in rows}
        now = utcnow()
        return [self.hydrate(by_id[i], now) for i in ids if i in by_id]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {k: vector for k, (vector, _) in self.stored_vectors(ids).items()}

    def stored_vectors(self, ids: Sequence[str]) -> dict[str, tuple[np.ndarray, bytes | None]]:
        """Each memory's vector and task vector (memory/task_vectors.py), as stored."""
        with store_errors():
            rows = self.store.get("memories", list(ids), columns=["id", "vector", TASK_VECTOR])
        return {
            r["id"]: (np.asarray(r["vector"], dtype=np.float32), r.get(TASK_VECTOR)) for r in rows
        }

    def find(
        self,
        where: st.Filter | None,
        *,
        limit: int = 50,
        offset: int = 0,
        order_by: str = "created_at",
        descending: bool = True,
    ) -> MemoryPage:
        if order_by not in ORDERABLE:
            raise ValidationError("order_by", f"must be one of {ORDERABLE}, got {order_by!r}")
        check_limit("limit", limit, 1, 10_000)
        if not isinstance(offset, int) or offset < 0:
            raise ValidationError("offset", f"must be a non-negative integer, got {offset!r}")
        scoped = st.all_of(st.Eq("project_id", self.settings.project_id), where)
        with store_errors():
            total = self.store.count("memories", scoped)
        page = self.scan(
            scoped, order_by=order_by, descending=descending, limit=limit, offset=offset
        )
        return MemoryPage(page, total=total, offset=offset, limit=limit)

    # ------------------------------------------------------------------ writing

    def validate(self, memory: Memory) -> None:
        """Every field checked (alma_app.checks.check_memory) before any write."""
        check_memory(memory)

    def embed(self, memories: Sequence[Memory]) -> np.ndarray:
        return self.embedder.embed([m.text() for m in memories])

    def insert(
        self,
        memories: Sequence[Memory],
        *,
        actor: str,
        action: str = "create",
        vectors: np.ndarray | None = None,
        reason: str | None = None,
        only_new: bool = False,
    ) -> None:
        """Store new memories in one commit, embedding them in one batch, and log the events.

        only_new (restore, revert of a removed memory): refuse with ConflictError, storing
        nothing, if any id is stored already (another caller restored it first); the memories
        then commit before their events.

        The memories and their events commit at the same time (store.add_many) and this returns
        only once both have: a single write costs the slower commit, not the sum of both (2-4 ms
        of ~20 on 2 cores). The price: in sequence, a crash or a failed commit could only leave
        memories without their events; now it can also leave events naming memories that were
        never stored, and a reader may see an event a moment before its memory. Imports
        (upsert_new) keep the sequence.
        """
        if not memories:
            return
        for m in memories:
            if not m.project_id:
                m.project_id = self.settings.project_id
            self.validate(m)
        vectors, tasks = task_vectors.embed(self.embedder, memories, vectors)
        rows = [to_row(*row) for row in zip(memories, vectors, tasks, strict=True)]
        events = self.event_rows(
            [(m.id, action, actor, None, to_plain(m), reason) for m in memories]
        )
        with store_errors():
            if only_new:
                self.store.add_new("memories", rows)
                self.store.add("events", events)
            else:
                self.store.add_many([("memories", rows), ("events", events)])

    def upsert_new(
        self, memories: Sequence[Memory], *, vectors: np.ndarray, actor: str, action: str
    ) -> None:
        """Store memories whole in one commit, replacing any with the same id (import)."""
        if not memories:
            return
        for m in memories:
            self.validate(m)
        vectors, tasks = task_vectors.embed(self.embedder, memories, vectors)
        rows = [to_row(*row) for row in zip(memories, vectors, tasks, strict=True)]
        with store_errors():
            self.store.upsert("memories", rows)
        self.log([(m.id, action, actor, None, to_plain(m), None) for m in memories])

    def save(
        self,
        memory: Memory,
        *,
        before: Memory,
        actor: str,
        action: str,
        reason: str | None = None,
    ) -> Memory:
        """Replace a stored memory by its new version; re-embeds when its text changed.

        Conditional: it writes only if the stored memory is still at `before.version`, else
        raises ConflictError and writes nothing (update() is the form that re-reads and
        re-applies a change). The memory commits before its event.
        """
        memory.updated_at = utcnow()
        memory.version = before.version + 1
        self.validate(memory)
        if memory.text() != before.text():
            vectors, tasks = task_vectors.embed(self.embedder, [memory])
            stored: tuple[Any, bytes | None] | None = (vectors[0], tasks[0])
        else:
            stored = self.stored_vectors([memory.id]).get(memory.id)
        if stored is None:
            raise MemoryNotFound(memory.id)
        with store_errors():
            self.store.update_if("memories", [to_row(memory, *stored)], {memory.id: before.version})
        self.log([(memory.id, action, actor, to_plain(before), to_plain(memory), reason)])
        return memory

    def update(
        self,
        memory_id: str,
        change: Callable[[Memory], Memory | None],
        *,
        actor: str,
        action: str,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Memory:
        """Read-modify-write one memory without losing a concurrent change.

        `change` gets a copy of the latest version and returns the new one (None: nothing to
        do; the current one is returned). When another caller wrote in between, the memory is
        read again and `change` applied again, so it must depend only on the memory it is given
        (one more occurrence, a status, a field's new value). With expected_version (the version
        the caller's decision was based on) a memory that has moved on raises ConflictError
        instead. ConflictError too after RETRIES lost races; MemoryNotFound once it is gone.
        """
        for attempt in range(RETRIES):
            before = self.get(memory_id)
            if expected_version is not None and before.version != expected_version:
                why = f"is at version {before.version}, not {expected_version}"
                raise ConflictError([memory_id], why)
            new = change(self.copy(before))
            if new is None:
                return before
            try:
                return self.save(new, before=before, actor=actor, action=action, reason=reason)
            except ConflictError:
                if expected_version is not None:
                    raise
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise ConflictError([memory_id], f"kept changing through {RETRIES} attempts")

    @contextmanager
    def writing(self, *key: str) -> Iterator[None]:
        """Serialise a "look for a match, then create or reinforce" section per key, across the
        processes sharing a local store (two writers of the same fact at the same instant must
        not both create it). Keys are scoped to the project."""
        with store_errors(), self.store.exclusive("/".join((self.settings.project_id, *key))):
            yield

    def save_many(
        self,
        changes: Sequence[tuple[Memory, Memory]],
        *,
        actor: str,
        action: str,
        reason: str | None = None,
    ) -> None:
        """Replace several memories in one commit (bulk review); text must not change.

        Conditional like save(): all are written or, if any changed since read, none
        (ConflictError)."""
        if not changes:
            return
        vectors = self.stored_vectors([new.id for new, _ in changes])
        rows = []
        now = utcnow()
        for new, before in changes:
            if new.id not in vectors:
                raise ConflictError([new.id], "was removed since it was read")
            new.updated_at = now
            new.version = before.version + 1
            self.validate(new)
            rows.append(to_row(new, *vectors[new.id]))
        expected = {before.id: before.version for _, before in changes}
        with store_errors():
            self.store.update_if("memories", rows, expected)
        self.log([(n.id, action, actor, to_plain(b), to_plain(n), reason) for n, b in changes])

    def archive_and_delete(
        self, memories: Sequence[Memory], *, actor: str, action: str, reason: str | None = None
    ) -> None:
        """Move memories to the archive (restorable) and remove them and their vectors.

        Only if none changed since read (else ConflictError, nothing archived or removed): an
        archive must hold the version that was removed, not an older one."""
        if not memories:
            return
        now = utcnow()
        archived = [
            {
                "id": m.id,
                "type": m.TYPE,
                "agent": m.agent,
                "project_id": m.project_id,
                "archived_at": now,
                "actor": actor,
                "reason": reason,
                "record": json.dumps(to_plain(replace(m, score=None)), ensure_ascii=False),
            }
            for m in memories
        ]
        with store_errors():
            self.store.upsert("archive", archived)
            try:
                self.store.delete_if("memories", {m.id: m.version for m in memories})
            except st.VersionConflict:
                self.store.delete("archive", [m.id for m in memories])  # as it was
                raise
        self.log([(m.id, action, actor, to_plain(m), None, reason) for m in memories])

    def log(self, entries: Sequence[EventEntry]) -> None:
        """Append events (memory_id, action, actor, before, after, reason) in one commit."""
        self.events.append("memory", entries)

    def event_rows(self, entries: Sequence[EventEntry]) -> list[dict[str, Any]]:
        """The events table's rows for these events (insert commits them beside the memories)."""
        return self.events.rows("memory", entries)

    # ------------------------------------------------------------------ other reads

    def scan(
        self,
        where: st.Filter | None,
        *,
        order_by: str = "id",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Memory]:
        """Every memory matching `where` (no project scope added), hydrated."""
        with store_errors():
            rows = self.store.scan(
                "memories",
                where,
                columns=ROW_COLUMNS,
                order_by=order_by,
                descending=descending,
                limit=limit,
                offset=offset,
            )
        now = utcnow()
        return [self.hydrate(r, now) for r in rows]

    def nearest(self, vector: np.ndarray, where: st.Filter, *, limit: int) -> list[Memory]:
        """The memories matching `where` nearest to a vector, nearest first."""
        with store_errors():
            rows = self.store.vector_search(
                "memories", vector, where=where, limit=limit, columns=ROW_COLUMNS
            )
        now = utcnow()
        return [self.hydrate(r, now) for r in rows]

    def stored_ids(self, ids: Sequence[str]) -> set[str]:
        """The ids among these that are stored (not archived, not unknown)."""
        return {r["id"] for r in self.rows(ids, ["id"])}

    def rows(self, ids: Sequence[str], columns: list[str] | None = None) -> list[dict[str, Any]]:
        """The stored rows of these ids, whole unless columns are named (an import's undo)."""
        with store_errors():
            return self.store.get("memories", list(ids), columns=columns)

    def put_back(self, added: Sequence[str], replaced: list[dict[str, Any]]) -> None:
        """Undo an import: remove the memories it added, store the rows it replaced."""
        with store_errors():
            self.store.delete("memories", list(added))
            if replaced:
                self.store.upsert("memories", replaced)

    def is_known(self, memory_id: str) -> bool:
        """Whether the memory is stored or archived (its events are then real ones)."""
        return bool(self.stored_ids([memory_id]) or self.archive.ids([memory_id]))

    def successful_strategies(self, agent: str, task_type: str, limit: int = 20) -> list[str]:
        """Strategies of the agent's successful outcomes of a task type, most frequent first."""
        with store_errors():
            rows = self.store.sql(
                "SELECT json_extract_string(payload, '$.strategy_used') AS strategy, "
                "count(*) AS n FROM memories WHERE project_id = ? AND type = 'outcome' "
                "AND agent = ? AND category = ? AND json_extract(payload, '$.success')::BOOLEAN "
                "GROUP BY strategy ORDER BY n DESC, strategy LIMIT ?",
                [self.settings.project_id, agent, task_type, limit],
                tables=["memories"],
            ).to_pylist()
        return [r["strategy"] for r in rows if r["strategy"]]

    def copy(self, memory: Memory) -> Memory:
        return replace(memory, shared_with=list(memory.shared_with), metadata=dict(memory.metadata))
