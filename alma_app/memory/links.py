"""Links between memories, kept in their metadata under reserved keys (no schema change).

- SUPERSEDES on the newer memory: the id of the one it replaced as a changed value;
- SUPERSEDED_BY on the older one: the id of the newer (retrieval ranks it lower; see
  alma_app.memory.scoring.SUPERSEDED_FACTOR); both stay stored and retrievable;
- CONTRADICTS on both: the ids of memories that may contradict it, open for review;
- REVIEWED_CONTRADICTIONS on both once a human kept both: the ids no longer flagged.

Pure readers here; alma_app.memory.writes makes and resolves the links.
"""

from __future__ import annotations

import json
from typing import Any

from alma_app.memory.types import Memory

SUPERSEDES = "supersedes"
SUPERSEDED_BY = "superseded_by"
CONTRADICTS = "contradicts"
REVIEWED_CONTRADICTIONS = "reviewed_contradictions"
RESERVED = (SUPERSEDES, SUPERSEDED_BY, CONTRADICTS, REVIEWED_CONTRADICTIONS)


def superseded_by(memory: Memory) -> str | None:
    value = memory.metadata.get(SUPERSEDED_BY)
    return value if isinstance(value, str) and value else None


def row_is_superseded(metadata_json: str | None) -> bool:
    """Whether a stored row's metadata JSON names a superseding memory. Searches score rows
    without decoding them: the JSON is read only when the key appears in the text."""
    if not metadata_json or f'"{SUPERSEDED_BY}"' not in metadata_json:
        return False
    value = json.loads(metadata_json).get(SUPERSEDED_BY)
    return isinstance(value, str) and bool(value)


def supersedes(memory: Memory) -> str | None:
    value = memory.metadata.get(SUPERSEDES)
    return value if isinstance(value, str) and value else None


def contradicts(memory: Memory) -> list[str]:
    """Ids of the memories this one is flagged as possibly contradicting (open flags only)."""
    return _ids(memory.metadata.get(CONTRADICTS))


def reviewed_contradictions(memory: Memory) -> list[str]:
    return _ids(memory.metadata.get(REVIEWED_CONTRADICTIONS))


def _ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return []
