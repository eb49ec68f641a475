"""Retrieval quality on the labelled set (benchmarks/quality_set.py): recall@5, recall@10 and MRR
for vector-only, BM25-only and hybrid search, per kind of query, through the public API
(`ALMA.search(query, agent=..., limit=100, mode=...)`, top 10 scored) with the real MiniLM model.

A fourth row, "convex", is a what-if computed from the vector and lexical result lists: fusion
by score rather than by rank. Every memory has the same age and confidence, so the ranking
differences come from the searches alone. Prints one table per query kind and writes
benchmarks/results/quality.json.

Run: `.venv/bin/python benchmarks/quality.py`
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.peer_runner import use_checkout  # noqa: E402

use_checkout(str(ROOT))  # this checkout's alma_store, whatever the editable install says

from alma_app import ALMA, MiniLMEmbedder  # noqa: E402
from alma_app.types import DomainKnowledge, utcnow  # noqa: E402
from benchmarks.quality_set import build  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
MODES = ("vector", "lexical", "hybrid")
# A what-if, not the product: fuse by score (cosine and BM25 / best BM25) instead of by rank,
# computed from the vector and lexical result lists above, to show what the fusion costs.
CONVEX_ALPHA = 0.7
ROWS = (*MODES, "convex")
AGENT = "qa"


def rank_of(ids: list[str], relevant: str) -> int | None:
    return ids.index(relevant) + 1 if relevant in ids else None


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {
        "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 3),
        "recall@10": round(sum(1 for r in ranks if r and r <= 10) / n, 3),
        "mrr": round(sum(1 / r for r in ranks if r) / n, 3),
    }


def convex(vector_hits: list, lexical_hits: list) -> list[str]:
    """Ids ranked by alpha * cosine + (1 - alpha) * BM25 / best BM25 (missing counts as 0)."""
    fused: dict[str, float] = {}
    for hit in vector_hits:
        fused[hit.id] = CONVEX_ALPHA * hit.score.similarity
    for hit in lexical_hits:
        fused[hit.id] = fused.get(hit.id, 0.0) + (1 - CONVEX_ALPHA) * hit.score.lexical
    return sorted(fused, key=fused.__getitem__, reverse=True)


def main() -> None:
    corpus, queries = build()
    embedder = MiniLMEmbedder()
    embedder.model()
    with tempfile.TemporaryDirectory(prefix="alma-quality-") as tmp:
        alma = ALMA(project_id="quality", storage_dir=str(Path(tmp) / "store"), embedder=embedder)
        now = utcnow()
        memories = [
            DomainKnowledge(
                agent=AGENT,
                domain="operations",
                fact=item.fact,
                confidence=1.0,
                created_at=now,
                updated_at=now,
                last_verified=now,
                status="approved",
            )
            for item in corpus
        ]
        alma.add_memories(memories, actor="benchmark")
        key_of = {m.id: item.key for m, item in zip(memories, corpus, strict=True)}
        ranks: dict[tuple[str, str], list[int | None]] = defaultdict(list)
        for query in queries:
            found = {}
            for mode in MODES:
                found[mode] = alma.search(query.text, agent=AGENT, limit=100, mode=mode)
                ids = [key_of[h.id] for h in found[mode][:10]]
                ranks[(query.kind, mode)].append(rank_of(ids, query.relevant))
            ids = [key_of[i] for i in convex(found["vector"], found["lexical"])[:10]]
            ranks[(query.kind, "convex")].append(rank_of(ids, query.relevant))
        alma.close()

    kinds = sorted({q.kind for q in queries}, key=["paraphrase", "semantic", "lexical"].index)
    table: dict[str, dict[str, dict[str, float]]] = {}
    print(f"corpus: {len(corpus)} memories; queries: {len(queries)}\n")
    for kind in [*kinds, "all"]:
        table[kind] = {}
        n = sum(1 for q in queries if kind in ("all", q.kind))
        print(f"{kind} ({n} queries)")
        print(f"  {'mode':8} | {'recall@5':>8} | {'recall@10':>9} | {'MRR':>6}")
        for mode in ROWS:
            got = ranks_for(ranks, kind, mode, kinds)
            table[kind][mode] = metrics(got)
            m = table[kind][mode]
            print(f"  {mode:8} | {m['recall@5']:>8} | {m['recall@10']:>9} | {m['mrr']:>6}")
        print()
    print(
        f"convex = what-if fusion {CONVEX_ALPHA}·cosine + {1 - CONVEX_ALPHA:.1f}·BM25/best, "
        "from the vector and lexical lists (not the product's hybrid)"
    )
    RESULTS.mkdir(exist_ok=True)
    out = {"corpus": len(corpus), "queries": len(queries), "metrics": table}
    (RESULTS / "quality.json").write_text(json.dumps(out, indent=2))
    print(f"wrote {RESULTS / 'quality.json'}")


def ranks_for(
    ranks: dict[tuple[str, str], list[int | None]], kind: str, mode: str, kinds: list[str]
) -> list[int | None]:
    if kind != "all":
        return ranks[(kind, mode)]
    return [r for k in kinds for r in ranks[(k, mode)]]


if __name__ == "__main__":
    main()
