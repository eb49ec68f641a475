"""The store's self-test for `alma doctor`: write, read back and delete one row."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pyarrow as pa

from .errors import StoreUnavailable
from .filters import In, to_lance
from .handles import TableHandles
from .redact import explain

PROBE_TABLE = "_alma_probe"  # scratch table of `alma doctor`; never read by the core
_PROBE_SCHEMA = pa.schema([("id", pa.string()), ("at", pa.timestamp("us", tz="UTC"))])


def probe(handles: TableHandles) -> dict[str, float]:
    """Milliseconds each step took, in a scratch table outside the caller's tables.

    Raises StoreUnavailable saying why the store cannot be reached or written (missing
    container or bucket, rejected credentials, ...)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal started
        now = time.perf_counter()
        timings[step] = (now - started) * 1000
        started = now

    probe_id = uuid.uuid4().hex
    db = handles.db
    try:
        tbl = db.open_table(PROBE_TABLE)
    except Exception as exc:
        if explain(str(exc)) is not None:
            raise
        tbl = db.create_table(PROBE_TABLE, schema=_PROBE_SCHEMA, exist_ok=True)
    lap("open_ms")
    row = pa.table({"id": [probe_id], "at": [datetime.now(UTC)]}, schema=_PROBE_SCHEMA)
    handles.with_retries(PROBE_TABLE, lambda: tbl.add(row))
    lap("write_ms")
    where = to_lance(In("id", (probe_id,)), _PROBE_SCHEMA)
    found = tbl.search().where(where).limit(1).to_arrow().num_rows
    lap("read_ms")
    handles.with_retries(PROBE_TABLE, lambda: tbl.delete(where))
    lap("delete_ms")
    if found != 1:
        raise StoreUnavailable(handles.uri, "a row written by the probe could not be read back")
    return timings
