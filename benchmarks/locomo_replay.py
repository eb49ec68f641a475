"""LoCoMo ablations in seconds: the product's candidate lists dumped once, re-ranked offline.

A fusion idea measured through benchmarks/locomo.py costs a full ingest and 954 retrieves per
try. This script runs the product's own hybrid fetch (alma_app.memory.hybrid.fetch) once per
question and saves what it returned (each candidate's similarity, BM25 score, word share, ranks,
write time and whether it asks), the query vector, and every memory's vector in write order.
`replay` then ranks those candidates with the product's own relevance, neighbouring-context and
question-discount code (alma_app.memory.search) and checks, question by question, that its top
5 is what retrieve(top_k=5) returned; variants plug in as functions of the same inputs.

    .venv/bin/python benchmarks/locomo_replay.py dump PATH/locomo10.json OUT.pkl
    .venv/bin/python benchmarks/locomo_replay.py replay OUT.pkl

Variants plug in as rankers (conv, question, weights) -> ids; `with_similarities` replaces
some candidates' similarities. The ones measured at stops 15 and 16 are in docs/benchmarks.md;
the predecessor's vector (stop 16) is now the product's own, inside the vector search.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alma_app import ALMA, MiniLMEmbedder  # noqa: E402
from alma_app.config import RetrievalWeights  # noqa: E402
from alma_app.memory import hybrid, scoring  # noqa: E402
from alma_app.memory.search import (  # noqa: E402
    SCORE_COLUMNS,
    contextual_relevance,
    discount_questions,
    preceding,
)
from alma_app.types import DomainKnowledge  # noqa: E402
from benchmarks.locomo import CATEGORIES, DOMAIN, load  # noqa: E402

Ranker = Callable[[dict, dict, RetrievalWeights], list[str]]


def dump(path: Path, out: Path) -> None:
    """Ingest every conversation (one bulk import each) and save the candidates of each question."""
    embedder = MiniLMEmbedder()
    convs = []
    with tempfile.TemporaryDirectory(prefix="alma-locomo-replay-") as tmp:
        for conv in load(path, None):
            agent = conv.sample_id
            alma = ALMA(project_id="locomo", storage_dir=f"{tmp}/{agent}", embedder=embedder)
            alma.add_memories(
                [DomainKnowledge(agent=agent, domain=DOMAIN, fact=t) for _, t in conv.turns]
            )
            questions = [(q.text, q.category, q.evidence) for q in conv.questions]
            convs.append(capture(alma, agent, [dia for dia, _ in conv.turns], questions))
            alma.close()
            print(f"  {agent}: {len(conv.turns)} memories, {len(questions)} questions", flush=True)
    out.write_bytes(pickle.dumps(convs, pickle.HIGHEST_PROTOCOL))


def capture(
    alma: ALMA, agent: str, labels: list[str], questions: list[tuple[str, int, frozenset[str]]]
) -> dict:
    """One conversation's record: its memories in write order (labelled in that order), their
    vectors, and for each (question, category, gold labels) the hybrid fetch's candidates and
    the ids retrieve(top_k=5) returned."""
    rows = alma.store.scan("memories", columns=["id", "vector", "agent", "created_at"])
    rows.sort(key=lambda r: r["created_at"])
    weights = alma.settings.retrieval
    where = alma.scope.visibility(agent, None)
    out = []
    for text, category, gold in questions:
        hits = hybrid.fetch(
            alma.store, alma.embedder, "memories", text, where,
            limit=weights.candidates, columns=SCORE_COLUMNS, weights=weights,
            preceding=preceding(weights),
        )  # fmt: skip
        out.append(
            {
                "text": text,
                "category": category,
                "gold": gold,
                "merged": hits.merged,
                "written": {k: (r["agent"], r["created_at"]) for k, r in hits.rows.items()},
                "asks": {k for k, r in hits.rows.items() if scoring.asks(r.get("text"))},
                "best_bm25": hits.best_bm25,
                "query": np.asarray(alma.embedder.embed([text])[0], np.float32),
                "retrieved": [m.id for m in alma.retrieve(text, agent, top_k=5).all()],
            }
        )
    vectors = np.asarray([r["vector"] for r in rows], np.float32)
    return {
        "ids": [r["id"] for r in rows],
        "dia": labels,
        "at": [r["created_at"] for r in rows],
        "vectors": vectors / np.linalg.norm(vectors, axis=1, keepdims=True),
        "questions": out,
        "weights": weights,
    }


def product(conv: dict, q: dict, weights: RetrievalWeights) -> list[str]:
    """The product's ranking: fused relevance raised by the neighbours', a memory that asks
    discounted, merge order on ties."""
    asks = q.get("asks", set())
    rows = {
        k: {"agent": a, "created_at": at, "text": "?" if k in asks else ""}
        for k, (a, at) in q["written"].items()
    }
    rel = contextual_relevance(q["merged"], rows, q["best_bm25"], weights, weights.context_weight)
    discount_questions(rel, rows, weights.question_discount)
    return sorted(rel, key=lambda k: -round(rel[k], 6))


def with_similarities(q: dict, similarity: dict[str, float]) -> dict:
    """The question with some candidates' similarities replaced (a variant's input)."""
    merged = {k: c for k, c in q["merged"].items()}
    for k, s in similarity.items():
        merged[k] = type(merged[k])(**{**merged[k].__dict__, "similarity": s})
    return {**q, "merged": merged}


def evaluate(name: str, convs: list[dict], ranker: Ranker, check: bool = False) -> None:
    per: dict[str, list[tuple[float, float, float]]] = {c: [] for c in [*CATEGORIES.values()]}
    same = 0
    for conv in convs:
        dia = dict(zip(conv["ids"], conv["dia"], strict=True))
        for q in conv["questions"]:
            ranked = ranker(conv, q, conv["weights"])
            same += ranked[:5] == q["retrieved"]
            gold = q["gold"]
            five, ten = {dia[k] for k in ranked[:5]}, {dia[k] for k in ranked[:10]}
            scores = (
                len(five & gold) / len(gold),
                float(bool(five & gold)),
                len(ten & gold) / len(gold),
            )
            per[CATEGORIES[q["category"]]].append(scores)
    everything = [s for rows in per.values() for s in rows]
    r5, h5, r10 = (round(statistics.fmean(s[i] for s in everything), 3) for i in range(3))
    cats = " | ".join(f"{statistics.fmean(s[0] for s in rows):.3f}" for rows in per.values())
    tail = f"  (top 5 as retrieve returned it: {same}/{len(everything)})" if check else ""
    print(f"| {name:44} | {r5:.3f} | {h5:.3f} | {r10:.3f} | {cats} |{tail}", flush=True)


def replay(dumped: Path) -> None:
    convs = pickle.loads(dumped.read_bytes())
    print("| ranking | recall@5 | hit@5 | recall@10 | " + " | ".join(CATEGORIES.values()) + " |")
    evaluate("product (exact replay)", convs, product, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="ingest and save every question's candidates")
    d.add_argument("path", type=Path, help="LoCoMo JSON (e.g. locomo10.json)")
    d.add_argument("out", type=Path)
    r = sub.add_parser("replay", help="rank the saved candidates: the product and the variants")
    r.add_argument("dumped", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.path, args.out)
    else:
        replay(args.dumped)


if __name__ == "__main__":
    main()
