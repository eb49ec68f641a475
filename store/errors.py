"""Errors raised by the storage layer.

StoreError
 ├── StoreConflict      a write kept conflicting with concurrent writers after all retries
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


class StoreUnavailable(StoreError):
    """The store location cannot be opened, read or written."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"store {uri!r} is unavailable: {reason}")
        self.uri = uri
        self.reason = reason


class InvalidQuery(StoreError):
    """A filter names an unknown column or carries a value that cannot be expressed safely."""
