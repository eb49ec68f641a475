"""Whole columns of a big mirror block converted to Python in the background.

Blocks up to WHOLE_COLUMNS rows convert whole columns at their first search; a bigger one (a
table written or compacted whole: 100,000 rows in one fragment) converts only the rows each
search reads, in the search: ~6 ms of a retrieve at 100k memories, since each new question
reads rows no earlier one did. So the first search of such a block also starts a thread that
fills in the rest of those columns, a slice of one column at a time, pausing between slices so
that searches get the GIL (each slice holds it ~0.3 ms). Once filled, searches read Python
values only. Both write the same values into the same lists, so neither can spoil the other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

Convert = Callable[[Any], list[Any]]  # an Arrow column to Python values

SLICE_ROWS = 2048  # rows per step: at least 1024, so repeated strings share one object
PAUSE_S = 0.001  # between steps, for the searches


def fill_later(block: Any, columns: Sequence[str], convert: Convert) -> None:
    """Convert these columns of a mirror_blocks.Block in a daemon thread, by `convert`
    (mirror_blocks.python_values), once per block and column."""
    with block._lock:
        fresh = [c for c in columns if c not in block._complete and c not in block._filling]
        block._filling.update(fresh)
    if fresh:
        targets = [block._values[c][0] for c in fresh]
        worker = threading.Thread(
            target=_fill,
            args=(block.data.select(fresh), targets, block._complete, fresh, convert),
            name="alma-mirror-fill",
            daemon=True,  # a block still filling must not hold up the process's exit
        )
        worker.start()


def _fill(
    data: Any, targets: list[list[Any]], complete: set[str], columns: list[str], convert: Convert
) -> None:
    """Fill `targets` (the block's value lists, shared by every copy of the block that
    with_parts makes) from `data`, then mark the columns complete. A block merged away meanwhile
    is filled all the same: at most about a second of wasted work."""
    for start in range(0, data.num_rows, SLICE_ROWS):
        piece = data.slice(start, SLICE_ROWS)
        for values, column in zip(targets, piece.columns, strict=True):
            values[start : start + len(column)] = convert(column)
            time.sleep(PAUSE_S)
    complete.update(columns)
