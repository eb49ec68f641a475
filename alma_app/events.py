"""The events table's one door: every change of a memory, work item, session or handoff, and the
retrieval counts, are appended here, with one JSON encoding; readers ask here too.

An event is (entity_id, action, actor, before, after, reason) under an entity ("memory",
"work_item", "session", "handoff", "usage"), stamped with an id, the time and the project.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import alma_store as st
from alma_app.errors import store_errors
from alma_app.values import dumps, new_id, utcnow

HUMAN = "human"  # the actor of changes made by people (dashboard, CLI)
# One event: (entity_id, action, actor, before, after, reason).
EventEntry = tuple[str, str, str, Any, Any, str | None]


class EventLog:
    """Appends and reads the events of one project."""

    def __init__(self, store: st.LanceStore, project_id: str) -> None:
        self.store = store
        self.project_id = project_id

    def for_project(self, project_id: str) -> EventLog:
        """The same table, for another project (a tracker opened on another project id)."""
        return self if project_id == self.project_id else EventLog(self.store, project_id)

    def rows(self, entity: str, entries: Sequence[EventEntry]) -> list[dict[str, Any]]:
        """The rows these events become (a writer that commits them beside its own rows)."""
        now = utcnow()
        return [
            {
                "id": new_id(),
                "at": now,
                "project_id": self.project_id,
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
                "actor": actor,
                "before": None if before is None else dumps(before),
                "after": None if after is None else dumps(after),
                "reason": reason,
            }
            for entity_id, action, actor, before, after, reason in entries
        ]

    def append(self, entity: str, entries: Sequence[EventEntry]) -> None:
        """Append the events in one commit (nothing for none)."""
        if not entries:
            return
        with store_errors():
            self.store.add("events", self.rows(entity, entries))

    def append_raw(self, entity: str, entries: Sequence[EventEntry]) -> None:
        """append() without translating the store's errors (background writers that log them)."""
        if entries:
            self.store.add("events", self.rows(entity, entries))

    def of(self, entity: str, entity_id: str) -> list[dict[str, Any]]:
        """Every event of one entity, oldest first."""
        where = st.And(
            (
                st.Eq("project_id", self.project_id),
                st.Eq("entity", entity),
                st.Eq("entity_id", entity_id),
            )
        )
        with store_errors():
            return self.store.scan("events", where, order_by="at")

    def changes(
        self,
        entity: str,
        actions: Sequence[str],
        *,
        entity_id: str | None = None,
        agent: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Events of these actions, newest first; `agent` matches the snapshot's agent after."""
        marks = ", ".join("?" for _ in actions)
        sql = (
            'SELECT entity_id, action, actor, reason, "at", "before", "after" FROM events '
            f"WHERE project_id = ? AND entity = ? AND action IN ({marks})"
        )
        params: list[Any] = [self.project_id, entity, *actions]
        if entity_id is not None:
            sql += " AND entity_id = ?"
            params.append(entity_id)
        if agent is not None:
            sql += " AND json_extract_string(\"after\", '$.agent') = ?"
            params.append(agent)
        sql += ' ORDER BY "at" DESC, id DESC LIMIT ?'
        params.append(limit)
        with store_errors():
            return self.store.sql(sql, params, tables=["events"]).to_pylist()

    def unlogged(self, table: str, entity: str, before: datetime, limit: int) -> list[str]:
        """Ids of the project's rows in `table` last updated before `before` that have no event
        of `entity` at all (writes a crash cut in half; see alma_app.memory.consistency)."""
        with store_errors():
            rows = self.store.sql(
                f"SELECT id FROM {table} WHERE project_id = ? AND updated_at < ? AND id NOT IN "
                "(SELECT entity_id FROM events WHERE entity = ? AND project_id = ?) "
                "ORDER BY id LIMIT ?",
                [self.project_id, before, entity, self.project_id, limit],
                tables=[table, "events"],
            ).to_pylist()
        return [r["id"] for r in rows]
