"""A filter evaluated over a mirror block's data in numpy and Arrow compute: the search mirror's
prefilter. Filters it cannot evaluate exactly raise Unsupported, and the caller falls back to
LanceDB's own search."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .filters import And, Eq, Filter, HasAny, In, Or, Range

# Up to this many rows, a block's filters are evaluated over Python values (here and in
# Block.coded): every single write makes a new block of a row or a few, and each filter's first
# search on it paid Arrow's fixed cost per column (~0.5 ms for a scope filter on a one-row block).
SMALL_BLOCK = 256

if TYPE_CHECKING:
    from .mirror_blocks import Block


class Unsupported(Exception):
    """The copy cannot answer this request exactly; use LanceDB's search."""


def evaluate(block: Block, flt: Filter) -> np.ndarray:
    """The rows of the block's data (deletions not applied) that pass the filter."""
    if isinstance(flt, And):
        out = np.ones(block.num_rows, dtype=bool)
        for part in flt.parts:
            out &= evaluate(block, part)
        return out
    if isinstance(flt, Or):
        out = np.zeros(block.num_rows, dtype=bool)
        for part in flt.parts:
            out |= evaluate(block, part)
        return out
    if isinstance(flt, Eq | In):
        values = (flt.value,) if isinstance(flt, Eq) else flt.values
        codes, lookup = block.coded(flt.column)
        wanted = [lookup[v] for v in values if _hashable(v) and v in lookup]
        if not wanted:
            return np.zeros(block.num_rows, dtype=bool)
        if len(wanted) == 1:
            return codes == wanted[0]
        return np.isin(codes, np.asarray(wanted, dtype=codes.dtype))
    if isinstance(flt, HasAny):
        column = block.column(flt.column, whole=block.num_rows > SMALL_BLOCK)
        if not pa.types.is_list(column.type):
            raise Unsupported(f"{flt.column} is not a list column")
        if block.num_rows <= SMALL_BLOCK:
            wanted = set(flt.values)
            return np.fromiter(
                (bool(items) and not wanted.isdisjoint(items) for items in column.to_pylist()),
                bool,
                block.num_rows,
            )
        out = np.zeros(block.num_rows, dtype=bool)
        flat = pc.list_flatten(column)
        if len(flat):
            hit = pc.is_in(flat, value_set=pa.array(list(flt.values), type=flat.type))
            parents = pc.list_parent_indices(column).to_numpy()
            out[parents[hit.fill_null(False).to_numpy(zero_copy_only=False)]] = True
        return out
    if isinstance(flt, Range):
        column = block.column(flt.column)
        result = pa.array(np.ones(block.num_rows, dtype=bool))
        if flt.low is not None:
            result = pc.and_(result, pc.greater_equal(column, _scalar(flt.low, column.type)))
        if flt.high is not None:
            result = pc.and_(result, pc.less_equal(column, _scalar(flt.high, column.type)))
        return result.fill_null(False).to_numpy(zero_copy_only=False)
    raise Unsupported(f"filter {type(flt).__name__} is not evaluated in memory")


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _scalar(value: Any, arrow_type: pa.DataType) -> pa.Scalar:
    try:
        return pa.scalar(value, type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise Unsupported(f"cannot compare {arrow_type} with {value!r}") from exc
