"""Filters as data, rendered safely for LanceDB `where` strings and DuckDB SQL.

User values never reach a query string raw: for LanceDB they become escaped literals (the only
form its `where` accepts), for DuckDB they become `?` parameters. Column names are checked
against the table's schema, so a filter can name only real columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from .errors import InvalidQuery

Scalar = str | int | float | bool | datetime


@dataclass(frozen=True)
class Eq:
    column: str
    value: Scalar


@dataclass(frozen=True)
class In:
    column: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Range:
    """Inclusive range; either bound may be None."""

    column: str
    low: Scalar | None = None
    high: Scalar | None = None


@dataclass(frozen=True)
class HasAny:
    """A list column contains at least one of the values."""

    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class TextContains:
    """Case-insensitive substring match (DuckDB scans only; LanceDB searches use FTS)."""

    column: str
    value: str


def _hash_once(self: Or | And) -> int:
    """A filter of filters hashes once: the mirror looks its masks up by filter, once per block
    per search, and hashing a scope's ~10 nested parts each time cost microseconds each."""
    cached = self.__dict__.get("_hash")
    if cached is None:
        cached = hash((type(self).__name__, self.parts))
        object.__setattr__(self, "_hash", cached)
    return cached


def _state_without_hash(self: Or | And) -> dict[str, Any]:
    """Pickled without the cached hash: another process hashes strings differently."""
    return {k: v for k, v in self.__dict__.items() if k != "_hash"}


@dataclass(frozen=True)
class Or:
    parts: tuple[Filter, ...]

    __hash__ = _hash_once
    __getstate__ = _state_without_hash


@dataclass(frozen=True)
class And:
    parts: tuple[Filter, ...]

    __hash__ = _hash_once
    __getstate__ = _state_without_hash


Filter = Eq | In | Range | HasAny | TextContains | Or | And


def all_of(*parts: Filter | None) -> Filter | None:
    """AND the given filters together, skipping None; None when nothing is left."""
    kept = tuple(p for p in parts if p is not None)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else And(kept)


def _check_column(column: str, schema: pa.Schema) -> None:
    if column not in schema.names:
        raise InvalidQuery(f"unknown column {column!r}; known: {schema.names}")


def _check_scalar(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidQuery(f"filter value must be a finite number, got {value!r}")
    if isinstance(value, str) and "\x00" in value:
        raise InvalidQuery("filter value must not contain NUL characters")
    if not isinstance(value, str | int | float | bool | datetime):
        raise InvalidQuery(f"unsupported filter value {value!r} of type {type(value).__name__}")


# ----------------------------------------------------------------------------- LanceDB


def lance_literal(value: Scalar) -> str:
    """Render a value as a LanceDB SQL literal: strings quoted with embedded quotes doubled."""
    _check_scalar(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        stamp = utc.strftime("%Y-%m-%dT%H:%M:%S.%f")
        return f"arrow_cast('{stamp}Z', 'Timestamp(Microsecond, Some(\"UTC\"))')"
    return "'" + value.replace("'", "''") + "'"


def to_lance(flt: Filter | None, schema: pa.Schema) -> str | None:
    """The LanceDB `where` string for a filter, or None for no filter."""
    if flt is None:
        return None
    if isinstance(flt, Eq):
        _check_column(flt.column, schema)
        return f"{flt.column} = {lance_literal(flt.value)}"
    if isinstance(flt, In):
        _check_column(flt.column, schema)
        if not flt.values:
            return "FALSE"
        return f"{flt.column} IN ({', '.join(lance_literal(v) for v in flt.values)})"
    if isinstance(flt, Range):
        _check_column(flt.column, schema)
        parts = []
        if flt.low is not None:
            parts.append(f"{flt.column} >= {lance_literal(flt.low)}")
        if flt.high is not None:
            parts.append(f"{flt.column} <= {lance_literal(flt.high)}")
        return " AND ".join(parts) if parts else "TRUE"
    if isinstance(flt, HasAny):
        _check_column(flt.column, schema)
        if not flt.values:
            return "FALSE"
        items = ", ".join(lance_literal(v) for v in flt.values)
        return f"array_has_any({flt.column}, [{items}])"
    if isinstance(flt, TextContains):
        raise InvalidQuery("substring filters are for scans; use text search in LanceDB queries")
    if isinstance(flt, Or | And):
        joiner = " OR " if isinstance(flt, Or) else " AND "
        rendered = [to_lance(p, schema) for p in flt.parts]
        return "(" + joiner.join(f"({r})" for r in rendered if r) + ")"
    raise InvalidQuery(f"unsupported filter {flt!r}")


# ----------------------------------------------------------------------------- DuckDB


def to_duckdb(flt: Filter | None, schema: pa.Schema) -> tuple[str, list[Any]]:
    """A DuckDB boolean expression with `?` placeholders, and its parameters."""
    params: list[Any] = []

    def param(value: Scalar) -> str:
        _check_scalar(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        params.append(value)
        return "?"

    def render(f: Filter) -> str:
        if isinstance(f, Eq):
            _check_column(f.column, schema)
            return f'"{f.column}" = {param(f.value)}'
        if isinstance(f, In):
            _check_column(f.column, schema)
            if not f.values:
                return "FALSE"
            return f'"{f.column}" IN ({", ".join(param(v) for v in f.values)})'
        if isinstance(f, Range):
            _check_column(f.column, schema)
            parts = []
            if f.low is not None:
                parts.append(f'"{f.column}" >= {param(f.low)}')
            if f.high is not None:
                parts.append(f'"{f.column}" <= {param(f.high)}')
            return " AND ".join(parts) if parts else "TRUE"
        if isinstance(f, HasAny):
            _check_column(f.column, schema)
            if not f.values:
                return "FALSE"
            return " OR ".join(f'list_contains("{f.column}", {param(v)})' for v in f.values)
        if isinstance(f, TextContains):
            _check_column(f.column, schema)
            return f'contains(lower("{f.column}"), lower({param(f.value)}))'
        if isinstance(f, Or | And):
            joiner = " OR " if isinstance(f, Or) else " AND "
            return "(" + joiner.join(f"({render(p)})" for p in f.parts) + ")"
        raise InvalidQuery(f"unsupported filter {f!r}")

    if flt is None:
        return "TRUE", params
    return render(flt), params
