"""Table definitions the store is handed: it knows columns and indexes, not what rows mean.

The core describes each of its tables with a TableSpec (alma_app/tables.py) and passes the
list to `open_store(..., tables=...)`. The store creates, checks, migrates, indexes and searches
tables by their specs alone. Two column names are storage mechanics and live here: the vector
column (searched by similarity, mirrored in process) and the row version (conditional writes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .errors import InvalidQuery

VECTOR = "vector"  # a fixed-size float32 list column: similarity search and the mirror use it
ROW_VERSION = "version"  # int64, +1 per conditional update (null reads as 0); store/conditional.py
TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class TableSpec:
    """One table: its Arrow schema (built for the store's vector size) and how it is indexed.

    - `schema(dim)` builds the schema; a table with a VECTOR column is vector-searchable.
    - `fts_column`: the text column that gets a full-text (BM25) index, or None.
    - `bitmap_columns` / `label_list_columns`: low-cardinality scalar and list columns that
      filters use; indexed once the table is big enough for an index to beat a scan.
    - `migrated`: columns added after the table's first release; opening an older store adds
      them (all null) instead of refusing it.
    - `cluster_column`: the column most vector searches filter on (the mirror groups rows by it).
    """

    name: str
    schema: Callable[[int], pa.Schema]
    fts_column: str | None = None
    bitmap_columns: tuple[str, ...] = ()
    label_list_columns: tuple[str, ...] = ()
    migrated: tuple[str, ...] = ()
    cluster_column: str | None = None


class Catalog:
    """The specs a store was opened with, by name, each schema built once for its vector size."""

    def __init__(self, specs: Iterable[TableSpec], dim: int) -> None:
        self.dim = dim
        self.specs: dict[str, TableSpec] = {}
        self._schemas: dict[str, pa.Schema] = {}
        for spec in specs:
            if spec.name in self.specs:
                raise InvalidQuery(f"table {spec.name!r} is defined twice")
            self.specs[spec.name] = spec
            self._schemas[spec.name] = spec.schema(dim)

    @property
    def names(self) -> list[str]:
        return list(self.specs)

    def spec(self, table: str) -> TableSpec:
        try:
            return self.specs[table]
        except KeyError:
            raise InvalidQuery(f"unknown table {table!r}; known: {sorted(self.specs)}") from None

    def schema(self, table: str) -> pa.Schema:
        self.spec(table)
        return self._schemas[table]

    def has_vector(self, table: str) -> bool:
        return VECTOR in self.schema(table).names

    def to_arrow(self, table: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
        """Rows as an Arrow table of the table's schema; a value that does not fit its column
        (or a missing, mis-sized or non-finite vector) is InvalidQuery, before any commit."""
        schema = self.schema(table)
        columns = []
        for field in schema:
            values = [row.get(field.name) for row in rows]
            if field.name == VECTOR:
                columns.append(self._vectors(values))
            else:
                try:
                    columns.append(pa.array(values, type=field.type))
                except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                    raise InvalidQuery(f"bad value for column {field.name!r}: {exc}") from exc
        return pa.Table.from_arrays(columns, schema=schema)

    def _vectors(self, values: list[Any]) -> pa.Array:
        if any(v is None for v in values):
            raise InvalidQuery("every row needs a vector")
        matrix = np.asarray(values, dtype=np.float32).reshape(len(values), -1)
        if matrix.shape[1] != self.dim:
            raise InvalidQuery(f"vectors must have {self.dim} dimensions, got {matrix.shape[1]}")
        if not np.isfinite(matrix).all():
            raise InvalidQuery("vectors must be finite")
        return pa.FixedSizeListArray.from_arrays(pa.array(matrix.ravel()), self.dim)
