"""ALMA's tables as the store sees them: columns, the text column searched, the indexed filters.

The store (alma_store) is generic; `ALMA` and `alma doctor` hand it TABLES when they open it.
Free-form and type-specific fields travel as JSON strings (`payload`, `metadata`) so that the
tables never need a schema migration when a memory type grows a field. Columns that are filtered,
sorted or aggregated on are real columns.
"""

from __future__ import annotations

import pyarrow as pa

from alma_store import ROW_VERSION, VECTOR, TableSpec

TS = pa.timestamp("us", tz="UTC")
TEXT = "text"  # the searchable rendering of a memory or handoff (FTS + embedding)


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
            (TEXT, pa.string()),  # the searchable rendering of the memory (FTS + embedding)
            ("confidence", pa.float64()),  # stored confidence; decay is applied when read
            ("created_at", TS),
            ("updated_at", TS),
            ("validated_at", TS),  # the decay clock: last validated / verified / seen
            ("shared_with", pa.list_(pa.string())),  # other agents that may retrieve it
            ("payload", pa.string()),  # JSON: the type-specific fields
            ("metadata", pa.string()),  # JSON: free-form user metadata
            # Row version for optimistic concurrency: +1 per conditional update (null reads as 0;
            # added to stores made before it existed when they are opened: `migrated` below).
            (ROW_VERSION, pa.int64()),
            (VECTOR, pa.list_(pa.float32(), dim)),
            # An outcome's task embedded alone, float16 bytes (alma_app/memory/task_vectors.py);
            # null for other types and in stores made before it existed (`migrated` below).
            ("task_vector", pa.binary()),
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
            (TEXT, pa.string()),  # searchable rendering
            ("payload", pa.string()),  # JSON: last action, decisions, blockers, next steps, ...
            (VECTOR, pa.list_(pa.float32(), dim)),
        ]
    )


# Every retrieval filters on these low-cardinality columns: bitmap indexes make the prefilter of
# a vector search cheap (at 100k memories, about 11 ms instead of 19 ms per search).
_FILTERED = ("project_id", "agent", "type", "status")

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "memories",
        memories,
        fts_column=TEXT,
        bitmap_columns=_FILTERED,
        label_list_columns=("shared_with",),
        migrated=(ROW_VERSION, "task_vector"),
        cluster_column="agent",  # retrieval filters on it
    ),
    TableSpec("events", events),
    TableSpec("archive", archive),
    TableSpec("work_items", work_items),
    TableSpec("sessions", sessions),
    TableSpec(
        "handoffs",
        handoffs,
        fts_column=TEXT,
        bitmap_columns=("project_id", "agent"),
        cluster_column="agent",
    ),
)
