"""The in-process mirror answers vector and BM25 searches exactly as LanceDB does, and is never
stale: writes, updates, deletes, compaction and other processes' writes show at once."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from alma_app.tables import TABLES
from alma_store import And, Eq, HasAny, In, InvalidQuery, Or, Range, TextContains, open_store
from alma_store.mirror import Unsupported

DIM = 16
NOW = datetime(2026, 1, 1, tzinfo=UTC)
AGENTS = ["helena", "victor", "alice"]
WORDS = ["login", "checkout", "timeout", "selector", "retry", "cache", "index", "deadlock"]


def row(i: int, rng: random.Random) -> dict:
    vector = np.asarray([rng.gauss(0, 1) for _ in range(DIM)], dtype=np.float32)
    return {
        "id": f"m{i}",
        "type": rng.choice(["heuristic", "outcome", "domain_knowledge"]),
        "agent": rng.choice(AGENTS),
        "user_id": None,
        "project_id": "p",
        "status": rng.choice(["approved", "approved", "pending", "rejected"]),
        "category": "c",
        "text": " ".join(rng.choice(WORDS) for _ in range(5)) + f" item{i}",
        "confidence": rng.random(),
        "created_at": NOW - timedelta(days=rng.randint(0, 100)),
        "updated_at": NOW,
        "validated_at": NOW,
        "shared_with": rng.choice([[], [], ["victor"], ["alice", "victor"]]),
        "payload": "{}",
        "metadata": "{}",
        "vector": vector,
    }


FILTERS = [
    None,
    Eq("agent", "helena"),
    And((Eq("project_id", "p"), Eq("status", "approved"), In("type", ("heuristic", "outcome")))),
    And((Eq("status", "approved"), Or((Eq("agent", "alice"), HasAny("shared_with", ("alice",)))))),
    Range("confidence", 0.2, 0.7),
    Range("created_at", NOW - timedelta(days=30), None),
    Eq("agent", "o'neil' OR 1=1 --"),
]


@pytest.fixture
def stores(tmp_path):
    """The same directory opened twice: with the mirror, and answering from LanceDB only."""
    mirrored = open_store(
        str(tmp_path / "s"), vector_dim=DIM, tables=TABLES, vector_index_min_rows=10**9
    )
    plain = open_store(
        str(tmp_path / "s"),
        vector_dim=DIM,
        tables=TABLES,
        vector_index_min_rows=10**9,
        mirror=False,
    )
    yield mirrored, plain
    mirrored.close()
    plain.close()


def same_hits(a: list[dict], b: list[dict], score: str) -> None:
    assert [h["id"] for h in a] == [h["id"] for h in b]
    assert np.allclose([h[score] for h in a], [h[score] for h in b], atol=1e-5)
    for x, y in zip(a, b, strict=True):
        assert {k: v for k, v in x.items() if k != score} == {
            k: v for k, v in y.items() if k != score
        }


def same_bm25(mirrored: list[dict], lance_all: list[dict], limit: int) -> None:
    """The mirror's BM25 (store/bm25.py) filters before ranking: its hits are the `limit` best
    of LanceDB's filtered matches, with LanceDB's scores (statistics over the whole table) and
    the same rows; only the order among equal scores may differ."""
    expected = sorted(lance_all, key=lambda h: -h["_score"])[:limit]
    assert np.allclose([h["_score"] for h in mirrored], [h["_score"] for h in expected], atol=1e-4)
    by_id = {h["id"]: h for h in lance_all}
    for hit in mirrored:
        assert hit["id"] in by_id
        assert abs(hit["_score"] - by_id[hit["id"]]["_score"]) < 1e-4
        assert {k: v for k, v in hit.items() if k != "_score"} == {
            k: v for k, v in by_id[hit["id"]].items() if k != "_score"
        }


def test_vector_and_text_search_match_lancedb_under_every_filter(stores):
    mirrored, plain = stores
    rng = random.Random(7)
    mirrored.add("memories", [row(i, rng) for i in range(300)])
    mirrored.add("memories", [row(i, rng) for i in range(300, 340)])  # a second fragment
    columns = ["id", "type", "agent", "status", "shared_with", "created_at", "payload"]
    for where in FILTERS:
        for _ in range(5):
            query = np.asarray([rng.gauss(0, 1) for _ in range(DIM)], dtype=np.float32)
            same_hits(
                mirrored.vector_search("memories", query, where=where, limit=25, columns=columns),
                plain.vector_search("memories", query, where=where, limit=25, columns=columns),
                "_distance",
            )
        for text in [*WORDS[:4], "checkout timeouts", "retrying caches item17"]:
            same_bm25(
                mirrored.text_search(
                    "memories", text, where=where, limit=60, columns=columns, prefilter=False
                ),
                # LanceDB ranks the whole table, then filters: all of it, so nothing is cut.
                plain.text_search(
                    "memories", text, where=where, limit=1000, columns=columns, prefilter=False
                ),
                limit=60,
            )
    assert mirrored._mirrors["memories"].loads == 2


def test_writes_updates_deletes_and_compaction_show_at_once(stores):
    mirrored, plain = stores
    rng = random.Random(3)
    rows = [row(i, rng) for i in range(200)]
    mirrored.add("memories", rows)
    target = dict(rows[17], status="approved", agent="helena")
    where = And((Eq("status", "approved"), Eq("agent", "helena")))

    def top_ids() -> list[str]:
        hits = mirrored.vector_search("memories", target["vector"], where=where, limit=3)
        assert hits == plain.vector_search("memories", target["vector"], where=where, limit=3)
        return [h["id"] for h in hits]

    mirrored.upsert("memories", [target])
    assert top_ids()[0] == "m17"
    plain.upsert("memories", [dict(target, status="rejected")])  # another handle writes
    assert "m17" not in top_ids()
    plain.upsert("memories", [target])
    assert top_ids()[0] == "m17"
    plain.delete("memories", ["m17"])
    assert "m17" not in top_ids()
    loads = mirrored._mirrors["memories"].loads
    plain.add("memories", [dict(target, id="m-new")])
    assert top_ids()[0] == "m-new"
    assert mirrored._mirrors["memories"].loads == loads + 1  # only the new fragment was read
    plain.compact("memories")
    assert top_ids()[0] == "m-new"
    assert mirrored._mirrors["memories"].rows == plain.count("memories")


def test_another_process_write_is_seen_by_the_next_search(tmp_path):
    store = open_store(str(tmp_path / "s"), vector_dim=DIM, tables=TABLES)
    rng = random.Random(1)
    store.add("memories", [row(i, rng) for i in range(50)])
    probe = np.ones(DIM, dtype=np.float32)
    assert "far" not in [h["id"] for h in store.vector_search("memories", probe, limit=1)]
    script = textwrap.dedent(
        f"""
        import numpy as np
        from datetime import datetime, UTC
        from alma_app.tables import TABLES
        from alma_store import open_store
        s = open_store({str(tmp_path / "s")!r}, vector_dim={DIM}, tables=TABLES)
        s.add("memories", [dict(id="far", type="heuristic", agent="helena", user_id=None,
            project_id="p", status="approved", category="c", text="far away",
            confidence=1.0, created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
            validated_at=datetime.now(UTC), shared_with=[], payload="{{}}", metadata="{{}}",
            vector=np.ones({DIM}, dtype=np.float32))])
        s.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=str(_repo_root()))
    assert [h["id"] for h in store.vector_search("memories", probe, limit=1)] == ["far"]
    store.close()


def test_bad_filters_are_refused_as_before_and_unanswerable_ones_fall_back(stores, monkeypatch):
    mirrored, plain = stores
    rng = random.Random(5)
    mirrored.add("memories", [row(i, rng) for i in range(40)])
    query = np.ones(DIM, dtype=np.float32)
    with pytest.raises(InvalidQuery):
        mirrored.vector_search("memories", query, where=TextContains("text", "login"), limit=5)
    with pytest.raises(InvalidQuery):
        mirrored.vector_search("memories", query, where=Eq("no_such_column", "x"), limit=5)

    def cannot(*args, **kwargs):
        raise Unsupported("as if the mirror could not answer")

    mirrored.vector_search("memories", query, limit=1)
    monkeypatch.setattr(mirrored._mirrors["memories"], "nearest", cannot)
    where = Eq("agent", "helena")
    assert mirrored.vector_search("memories", query, where=where, limit=5) == plain.vector_search(
        "memories", query, where=where, limit=5
    )


def _repo_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]


def test_single_row_writes_merged_into_blocks_answer_like_lancedb(stores, tmp_path):
    """One memory per call makes one fragment per call; the mirror merges them into a few blocks
    (store/mirror_blocks.py) and still answers exactly, through updates, deletes and compaction.

    Vector search is compared with LanceDB's exact search throughout; BM25 with LanceDB's while
    rows are only added, and after updates and deletes with a mirror built afresh from the same
    directory (LanceDB's FTS statistics still count deleted rows until its index is optimized)."""
    mirrored, plain = stores
    rng = random.Random(11)
    rows = [row(i, rng) for i in range(120)]
    mirrored.add("memories", rows[:40])
    columns = ["id", "type", "agent", "status", "shared_with", "created_at", "payload"]
    texts = ["checkout timeout", "retry cache item77", "deadlock"]

    def check(reference) -> None:
        for where in FILTERS:
            query = np.asarray([rng.gauss(0, 1) for _ in range(DIM)], dtype=np.float32)
            same_hits(
                mirrored.vector_search("memories", query, where=where, limit=30, columns=columns),
                plain.vector_search("memories", query, where=where, limit=30, columns=columns),
                "_distance",
            )
            for text in texts:
                same_bm25(
                    mirrored.text_search(
                        "memories", text, where=where, limit=40, columns=columns, prefilter=False
                    ),
                    reference.text_search(
                        "memories", text, where=where, limit=1000, columns=columns, prefilter=False
                    ),
                    limit=40,
                )
        assert mirrored._mirrors["memories"].rows == plain.count("memories")

    def fresh_check() -> None:
        fresh = open_store(
            str(tmp_path / "s"), vector_dim=DIM, tables=TABLES, vector_index_min_rows=10**9
        )
        try:
            check(fresh)
        finally:
            fresh.close()

    check(plain)  # the first block's postings exist before the merges: merged, not rebuilt
    for i in range(40, 120):
        mirrored.add("memories", [rows[i]])
        if i % 20 == 0:
            check(plain)
    mirror = mirrored._mirrors["memories"]
    assert len(mirror._blocks) < 10  # up to 81 fragments
    for i in (45, 77, 100):  # rows inside merged blocks change and vanish
        mirrored.upsert("memories", [dict(rows[i], status="approved", agent="alice")])
    plain.delete("memories", ["m50", "m51", "m90"])
    fresh_check()
    for i in range(60, 110):  # most single-row fragments rewritten: blocks shed dead rows
        mirrored.upsert("memories", [dict(rows[i], confidence=0.5)])
    fresh_check()
    mirrored.upsert("memories", [dict(r, confidence=0.25) for r in rows[:30]])
    fresh_check()
    plain.compact("memories")
    fresh_check()


def test_rows_converted_one_search_at_a_time_answer_the_same(stores, monkeypatch):
    """Big blocks convert to Python only the rows a search reads (store/mirror_blocks.py); the
    answers are those of LanceDB's search all the same."""
    from alma_store import mirror_blocks

    monkeypatch.setattr(mirror_blocks, "WHOLE_COLUMNS", 0)
    test_vector_and_text_search_match_lancedb_under_every_filter(stores)


def test_a_big_blocks_columns_are_filled_in_beside_the_searches(stores, monkeypatch):
    """A block too big to convert whole at its first search converts the rows that search reads,
    and a background thread fills in the rest of those columns (store/mirror_fill.py), after
    which searches find every value ready, equal to what LanceDB holds."""
    from alma_store import mirror_blocks, mirror_fill

    monkeypatch.setattr(mirror_blocks, "WHOLE_COLUMNS", 8)
    monkeypatch.setattr(mirror_fill, "SLICE_ROWS", 7)  # several slices, one column at a time
    mirrored, plain = stores
    rng = random.Random(5)
    rows = [row(i, rng) for i in range(60)]
    mirrored.add("memories", rows)  # one fragment: one block of 60 rows
    columns = ["id", "agent", "created_at", "shared_with"]
    query = rows[0]["vector"]
    first = mirrored.vector_search("memories", query, limit=3, columns=columns)
    (block,) = mirrored._mirrors["memories"]._blocks
    deadline = time.monotonic() + 30
    while not block._complete.issuperset(columns) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert block._complete.issuperset(columns)
    for name in columns:
        values = block._values[name][0]
        assert values == block.data.column(name).to_pylist()  # all there, none MISSING
    again = mirrored.vector_search("memories", query, limit=3, columns=columns)
    same_hits(again, first, "_distance")
    same_hits(again, plain.vector_search("memories", query, limit=3, columns=columns), "_distance")
