"""Export and import of memories as JSONL or Parquet, lossless in both directions.

Export order is fixed (type, then id) and derived values (effective confidence, scores) are left
out, so export → import into an empty store → export gives byte-identical files. Embeddings are
optional in a file; when absent they are recomputed on import.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from alma_app.errors import ValidationError
from alma_app.records import to_plain
from alma_app.types import MEMORY_CLASSES, MEMORY_TYPES, Memory

if TYPE_CHECKING:
    from alma_app.api import ALMA

FORMATS = ("jsonl", "parquet")
BATCH = 500
Progress = Callable[[int, int], None]  # (done, total)


def plain_record(memory: Memory, vector: np.ndarray | None) -> dict[str, Any]:
    record = to_plain(memory)
    record.pop("effective_confidence", None)
    record.pop("score", None)
    if vector is not None:
        record["embedding"] = [float(x) for x in np.asarray(vector, dtype=np.float32)]
    return record


def iter_export(
    alma: ALMA,
    memory_ids: Sequence[str] | None = None,
    *,
    include_embeddings: bool = True,
    **filters: Any,
) -> Iterator[dict[str, Any]]:
    """Records of the chosen memories (given ids, or a list_memories filter), in export order."""
    if memory_ids is not None:
        memories = alma.repo.get_many(list(memory_ids))
    else:
        memories = []
        offset = 0
        while True:
            page = alma.list_memories(
                limit=5000, offset=offset, order_by="created_at", descending=False, **filters
            )
            memories.extend(page.items)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                break
    memories.sort(key=lambda m: (MEMORY_TYPES.index(m.TYPE), m.id))
    for start in range(0, len(memories), BATCH):
        chunk = memories[start : start + BATCH]
        vectors = alma.repo.vectors([m.id for m in chunk]) if include_embeddings else {}
        for memory in chunk:
            yield plain_record(memory, vectors.get(memory.id))


def export_bytes(
    alma: ALMA,
    fmt: str,
    memory_ids: Sequence[str] | None = None,
    *,
    include_embeddings: bool = True,
    **filters: Any,
) -> bytes:
    """The export file's content (the dashboard offers it as a download)."""
    buffer = io.BytesIO()
    count = write_export(
        alma, buffer, fmt, memory_ids, include_embeddings=include_embeddings, **filters
    )
    del count
    return buffer.getvalue()


def write_export(
    alma: ALMA,
    target: str | Path | IO[bytes],
    fmt: str,
    memory_ids: Sequence[str] | None = None,
    *,
    include_embeddings: bool = True,
    **filters: Any,
) -> int:
    """Write memories to a file or binary stream; returns how many were written."""
    if fmt not in FORMATS:
        raise ValidationError("format", f"must be one of {FORMATS}, got {fmt!r}")
    records = list(iter_export(alma, memory_ids, include_embeddings=include_embeddings, **filters))
    if fmt == "jsonl":
        data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
        _write(target, data.encode("utf-8"))
    else:
        buffer = io.BytesIO()
        pq.write_table(_to_parquet_table(records, alma.embedder.dim), buffer)
        _write(target, buffer.getvalue())
    return len(records)


def _write(target: str | Path | IO[bytes], data: bytes) -> None:
    if isinstance(target, str | Path):
        Path(target).write_bytes(data)
    else:
        target.write(data)


def _to_parquet_table(records: list[dict[str, Any]], dim: int) -> pa.Table:
    """Common fields as columns, the type-specific ones as a JSON `fields` column."""
    common = ("id", "type", "agent", "project_id", "status", "created_at", "updated_at")
    columns: dict[str, list[Any]] = {name: [] for name in common}
    columns.update(shared_with=[], metadata=[], fields=[], embedding=[])
    for record in records:
        rest = dict(record)
        for name in common:
            columns[name].append(rest.pop(name))
        columns["shared_with"].append(rest.pop("shared_with"))
        columns["metadata"].append(json.dumps(rest.pop("metadata"), sort_keys=True))
        columns["embedding"].append(rest.pop("embedding", None))
        columns["fields"].append(json.dumps(rest, ensure_ascii=False, sort_keys=True))
    schema = pa.schema(
        [
            *[(n, pa.string()) for n in common],
            ("shared_with", pa.list_(pa.string())),
            ("metadata", pa.string()),
            ("fields", pa.string()),
            ("embedding", pa.list_(pa.float32(), dim)),
        ]
    )
    return pa.table(columns, schema=schema)


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Records from a .jsonl or .parquet export (format chosen by the file's suffix)."""
    path = Path(path)
    if not path.exists():
        raise ValidationError("file", f"{path} does not exist")
    if path.suffix == ".parquet":
        try:
            rows = pq.read_table(path).to_pylist()
        except (pa.ArrowInvalid, OSError) as exc:
            raise ValidationError("file", f"{path} is not a readable Parquet file: {exc}") from exc
        records = []
        for row in rows:
            record = json.loads(row.pop("fields"))
            record.update({k: v for k, v in row.items() if k != "metadata"})
            record["metadata"] = json.loads(row["metadata"])
            if record.get("embedding") is None:
                record.pop("embedding", None)
            records.append(record)
        return records
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError("file", f"{path} line {number} is not JSON: {exc}") from exc
        if not isinstance(record, dict):
            raise ValidationError("file", f"{path} line {number} is not a JSON object")
        records.append(record)
    return records


def memory_from_record(record: dict[str, Any], project_id: str) -> Memory:
    """Rebuild a memory from an export record; raises ValidationError naming the bad field."""
    kind = record.get("type")
    if kind not in MEMORY_CLASSES:
        raise ValidationError(
            "type", f"unknown memory type {kind!r} in record {record.get('id')!r}"
        )
    cls = MEMORY_CLASSES[kind]
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in {"score", "effective_confidence"} or f.name not in record:
            continue
        value = record[f.name]
        if isinstance(value, str) and "datetime" in str(f.type):
            try:
                value = datetime.fromisoformat(value)
            except ValueError as exc:
                raise ValidationError(f.name, f"not an ISO timestamp: {value!r}") from exc
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
        kwargs[f.name] = value
    kwargs["project_id"] = project_id
    return cls(**kwargs)


def import_records(
    alma: ALMA,
    records: list[dict[str, Any]],
    *,
    actor: str = "import",
    progress: Progress | None = None,
) -> int:
    """Store records in batches (one commit each), replacing memories with the same id.

    Embeddings in the records are used when their dimension matches the embedder; missing ones
    are computed. Every record is validated before anything is written.
    """
    memories = [memory_from_record(r, alma.project_id) for r in records]
    for memory in memories:
        alma.repo.validate(memory)
    total = len(memories)
    done = 0
    for start in range(0, total, BATCH):
        chunk = memories[start : start + BATCH]
        chunk_records = records[start : start + BATCH]
        vectors = _vectors_for(alma, chunk, chunk_records)
        alma.repo.upsert_new(chunk, vectors=vectors, actor=actor, action="import")
        done += len(chunk)
        if progress:
            progress(done, total)
    return total


def _vectors_for(alma: ALMA, chunk: list[Memory], records: list[dict[str, Any]]) -> np.ndarray:
    dim = alma.embedder.dim
    vectors = np.zeros((len(chunk), dim), dtype=np.float32)
    missing = []
    for i, record in enumerate(records):
        embedding = record.get("embedding")
        if embedding is not None and len(embedding) == dim:
            vectors[i] = np.asarray(embedding, dtype=np.float32)
        else:
            missing.append(i)
    if missing:
        vectors[missing] = alma.repo.embed([chunk[i] for i in missing])
    return vectors
