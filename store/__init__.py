"""Persistence for ALMA: LanceDB tables as the system of record, DuckDB for scans and analytics.

The core talks to `open_store(...)`'s result only; nothing outside this package imports lancedb
or duckdb. `memory://` gives the same store in memory for fast tests.

The folder is store/ but the package installs as `alma_store` (pyproject.toml maps the name), so
a user's own `store/` folder cannot shadow it; inside the package every import is relative.
"""

import os
from collections.abc import Iterable

# Lance's Rust logger writes WARN lines to stderr for events the store handles itself (a
# background compaction that lost a race with a write and is retried later). The library must
# print nothing in normal use, so only errors are logged unless the user set LANCE_LOG. It has
# to be set before lance is first imported: the logger reads it once, at import.
os.environ.setdefault("LANCE_LOG", "error")

from .errors import (
    InvalidQuery,
    StoreClosed,
    StoreConflict,
    StoreError,
    StoreUnavailable,
    VersionConflict,
)
from .filters import And, Eq, Filter, HasAny, In, Or, Range, TextContains, all_of
from .lance_store import LanceStore
from .preceding import Preceding
from .tables import ROW_VERSION, VECTOR, TableSpec


def open_store(
    uri: str, *, vector_dim: int, tables: Iterable[TableSpec], **options: object
) -> LanceStore:
    """Open (creating if needed) the store at a directory, object-store URI or memory://, with
    the tables the caller defines (created on first use)."""
    return LanceStore(uri, vector_dim=vector_dim, tables=tables, **options)  # type: ignore[arg-type]


__all__ = [
    "ROW_VERSION",
    "VECTOR",
    "And",
    "Eq",
    "Filter",
    "HasAny",
    "In",
    "InvalidQuery",
    "LanceStore",
    "Or",
    "Preceding",
    "Range",
    "StoreClosed",
    "StoreConflict",
    "StoreError",
    "StoreUnavailable",
    "TableSpec",
    "TextContains",
    "VersionConflict",
    "all_of",
    "open_store",
]
