"""Export → import into an empty store → export gives identical files."""

from __future__ import annotations

import pytest

from alma_app import ALMA, ValidationError
from alma_app.memory.transfer import import_records, read_records, write_export
from alma_app.sample import load_sample_memories


def fresh_store(tmp_path, name: str) -> ALMA:
    return ALMA(project_id="acme-webshop", storage_dir=str(tmp_path / name), embedding="hashing")


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
@pytest.mark.parametrize("with_embeddings", [True, False])
def test_export_import_export_round_trip_is_identical(tmp_path, fmt, with_embeddings):
    source = fresh_store(tmp_path, "source")
    load_sample_memories(source)
    first = tmp_path / f"first.{fmt}"
    assert write_export(source, first, fmt, include_embeddings=with_embeddings) == 135

    target = fresh_store(tmp_path, "target")
    progress: list[tuple[int, int]] = []
    assert (
        import_records(target, read_records(first), progress=lambda d, t: progress.append((d, t)))
        == 135
    )
    assert progress[-1] == (135, 135)
    second = tmp_path / f"second.{fmt}"
    write_export(target, second, fmt, include_embeddings=with_embeddings)
    assert first.read_bytes() == second.read_bytes()
    assert target.stats()["by_status"] == source.stats()["by_status"]


def test_importing_without_embeddings_recomputes_them(tmp_path):
    source = fresh_store(tmp_path, "source")
    fact = source.add_domain_knowledge("victor", "api", "orders paginate with opaque cursors")
    path = tmp_path / "no-vectors.jsonl"
    write_export(source, path, "jsonl", include_embeddings=False)
    target = fresh_store(tmp_path, "target")
    import_records(target, read_records(path))
    assert target.search("opaque cursors", limit=1)[0].id == fact.id


def test_a_bad_record_imports_nothing(tmp_path):
    source = fresh_store(tmp_path, "source")
    load_sample_memories(source)
    path = tmp_path / "export.jsonl"
    write_export(source, path, "jsonl")
    records = read_records(path)
    records[7]["confidence"] = float("nan")
    target = fresh_store(tmp_path, "target")
    with pytest.raises(ValidationError, match="confidence"):
        import_records(target, records)
    assert target.stats()["total"] == 0


def test_unreadable_files_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\nnot json\n')
    with pytest.raises(ValidationError, match="line 2 is not JSON"):
        read_records(bad)
    with pytest.raises(ValidationError, match="does not exist"):
        read_records(tmp_path / "missing.jsonl")
