"""Analytics for the dashboard: DuckDB queries over the store's tables, returned as plain rows.

Every query runs through the store's SQL with `?` parameters (never a value spliced into SQL),
is scoped to the ALMA's project, and does its aggregation in DuckDB so that the pages stay fast
at 100k memories and any number of processes can read while agents write. Effective confidence
is computed in SQL with the same formula as alma_app.decay (stored x 0.5 ** (days since the
decay clock / the type's half-life)). Raises StorageError when the store cannot be read.

What the store does not record is not invented here: retrievals are not logged by the core yet,
so `most_retrieved` reads `retrieve` events and returns nothing until such events exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alma_app.checks import check_confidence, check_text
from alma_app.errors import ValidationError
from alma_app.memory.consistency import KNOWN_MEMORY
from alma_app.memory.filters import check_count, sql_rows
from alma_app.types import MEMORY_TYPES, utcnow

if TYPE_CHECKING:
    from alma_app.api import ALMA

Rows = list[dict[str, Any]]
GROUPS = {"type": "type", "agent": "coalesce(agent, '(users)')"}  # group-by choices → SQL
PERIODS = ("day", "week", "month")
USERS = "(users)"  # how preferences (no agent) are labelled


def _days(argument: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 36500:
        raise ValidationError(argument, f"must be a number of days from 0 to 36500, got {value!r}")
    return float(value)


def effective_sql(alma: ALMA, at: datetime | str = "now") -> tuple[str, list[Any]]:
    """A SQL expression for the effective confidence of a `memories` row at a time, and its
    parameters (`at` may also be the name of a column holding epoch seconds)."""
    half_lives = [alma.settings.decay.half_life(t) for t in MEMORY_TYPES]
    case = "CASE type " + " ".join("WHEN ? THEN ?" for _ in MEMORY_TYPES) + " END"
    case_params: list[Any] = [
        v for pair in zip(MEMORY_TYPES, half_lives, strict=True) for v in pair
    ]
    if isinstance(at, datetime):
        moment, params = "epoch(?::TIMESTAMPTZ)", [at]
    else:
        moment, params = at, []
    sql = f"confidence * pow(0.5, greatest({moment} - epoch(validated_at), 0) / 86400.0 / {case})"
    return sql, params + case_params


# ---------------------------------------------------------------------- confidence


def confidence_histogram(alma: ALMA, bins: int = 20, agent: str | None = None) -> Rows:
    """Approved memories counted per bin of current effective confidence and per type:
    rows {bin_start, bin_end, type, memories}; the last bin includes 1.0."""
    bins = check_count("bins", bins, 2, 100)
    effective, params = effective_sql(alma, utcnow())
    where, where_params = "project_id = ? AND status = 'approved'", [alma.project_id]
    if agent is not None:
        where += " AND agent = ?"
        where_params.append(check_text("agent", agent))
    query = (
        f"SELECT least(floor(({effective}) * ?), ? - 1)::INT AS bin, type, count(*) AS memories "
        f"FROM memories WHERE {where} GROUP BY ALL ORDER BY bin, type"
    )
    rows = sql_rows(alma.store, query, [*params, bins, bins, *where_params], ["memories"])
    return [
        {
            "bin_start": r["bin"] / bins,
            "bin_end": (r["bin"] + 1) / bins,
            "type": r["type"],
            "memories": int(r["memories"]),
        }
        for r in rows
    ]


def average_curves(
    alma: ALMA,
    group: str = "type",
    start: datetime | None = None,
    end: datetime | None = None,
    points: int = 60,
) -> Rows:
    """The average effective confidence of approved memories per type or agent, sampled from
    start (default 90 days ago) to end (default 180 days ahead): rows {time, group, confidence}."""
    if group not in GROUPS:
        raise ValidationError("group", f"must be one of {tuple(GROUPS)}, got {group!r}")
    points = check_count("points", points, 2, 1000)
    now = utcnow()
    start = start or now - timedelta(days=90)
    end = end or now + timedelta(days=180)
    if end <= start:
        raise ValidationError("end", "must be after start")
    step = (end - start).total_seconds() / (points - 1)
    effective, params = effective_sql(alma, "t")
    query = (
        "WITH grid AS (SELECT i, epoch(?::TIMESTAMPTZ) + i * ? AS t FROM range(?) r(i)) "
        f"SELECT to_timestamp(t) AS time, {GROUPS[group]} AS grp, avg({effective}) AS confidence "
        "FROM memories, grid WHERE project_id = ? AND status = 'approved' "
        "GROUP BY ALL ORDER BY grp, time"
    )
    rows = sql_rows(
        alma.store, query, [start, step, points, *params, alma.project_id], ["memories"]
    )
    return [{"time": r["time"], "group": r["grp"], "confidence": r["confidence"]} for r in rows]


# ---------------------------------------------------------------------- learning


def learning_over_time(alma: ALMA, period: str = "week") -> Rows:
    """Memories learned per period, agent and type, with the running total of each pair:
    rows {period, agent, type, learned, total}."""
    if period not in PERIODS:
        raise ValidationError("period", f"must be one of {PERIODS}, got {period!r}")
    query = (
        "WITH counts AS (SELECT date_trunc(?, created_at) AS period, "
        "coalesce(agent, ?) AS agent, type, count(*) AS learned "
        "FROM memories WHERE project_id = ? GROUP BY ALL) "
        "SELECT period, agent, type, learned, "
        "sum(learned) OVER (PARTITION BY agent, type ORDER BY period) AS total "
        "FROM counts ORDER BY period, agent, type"
    )
    rows = sql_rows(alma.store, query, [period, USERS, alma.project_id], ["memories"])
    return [{**r, "learned": int(r["learned"]), "total": int(r["total"])} for r in rows]


def success_by_task_type(alma: ALMA) -> Rows:
    """Outcomes per task type and agent, with how many succeeded: rows {task_type, agent,
    outcomes, successes, success_rate}, most outcomes first."""
    query = (
        "SELECT category AS task_type, coalesce(agent, ?) AS agent, count(*) AS outcomes, "
        "count(*) FILTER (WHERE json_extract(payload, '$.success')::BOOLEAN) AS successes "
        "FROM memories WHERE project_id = ? AND type = 'outcome' AND status != 'rejected' "
        "GROUP BY ALL ORDER BY outcomes DESC, task_type, agent"
    )
    rows = sql_rows(alma.store, query, [USERS, alma.project_id], ["memories"])
    return [
        {
            **r,
            "outcomes": int(r["outcomes"]),
            "successes": int(r["successes"]),
            "success_rate": r["successes"] / r["outcomes"],
        }
        for r in rows
    ]


def heuristic_confidence(alma: ALMA) -> Rows:
    """Every heuristic's stored and current effective confidence: rows {id, agent, task_type,
    status, stored, effective, uses, successes}."""
    effective, params = effective_sql(alma, utcnow())
    query = (
        f"SELECT id, agent, category AS task_type, status, confidence AS stored, "
        f"{effective} AS effective, "
        "coalesce(json_extract(payload, '$.occurrence_count')::INT, 0) AS uses, "
        "coalesce(json_extract(payload, '$.success_count')::INT, 0) AS successes "
        "FROM memories WHERE project_id = ? AND type = 'heuristic' ORDER BY effective DESC, id"
    )
    return sql_rows(alma.store, query, [*params, alma.project_id], ["memories"])


# ---------------------------------------------------------------------- memory health


def memory_health(
    alma: ALMA,
    stale_days: float = 90,
    duplicate_similarity: float | None = None,
    window: int = 2000,
) -> dict[str, Any]:
    """Shares of stale, never-used and near-duplicate memories of the project.

    - stale: the decay clock (last validated / verified / seen) is older than stale_days;
    - never used: a heuristic or anti-pattern with no recorded use (occurrence_count 0), or a
      fact or preference never validated nor reinforced since it was written (outcomes are
      records of use, so they are not counted);
    - near-duplicate: another memory of the same type and agent is at least
      duplicate_similarity similar (default: the near_duplicate_similarity setting). Pairs are
      compared among the `window` most recent memories, so the check stays quick on big stores.
    """
    stale_days = _days("stale_days", stale_days)
    if duplicate_similarity is None:
        duplicate_similarity = alma.settings.near_duplicate_similarity
    similarity = check_confidence(duplicate_similarity, "duplicate_similarity")
    window = check_count("window", window, 2, 20_000)
    cutoff = utcnow() - timedelta(days=stale_days)
    counts = sql_rows(
        alma.store,
        "SELECT count(*) AS total, count(*) FILTER (WHERE validated_at < ?) AS stale, "
        "count(*) FILTER (WHERE (type IN ('heuristic', 'anti_pattern') AND "
        "coalesce(json_extract(payload, '$.occurrence_count')::INT, 0) = 0) OR "
        "(type IN ('preference', 'domain_knowledge') AND "
        "validated_at <= created_at + INTERVAL 1 SECOND AND "
        "coalesce(json_extract(metadata, '$.reinforcements')::INT, 0) = 0)) AS never_used "
        "FROM memories WHERE project_id = ?",
        [cutoff, alma.project_id],
        ["memories"],
    )[0]
    pairs = duplicate_pairs(alma, similarity, window)
    duplicated = {p["first_id"] for p in pairs} | {p["second_id"] for p in pairs}
    total = int(counts["total"])
    return {
        "total": total,
        "stale": int(counts["stale"]),
        "never_used": int(counts["never_used"]),
        "near_duplicates": len(duplicated),
        "compared": min(total, window),
        "stale_days": stale_days,
        "duplicate_similarity": similarity,
        "pairs": pairs,
        "shares": {
            name: (value / total if total else 0.0)
            for name, value in (
                ("stale", int(counts["stale"])),
                ("never_used", int(counts["never_used"])),
                ("near_duplicates", len(duplicated)),
            )
        },
    }


def duplicate_pairs(alma: ALMA, similarity: float, window: int = 2000, limit: int = 200) -> Rows:
    """Pairs of memories of one type and agent at least `similarity` alike (cosine of their
    embeddings) among the `window` newest: rows {first_id, second_id, type, agent, similarity,
    first_text, second_text}, most similar first."""
    query = (
        "WITH recent AS (SELECT id, type, agent, text, vector FROM memories "
        "WHERE project_id = ? ORDER BY created_at DESC LIMIT ?) "
        "SELECT a.id AS first_id, b.id AS second_id, a.type, coalesce(a.agent, ?) AS agent, "
        "array_cosine_similarity(a.vector, b.vector) AS similarity, "
        "a.text AS first_text, b.text AS second_text "
        "FROM recent a JOIN recent b ON a.type = b.type "
        "AND a.agent IS NOT DISTINCT FROM b.agent AND a.id < b.id "
        "WHERE array_cosine_similarity(a.vector, b.vector) >= ? "
        "ORDER BY similarity DESC, first_id LIMIT ?"
    )
    params = [alma.project_id, window, USERS, similarity, limit]
    return sql_rows(alma.store, query, params, ["memories"])


def most_retrieved(alma: ALMA, limit: int = 10) -> Rows:
    """Memories by how often agents retrieved them (usage events, flushed in batches by
    alma_app.memory.usage). Rows {memory_id, retrievals, agents, last_retrieved}."""
    limit = check_count("limit", limit, 1, 1000)
    query = (
        "SELECT entity_id AS memory_id, "
        "sum(CAST(json_extract(\"after\", '$.count') AS BIGINT)) AS retrievals, "
        'count(DISTINCT actor) AS agents, max("at") AS last_retrieved '
        "FROM events WHERE project_id = ? AND entity = 'usage' AND action = 'retrieve' "
        "GROUP BY entity_id ORDER BY retrievals DESC, memory_id LIMIT ?"
    )
    return sql_rows(alma.store, query, [alma.project_id, limit], ["events"])


# ---------------------------------------------------------------------- board


def board_burndown(alma: ALMA) -> Rows:
    """The board day by day from its first item to today: rows {day, created, done, open}
    (open = created - done by the end of that day; failed items count as open)."""
    query = (
        "WITH items AS (SELECT created_at, CASE WHEN status = 'done' THEN completed_at END AS "
        "done_at FROM work_items WHERE project_id = ?), "
        "days AS (SELECT unnest(generate_series(date_trunc('day', min(created_at)), "
        "date_trunc('day', ?::TIMESTAMPTZ), INTERVAL 1 DAY)) AS day FROM items) "
        "SELECT days.day, "
        "count(*) FILTER (WHERE created_at < days.day + INTERVAL 1 DAY) AS created, "
        "count(*) FILTER (WHERE done_at < days.day + INTERVAL 1 DAY) AS done "
        "FROM days, items GROUP BY days.day ORDER BY days.day"
    )
    rows = sql_rows(alma.store, query, [alma.project_id, utcnow()], ["work_items"])
    return [
        {
            "day": r["day"],
            "created": int(r["created"]),
            "done": int(r["done"]),
            "open": int(r["created"]) - int(r["done"]),
        }
        for r in rows
    ]


# ---------------------------------------------------------------------------------- overview

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
    (a crash between the two commits) are left out (alma_app.memory.consistency).
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
