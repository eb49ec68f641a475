"""Read-only figures for the dashboard, computed by DuckDB over the store's tables.

Each function is one SQL query with `?` parameters (never user values in the SQL text), scoped
to the ALMA handle's project, so the Overview stays fast at 100k memories and any number of
processes can read while agents write. Raises StorageError when the store cannot be read.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from alma_app.consistency import KNOWN_MEMORY
from alma_app.memories import check_text
from alma_app.queries import check_count, sql_rows

if TYPE_CHECKING:
    from alma_app.api import ALMA

USERS = "(users)"  # how preferences (which belong to users, not agents) are grouped

# A memory's own words inside an event's JSON snapshot, whatever its type.
_SNAPSHOT_TEXT = (
    "coalesce("
    + ", ".join(
        f"json_extract_string(snap, '$.{name}')"
        for name in ("strategy", "fact", "preference", "pattern", "task")
    )
    + ")"
)


def agent_counts(alma: ALMA) -> dict[str, dict[str, int]]:
    """Per agent (preferences under "(users)"): how many memories, and how many are pending."""
    rows = sql_rows(
        alma.store,
        "SELECT coalesce(agent, '') AS agent, count(*) AS total, "
        "count(*) FILTER (WHERE status = 'pending') AS pending "
        "FROM memories WHERE project_id = ? GROUP BY ALL ORDER BY agent",
        [alma.project_id],
        ["memories"],
    )
    return {
        (r["agent"] or USERS): {"total": int(r["total"]), "pending": int(r["pending"])}
        for r in rows
    }


def memory_growth(alma: ALMA, agent: str | None = None) -> list[dict[str, Any]]:
    """Memories per creation day and type, with the running total per type (for a chart)."""
    where = "project_id = ?"
    params: list[Any] = [alma.project_id]
    if agent is not None:
        where += " AND agent = ?"
        params.append(check_text("agent", agent))
    return sql_rows(
        alma.store,
        "SELECT day, type, added, "
        "CAST(sum(added) OVER (PARTITION BY type ORDER BY day) AS BIGINT) AS total "
        "FROM (SELECT CAST(date_trunc('day', created_at) AS DATE) AS day, type, "
        f"count(*) AS added FROM memories WHERE {where} GROUP BY ALL) ORDER BY day, type",
        params,
        ["memories"],
    )


def recent_activity(
    alma: ALMA, limit: int = 20, agent: str | None = None, since: datetime | None = None
) -> list[dict[str, Any]]:
    """The latest changes to memories from the audit log, newest first: when, what, who, why.

    Two steps keep it fast on a long log: pick the newest event ids reading only small columns,
    then read the JSON snapshots of just those events. Events whose memory never committed
    (a crash between the two commits) are left out (alma_app.consistency).
    """
    where = f"project_id = ? AND entity = 'memory' AND {KNOWN_MEMORY}"
    params: list[Any] = [alma.project_id]
    tables = ["events", "memories", "archive"]
    if agent is not None:
        check_text("agent", agent)
        where += (
            " AND (entity_id IN (SELECT id FROM memories WHERE agent = ?)"
            " OR entity_id IN (SELECT id FROM archive WHERE agent = ?))"
        )
        params += [agent, agent]
    if since is not None:
        where += ' AND "at" >= ?'
        params.append(since)
    params.append(check_count("limit", limit, 1, 10_000))
    newest = sql_rows(
        alma.store,
        f'SELECT id FROM events WHERE {where} ORDER BY "at" DESC LIMIT ?',
        params,
        tables,
    )
    if not newest:
        return []
    return sql_rows(
        alma.store,
        'SELECT "at", action, actor, entity_id AS memory_id, reason, '
        "json_extract_string(snap, '$.type') AS type, "
        "json_extract_string(snap, '$.agent') AS agent, "
        f"{_SNAPSHOT_TEXT} AS memory "
        "FROM (SELECT *, coalesce(after, before) AS snap FROM events "
        'WHERE list_contains(?, id)) ORDER BY "at" DESC',
        [[r["id"] for r in newest]],
        ["events"],
    )
