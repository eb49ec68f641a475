"""Plumbing shared by the progress tracker and the session manager.

Both keep their records in the ALMA store (work_items, sessions, handoffs) and append their
changes to the same `events` audit log as memories, so every front end sees one history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from alma_app.checks import MAX_LIST_ITEMS as MAX_LIST_ITEMS
from alma_app.checks import check_number
from alma_app.checks import check_text_list as check_text_list
from alma_app.errors import ValidationError
from alma_app.memory.repository import check_text, store_errors
from alma_app.memory.types import new_id, utcnow

if TYPE_CHECKING:
    from alma_app.api import ALMA

HUMAN = "human"  # the actor of changes made by people (dashboard, CLI)


def resolve_alma(project_id: Any, alma: ALMA | None) -> tuple[str, ALMA]:
    """The project id (checked) and the ALMA to use: the one given, else .alma/config.yaml.

    Imported lazily so that api.py may import this module's users without a cycle.
    """
    check_text("project_id", project_id)
    if alma is None:
        from alma_app.api import ALMA
        from alma_app.config import DEFAULT_CONFIG_PATH

        alma = ALMA.from_config(DEFAULT_CONFIG_PATH)
    return project_id, alma


def log_events(
    alma: ALMA,
    project_id: str,
    entity: str,
    entries: Sequence[tuple[str, str, str, Any, Any, str | None]],
) -> None:
    """Append (entity_id, action, actor, before, after, reason) events in one commit."""
    if not entries:
        return
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "at": now,
            "project_id": project_id,
            "entity": entity,
            "entity_id": entity_id,
            "action": action,
            "actor": actor,
            "before": dumps(before) if before is not None else None,
            "after": dumps(after) if after is not None else None,
            "reason": reason,
        }
        for entity_id, action, actor, before, after, reason in entries
    ]
    with store_errors():
        alma.store.add("events", rows)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)


def loads(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def parse_time(value: Any) -> datetime | None:
    """A datetime from a stored value (datetime or ISO string), always timezone-aware."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ValidationError("timestamp", f"expected a datetime, got {type(value).__name__}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def days_ago(now: datetime, value: Any, argument: str) -> datetime | None:
    """`now - value days` for the sample files' relative timestamps (None stays None)."""
    if value is None:
        return None
    return now - timedelta(days=check_number(argument, value, low=0))
