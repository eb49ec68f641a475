"""Persistence for ALMA: LanceDB tables as the system of record, DuckDB for scans and analytics.

The core talks to `open_store(...)`'s result only; nothing outside this package imports lancedb
or duckdb. `memory://` gives the same store in memory for fast tests.
"""

from store.errors import (
    InvalidQuery,
    StoreClosed,
    StoreConflict,
    StoreError,
    StoreUnavailable,
    VersionConflict,
)
from store.filters import And, Eq, Filter, HasAny, In, Or, Range, TextContains, all_of
from store.lance_store import LanceStore


def open_store(uri: str, *, vector_dim: int, **options: object) -> LanceStore:
    """Open (creating if needed) the store at a directory, object-store URI or memory://."""
    return LanceStore(uri, vector_dim=vector_dim, **options)  # type: ignore[arg-type]


__all__ = [
    "And",
    "Eq",
    "Filter",
    "HasAny",
    "In",
    "InvalidQuery",
    "LanceStore",
    "Or",
    "Range",
    "StoreClosed",
    "StoreConflict",
    "StoreError",
    "StoreUnavailable",
    "TextContains",
    "VersionConflict",
    "all_of",
    "open_store",
]
