"""Export and import of memories as JSONL or Parquet, lossless in both directions.

Export order is fixed (type, then id) and derived values (effective confidence, scores) are left
out, so export → import into an empty store → export gives byte-identical files. Embeddings are
optional in a file; when absent they are recomputed on import.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from alma_app.checks import check_choice, check_datetime, check_text
from alma_app.errors import AlmaError, ValidationError
from alma_app.memory.records import check_memory, to_plain
from alma_app.memory.types import MEMORY_CLASSES, MEMORY_TYPES, Memory

if TYPE_CHECKING:
    from alma_app.embeddings import Embedder
    from alma_app.memory.repository import MemoryRepository
    from alma_app.memory.types import MemoryPage


class Memories(Protocol):
    """What export and import work through: an ALMA handle or a MemoryService (the repository
    for reads and writes, list_memories for a filtered export)."""

    repo: MemoryRepository
    embedder: Embedder

    @property
    def project_id(self) -> str: ...

    def list_memories(self, **filters: Any) -> MemoryPage: ...


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
    alma: Memories,
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
    alma: Memories,
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
    alma: Memories,
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
    return [record for _where, record in read_located_records(path)]


def read_located_records(path: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """(where, record) pairs, where naming the file and its line (JSONL) or row (Parquet), so
    that an import can say which record was wrong. Raises ValidationError("file", ...)."""
    path = Path(path)
    if not path.exists():
        raise ValidationError("file", f"{path} does not exist")
    if path.suffix == ".parquet":
        return _parquet_records(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ValidationError(
            "file", f"{path} line {line} is not UTF-8 text (byte {exc.start}); export as UTF-8"
        ) from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ValidationError("file", f"{path} line {number} is not JSON: {exc}") from None
        if not isinstance(record, dict):
            raise ValidationError("file", f"{path} line {number} is not a JSON object")
        records.append((f"{path} line {number}", record))
    return records


def _parquet_records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        rows = pq.read_table(path).to_pylist()
    except (pa.ArrowException, OSError) as exc:
        raise ValidationError("file", f"{path} is not a readable Parquet file: {exc}") from None
    records = []
    for number, row in enumerate(rows, start=1):
        where = f"{path} row {number}"
        missing = [c for c in ("id", "type", "fields", "metadata") if c not in row]
        if missing:
            raise ValidationError(
                "file", f"{path} has no column {missing[0]!r}; is it a file from `alma export`?"
            )
        record = dict(_json_column(where, "fields", row.pop("fields"), dict))
        record.update({k: v for k, v in row.items() if k != "metadata"})
        record["metadata"] = _json_column(where, "metadata", row["metadata"], dict)
        if record.get("embedding") is None:
            record.pop("embedding", None)
        records.append((where, record))
    return records


def _json_column(where: str, column: str, value: Any, kind: type) -> Any:
    if not isinstance(value, str):
        raise RecordError(where, column, f"expected JSON text, got {type(value).__name__}")
    try:
        decoded = json.loads(value)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise RecordError(where, column, f"is not JSON: {exc}") from None
    if not isinstance(decoded, kind):
        raise RecordError(where, column, f"expected a JSON object, got {type(decoded).__name__}")
    return decoded


def memory_from_record(record: dict[str, Any], project_id: str) -> Memory:
    """Rebuild a memory from an export record, every field checked (alma_app.checks).

    Raises ValidationError naming the bad field. The record's project_id is replaced by the
    importing project's.
    """
    if not isinstance(record, dict):
        raise ValidationError("record", f"expected a JSON object, got {type(record).__name__}")
    kind = check_choice("type", record.get("type"), MEMORY_TYPES)
    if "id" in record:
        check_text("id", record["id"])
    cls = MEMORY_CLASSES[kind]
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in {"score", "effective_confidence"} or f.name not in record:
            continue
        value = record[f.name]
        if "datetime" in str(f.type) and value is not None:
            value = check_datetime(f.name, value)
        kwargs[f.name] = value
    kwargs["project_id"] = project_id
    memory = cls(**kwargs)
    check_memory(memory)
    return memory


def import_records(
    alma: Memories,
    records: Sequence[dict[str, Any]],
    *,
    actor: str = "import",
    progress: Progress | None = None,
    locations: Sequence[str] | None = None,
) -> int:
    """Store records in batches (one commit each), replacing this project's memories with the
    same id. Returns how many were stored.

    All or nothing: every field of every record is checked, and every embedding taken from the
    file or computed, before the first write; a rejected import (ValidationError naming the
    record and field) leaves the store as it was. A storage failure part-way undoes the batches
    already written. Only a killed process can leave part of an import: whole batches, and
    importing the file again completes it.

    Ids are scoped to the project: a record whose id belongs to another project's memory in
    the same store is refused (strip the id to import it as a new memory). Embeddings whose
    dimension differs from the embedder's are recomputed; a malformed one is an error.
    """
    where = list(locations) if locations is not None else []
    where += [f"record {i}" for i in range(len(where) + 1, len(records) + 1)]
    memories = []
    for at, record in zip(where, records, strict=False):
        try:
            memories.append(memory_from_record(record, alma.project_id))
        except ValidationError as exc:
            raise RecordError(at, exc.argument, _detail(exc)) from None
    _check_ids(alma, memories, where)
    vectors = _vectors_for(alma, memories, records, where)
    before = _existing_rows(alma, [m.id for m in memories])
    total, done = len(memories), 0
    try:
        for start in range(0, total, BATCH):
            chunk = memories[start : start + BATCH]
            alma.repo.upsert_new(
                chunk, vectors=vectors[start : start + BATCH], actor=actor, action="import"
            )
            done += len(chunk)
            if progress:
                progress(done, total)
    except AlmaError:
        _undo(alma, memories[:done], before)
        raise
    return total


class RecordError(ValidationError):
    """A record of an import file is wrong: where (file and line/row), which field, and why."""

    def __init__(self, where: str, field: str, message: str) -> None:
        super().__init__(f"{where}: {field}", message)
        self.where = where
        self.field = field


def _detail(exc: ValidationError) -> str:
    return str(exc).removeprefix(f"{exc.argument}: ")


def _check_ids(alma: Memories, memories: Sequence[Memory], where: Sequence[str]) -> None:
    """Refuse an id given twice in the file, or one that is another project's memory."""
    seen: dict[str, str] = {}
    for at, memory in zip(where, memories, strict=False):
        if memory.id in seen:
            raise RecordError(at, "id", f"{memory.id!r} is also the id of {seen[memory.id]}")
        seen[memory.id] = at
    for row in alma.repo.rows(list(seen), ["id", "project_id"]):
        if row["project_id"] != alma.project_id:
            raise RecordError(
                seen[row["id"]],
                "id",
                f"{row['id']!r} is a memory of another project in this store; remove the id "
                "from the record to import it as a new memory",
            )


def _existing_rows(alma: Memories, ids: list[str]) -> list[dict[str, Any]]:
    """This project's rows that the import will replace, whole (to undo a failed import)."""
    return alma.repo.rows(ids)


def _undo(alma: Memories, written: Sequence[Memory], before: list[dict[str, Any]]) -> None:
    """Put the store back as it was before a failed import (best effort, then re-raise)."""
    replaced = {row["id"] for row in before}
    with contextlib.suppress(AlmaError):
        alma.repo.put_back([m.id for m in written if m.id not in replaced], before)


def _vectors_for(
    alma: Memories, memories: list[Memory], records: Sequence[dict[str, Any]], where: Sequence[str]
) -> np.ndarray:
    """One vector per memory: the record's embedding when its dimension matches, else computed.

    A malformed embedding (not a list of finite numbers) is refused before anything is written.
    """
    dim = alma.embedder.dim
    vectors = np.zeros((len(memories), dim), dtype=np.float32)
    missing = []
    for i, (at, record) in enumerate(zip(where, records, strict=False)):
        embedding = record.get("embedding")
        if embedding is None:
            missing.append(i)
            continue
        if isinstance(embedding, str | bytes) or not isinstance(embedding, list | tuple):
            raise RecordError(
                at, "embedding", f"expected a list of numbers, got {type(embedding).__name__}"
            )
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in embedding):
            raise RecordError(at, "embedding", "expected a list of numbers")
        try:
            with np.errstate(over="ignore"):
                vector = np.asarray(embedding, dtype=np.float64).astype(np.float32)
        except (OverflowError, ValueError):
            raise RecordError(at, "embedding", "holds a number out of range") from None
        if not np.isfinite(vector).all():
            raise RecordError(at, "embedding", "must hold finite numbers (no NaN or infinity)")
        if len(vector) == dim:
            vectors[i] = vector
        else:
            missing.append(i)
    for start in range(0, len(missing), BATCH):
        chunk = missing[start : start + BATCH]
        vectors[chunk] = alma.repo.embed([memories[i] for i in chunk])
    return vectors
