"""Read-only figures for the dashboard, computed by DuckDB over the store's tables.

Each function is one SQL query with `?` parameters (never user values in the SQL text), scoped
to the ALMA handle's project, so the Overview stays fast at 100k memories and any number of
processes can read while agents write. Raises StorageError when the store cannot be read.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from alma_app.memories import check_text, store_errors

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


def _query(alma: ALMA, sql: str, params: list[Any], tables: list[str]) -> list[dict[str, Any]]:
    with store_errors():
        return alma.store.sql(sql, params, tables=tables).to_pylist()


def _limit(value: Any, argument: str = "limit") -> int:
    from alma_app.errors import ValidationError

    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise ValidationError(argument, f"must be an integer from 1 to 10000, got {value!r}")
    return value


def agent_counts(alma: ALMA) -> dict[str, dict[str, int]]:
    """Per agent (preferences under "(users)"): how many memories, and how many are pending."""
    rows = _query(
        alma,
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


def pending_count(alma: ALMA, agent: str | None = None) -> int:
    """How many memories wait for review (of one agent, or all)."""
    sql = "SELECT count(*) AS n FROM memories WHERE project_id = ? AND status = 'pending'"
    params: list[Any] = [alma.project_id]
    if agent is not None:
        sql += " AND agent = ?"
        params.append(check_text("agent", agent))
    return int(_query(alma, sql, params, ["memories"])[0]["n"])


def memory_growth(alma: ALMA, agent: str | None = None) -> list[dict[str, Any]]:
    """Memories per creation day and type, with the running total per type (for a chart)."""
    where = "project_id = ?"
    params: list[Any] = [alma.project_id]
    if agent is not None:
        where += " AND agent = ?"
        params.append(check_text("agent", agent))
    return _query(
        alma,
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
    then read the JSON snapshots of just those events.
    """
    where = "project_id = ? AND entity = 'memory'"
    params: list[Any] = [alma.project_id]
    tables = ["events"]
    if agent is not None:
        check_text("agent", agent)
        where += (
            " AND (entity_id IN (SELECT id FROM memories WHERE agent = ?)"
            " OR entity_id IN (SELECT id FROM archive WHERE agent = ?))"
        )
        params += [agent, agent]
        tables += ["memories", "archive"]
    if since is not None:
        where += ' AND "at" >= ?'
        params.append(since)
    params.append(_limit(limit))
    newest = _query(
        alma, f'SELECT id FROM events WHERE {where} ORDER BY "at" DESC LIMIT ?', params, tables
    )
    if not newest:
        return []
    return _query(
        alma,
        'SELECT "at", action, actor, entity_id AS memory_id, reason, '
        "json_extract_string(snap, '$.type') AS type, "
        "json_extract_string(snap, '$.agent') AS agent, "
        f"{_SNAPSHOT_TEXT} AS memory "
        "FROM (SELECT *, coalesce(after, before) AS snap FROM events "
        'WHERE list_contains(?, id)) ORDER BY "at" DESC',
        [[r["id"] for r in newest]],
        ["events"],
    )


def activity_by_day(alma: ALMA, days: int = 30) -> list[dict[str, Any]]:
    """Events on memories per day and action over the last `days` days (review throughput)."""
    _limit(days, "days")
    return _query(
        alma,
        "SELECT CAST(date_trunc('day', \"at\") AS DATE) AS day, action, count(*) AS events "
        "FROM events WHERE project_id = ? AND entity = 'memory' "
        'AND "at" >= now() - to_days(CAST(? AS INTEGER)) GROUP BY ALL ORDER BY day, action',
        [alma.project_id, days],
        ["events"],
    )
