"""Memory filters and counts: the query side of browsing, shared by the API and front ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import alma_store as st
from alma_app.checks import check_confidence, check_int, check_text
from alma_app.errors import ValidationError, store_errors
from alma_app.memory.types import MEMORY_TYPES, STATUSES


def memory_filter(
    *,
    agent: str | None = None,
    memory_type: str | None = None,
    status: str | None = None,
    min_confidence: float | None = None,
    max_confidence: float | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    text: str | None = None,
) -> st.Filter | None:
    """The store filter for list/search arguments, validating each one by name."""
    parts: list[st.Filter | None] = []
    if agent is not None:
        parts.append(st.Eq("agent", check_text("agent", agent)))
    if memory_type is not None:
        if memory_type not in MEMORY_TYPES:
            raise ValidationError(
                "memory_type", f"must be one of {MEMORY_TYPES}, got {memory_type!r}"
            )
        parts.append(st.Eq("type", memory_type))
    if status is not None:
        if status not in STATUSES:
            raise ValidationError("status", f"must be one of {STATUSES}, got {status!r}")
        parts.append(st.Eq("status", status))
    if min_confidence is not None or max_confidence is not None:
        low = None if min_confidence is None else check_confidence(min_confidence, "min_confidence")
        high = (
            None if max_confidence is None else check_confidence(max_confidence, "max_confidence")
        )
        parts.append(st.Range("confidence", low, high))
    if created_from is not None or created_to is not None:
        for name, value in (("created_from", created_from), ("created_to", created_to)):
            if value is not None and not isinstance(value, datetime):
                raise ValidationError(name, f"expected a datetime, got {type(value).__name__}")
        parts.append(st.Range("created_at", created_from, created_to))
    if text:
        parts.append(st.TextContains("text", check_text("text", text)))
    return st.all_of(*parts)


def sql_rows(
    store: st.LanceStore, sql: str, params: list[Any], tables: list[str]
) -> list[dict[str, Any]]:
    """Rows of a read-only DuckDB query over the store (`?` parameters only), errors translated."""
    with store_errors():
        return store.sql(sql, params, tables=tables).to_pylist()


def check_count(argument: str, value: Any, low: int, high: int) -> int:
    """An integer argument within [low, high], or a ValidationError naming it."""
    return check_int(argument, value, low=low, high=high)


def memory_stats(store: st.LanceStore, project_id: str, agent: str | None) -> dict[str, Any]:
    """Counts by type, agent and status (one DuckDB GROUP BY over the memories table)."""
    params: list[Any] = [project_id]
    where = "project_id = ?"
    if agent is not None:
        where += " AND agent = ?"
        params.append(agent)
    with store_errors():
        rows = store.sql(
            f"SELECT type, coalesce(agent, '') AS agent, status, count(*) AS n "
            f"FROM memories WHERE {where} GROUP BY ALL",
            params,
            tables=["memories"],
        ).to_pylist()
    out: dict[str, Any] = {
        "project_id": project_id,
        "total": 0,
        "by_type": dict.fromkeys(MEMORY_TYPES, 0),
        "by_agent": {},
        "by_status": dict.fromkeys(STATUSES, 0),
        "by_agent_and_type": {},
    }
    for row in rows:
        n = int(row["n"])
        out["total"] += n
        out["by_type"][row["type"]] = out["by_type"].get(row["type"], 0) + n
        out["by_status"][row["status"]] = out["by_status"].get(row["status"], 0) + n
        name = row["agent"] or "(users)"
        out["by_agent"][name] = out["by_agent"].get(name, 0) + n
        per = out["by_agent_and_type"].setdefault(name, dict.fromkeys(MEMORY_TYPES, 0))
        per[row["type"]] += n
    out["pending"] = out["by_status"]["pending"]
    return out
