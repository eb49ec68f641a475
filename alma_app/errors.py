"""Errors of the ALMA core. Every front end catches AlmaError and shows its message.

AlmaError
 ├── ConfigError          a config file or setting is missing, malformed or unknown (file, key)
 ├── ValidationError      an argument is wrong (argument name, what was wrong)
 ├── ScopeViolation       a category outside an agent's scope (agent, category, rule)
 ├── MemoryNotFound       no memory with that id (memory_id)
 ├── NotFoundError        no work item / session / handoff / event with that id (kind, item_id)
 ├── InvalidTransition    a work-item status change that is not allowed (item_id, from, to, why)
 ├── ConflictError        a memory changed since it was read, and re-applying is unsafe (ids)
 ├── ClosedError          the ALMA handle was closed
 └── StorageError         the store failed (conflicts after retries, unreachable location)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import alma_store as st


class AlmaError(Exception):
    """Base class of every error the ALMA core raises on purpose."""


class ConfigError(AlmaError):
    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        where = ""
        if path:
            where = f"{path}"
            if key:
                where += f": {key}"
            where += ": "
        elif key:
            where = f"{key}: "
        super().__init__(f"{where}{message}")
        self.path = path
        self.key = key


class ValidationError(AlmaError, ValueError):
    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")
        self.argument = argument


class ScopeViolation(AlmaError):
    def __init__(self, agent: str, category: str, rule: str) -> None:
        super().__init__(f"agent {agent!r} may not learn category {category!r}: {rule}")
        self.agent = agent
        self.category = category
        self.rule = rule


class MemoryNotFound(AlmaError, LookupError):
    def __init__(self, memory_id: str) -> None:
        super().__init__(f"no memory with id {memory_id!r}")
        self.memory_id = memory_id


class NotFoundError(AlmaError, LookupError):
    def __init__(self, kind: str, item_id: str) -> None:
        super().__init__(f"no {kind} with id {item_id!r}")
        self.kind = kind
        self.item_id = item_id


class InvalidTransition(AlmaError):
    def __init__(self, item_id: str, from_status: str, to_status: str, why: str) -> None:
        super().__init__(f"work item {item_id!r} cannot move {from_status} → {to_status}: {why}")
        self.item_id = item_id
        self.from_status = from_status
        self.to_status = to_status
        self.why = why


class ConflictError(AlmaError):
    """Another caller changed (or removed) the memory between this call's read and its write.

    Raised where re-applying the change to the new version is not safe (a revert, an edit made
    against an expected version) or when retries kept conflicting. Nothing was written: read the
    memory again and decide.
    """

    def __init__(self, memory_ids: list[str], why: str = "changed since it was read") -> None:
        shown = ", ".join(repr(i) for i in memory_ids[:5]) + (" ..." if len(memory_ids) > 5 else "")
        super().__init__(f"memory {shown} {why}; nothing was written, read it again")
        self.memory_ids = memory_ids


class ClosedError(AlmaError):
    """The ALMA handle was closed; open a new one (close() is final)."""

    def __init__(self) -> None:
        super().__init__("this ALMA handle is closed; open a new one")


class StorageError(AlmaError):
    def __init__(self, message: str) -> None:
        super().__init__(f"storage error: {message}")


@contextmanager
def store_errors() -> Iterator[None]:
    """Translate the store's errors into AlmaError once, at the core's boundary with store/."""
    try:
        yield
    except st.InvalidQuery as exc:
        raise ValidationError("query", str(exc)) from exc
    except st.StoreClosed as exc:
        raise ClosedError() from exc
    except st.VersionConflict as exc:
        raise ConflictError(exc.ids) from exc
    except st.StoreError as exc:
        raise StorageError(str(exc)) from exc
