"""Arrow schemas of every table in the store: the one place that defines what is persisted.

Free-form and type-specific fields travel as JSON strings (`payload`, `metadata`) so that the
tables never need a schema migration when a memory type grows a field. Columns that are filtered,
sorted or aggregated on are real columns.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

VECTOR = "vector"
ROW_VERSION = "version"
TS = pa.timestamp("us", tz="UTC")


def memories(dim: int) -> pa.Schema:
    """All five memory types in one table: one vector index, one FTS index, one place to filter."""
    return pa.schema(
        [
            ("id", pa.string()),
            (
                "type",
                pa.string(),
            ),  # heuristic | outcome | preference | domain_knowledge | anti_pattern
            ("agent", pa.string()),  # owning agent; for preferences the user_id
            ("user_id", pa.string()),
            ("project_id", pa.string()),
            ("status", pa.string()),  # pending | approved | rejected
            ("category", pa.string()),  # task type, preference category or knowledge domain
            ("text", pa.string()),  # the searchable rendering of the memory (FTS + embedding)
            ("confidence", pa.float64()),  # stored confidence; decay is applied when read
            ("created_at", TS),
            ("updated_at", TS),
            ("validated_at", TS),  # the decay clock: last validated / verified / seen
            ("shared_with", pa.list_(pa.string())),  # other agents that may retrieve it
            ("payload", pa.string()),  # JSON: the type-specific fields
            ("metadata", pa.string()),  # JSON: free-form user metadata
            # Row version for optimistic concurrency: +1 per conditional update (null reads as 0;
            # added to stores made before it existed when they are opened, see MIGRATED).
            (ROW_VERSION, pa.int64()),
            (VECTOR, pa.list_(pa.float32(), dim)),
        ]
    )


def events(dim: int) -> pa.Schema:
    """Append-only audit log: who did what to which record, with before/after values."""
    del dim
    return pa.schema(
        [
            ("id", pa.string()),
            ("at", TS),
            ("project_id", pa.string()),
            ("entity", pa.string()),  # memory | work_item | session | handoff
            ("entity_id", pa.string()),
            ("action", pa.string()),  # create | reinforce | edit | approve | reject | delete | ...
            ("actor", pa.string()),
            ("before", pa.string()),  # JSON or null
            ("after", pa.string()),  # JSON or null
            ("reason", pa.string()),
        ]
    )


def archive(dim: int) -> pa.Schema:
    """Forgotten or deleted memories, without vectors; restore re-embeds them."""
    del dim
    return pa.schema(
        [
            ("id", pa.string()),  # the memory id
            ("type", pa.string()),
            ("agent", pa.string()),
            ("project_id", pa.string()),
            ("archived_at", TS),
            ("actor", pa.string()),
            ("reason", pa.string()),
            ("record", pa.string()),  # JSON of the full memory row minus its vector
        ]
    )


def work_items(dim: int) -> pa.Schema:
    """The shared board: one row per work item; dependencies are a list column to filter on."""
    del dim
    return pa.schema(
        [
            ("id", pa.string()),
            ("project_id", pa.string()),
            ("agent", pa.string()),  # assignee; null means unassigned
            ("title", pa.string()),
            ("item_type", pa.string()),  # task | feature | bug | research_question | ...
            ("status", pa.string()),  # pending | in_progress | blocked | review | done | failed
            ("priority", pa.int32()),  # 0-100, higher first
            ("parent_id", pa.string()),
            ("blocked_by", pa.list_(pa.string())),  # ids this item waits on
            ("created_at", TS),
            ("updated_at", TS),
            ("started_at", TS),
            ("completed_at", TS),
            ("payload", pa.string()),  # JSON: description, criteria, tests, timings, metadata
        ]
    )


def sessions(dim: int) -> pa.Schema:
    """One row per agent work session; decisions and blockers accumulate in the payload."""
    del dim
    return pa.schema(
        [
            ("id", pa.string()),
            ("project_id", pa.string()),
            ("agent", pa.string()),
            ("goal", pa.string()),
            ("status", pa.string()),  # active | ended
            ("started_at", TS),
            ("updated_at", TS),
            ("ended_at", TS),
            ("payload", pa.string()),  # JSON: decisions, blockers, active files, metadata
        ]
    )


def handoffs(dim: int) -> pa.Schema:
    """What a session leaves for the next one; embedded and full-text indexed for search."""
    return pa.schema(
        [
            ("id", pa.string()),
            ("project_id", pa.string()),
            ("agent", pa.string()),
            ("session_id", pa.string()),
            ("created_at", TS),
            ("last_outcome", pa.string()),  # success | failure | partial | interrupted | unknown
            ("text", pa.string()),  # searchable rendering
            ("payload", pa.string()),  # JSON: last action, decisions, blockers, next steps, ...
            (VECTOR, pa.list_(pa.float32(), dim)),
        ]
    )


TABLES: dict[str, Callable[[int], pa.Schema]] = {
    "memories": memories,
    "events": events,
    "archive": archive,
    "work_items": work_items,
    "sessions": sessions,
    "handoffs": handoffs,
}

# Columns added after a table's first release: opening an older store adds them (all null).
MIGRATED: dict[str, tuple[str, ...]] = {"memories": (ROW_VERSION,)}

# Tables searched by text get an FTS index on this column.
FTS_COLUMN = "text"


def schema_for(table: str, dim: int) -> pa.Schema:
    try:
        return TABLES[table](dim)
    except KeyError:
        from .errors import InvalidQuery

        raise InvalidQuery(f"unknown table {table!r}; known: {sorted(TABLES)}") from None
