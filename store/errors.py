"""Errors raised by the storage layer.

StoreError
 ├── StoreConflict      a write kept conflicting with concurrent writers after all retries
 ├── VersionConflict    a conditional write found rows changed (or gone) since they were read
 ├── StoreClosed        the store handle was closed
 ├── StoreUnavailable   the store location cannot be opened, read or written
 └── InvalidQuery       a filter, column or value the store refuses (never sent to LanceDB/DuckDB)

The core translates these into AlmaError subclasses at its boundary.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of everything store/ raises."""


class StoreConflict(StoreError):
    """A commit kept conflicting with concurrent writers."""

    def __init__(self, table: str, attempts: int, cause: BaseException | None = None) -> None:
        super().__init__(f"write to table {table!r} conflicted {attempts} times: {cause}")
        self.table = table
        self.attempts = attempts


class VersionConflict(StoreError):
    """A conditional write (update_if, delete_if, add_new) found rows other than expected.

    Nothing was written: the caller re-reads and re-applies its change, or reports it.
    """

    def __init__(self, table: str, ids: list[str]) -> None:
        shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
        super().__init__(f"rows of table {table!r} changed since they were read: {shown}")
        self.table = table
        self.ids = ids


class StoreClosed(StoreError):
    """The store handle was closed; open a new one."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"the store handle on {uri!r} is closed")
        self.uri = uri


class StoreUnavailable(StoreError):
    """The store location cannot be opened, read or written."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"store {uri!r} is unavailable: {reason}")
        self.uri = uri
        self.reason = reason


class InvalidQuery(StoreError):
    """A filter names an unknown column or carries a value that cannot be expressed safely."""
