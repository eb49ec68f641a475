"""Evidence recall on LoCoMo's long conversations, through the public API as a new user would.

LoCoMo (snap-research/LoCoMo, `data/locomo10.json`, licence CC BY-NC 4.0) is not shipped with
ALMA: download it and pass its path. Each conversation goes into a fresh store under one agent,
every turn stored as `"Speaker (session date): text"` (plus `[image: caption]` when the turn
shares a photo): once call by call through `add_domain_knowledge` and once as one bulk
`add_memories` import (timed only: both hold the same memories). Every question of categories 1-4
is asked through `retrieve(top_k=5)` and `retrieve(top_k=10)`, and through
`ALMA.search(mode=..., limit=10)` for the vector-only and BM25-only rankings (hybrid is what
retrieve ranks). A returned memory is mapped back to its turn's `dia_id` by its text.

recall@k: share of a question's gold evidence turns among the k returned, averaged over
questions; hit@k: share of questions with at least one gold turn among the k.

Run: `.venv/bin/python benchmarks/locomo.py PATH [--conversations N] [--mode all]`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alma_app import ALMA, MiniLMEmbedder  # noqa: E402
from alma_app.types import DomainKnowledge  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
SEARCH_MODES = ("vector", "lexical")
DOMAIN = "conversation"


@dataclass
class Question:
    text: str
    category: int
    evidence: frozenset[str]


@dataclass
class Conversation:
    sample_id: str
    turns: list[tuple[str, str]] = field(default_factory=list)  # (dia_id, stored text)
    questions: list[Question] = field(default_factory=list)


def turn_text(speaker: str, date: str, text: str, caption: str | None) -> str:
    """How a user would store a turn: who said it, when, what, and what the photo showed."""
    out = f"{speaker} ({date}): {text}"
    return f"{out} [image: {caption}]" if caption else out


def load(path: Path, limit: int | None) -> list[Conversation]:
    """The conversations of a LoCoMo file, turns in order, questions of categories 1-4."""
    out: list[Conversation] = []
    for sample in json.loads(path.read_text())[:limit]:
        conv = Conversation(sample_id=str(sample.get("sample_id", f"conv-{len(out)}")))
        talk = sample["conversation"]
        sessions = sorted(
            int(k.split("_")[1]) for k in talk if k.startswith("session_") and k[8:].isdigit()
        )
        for n in sessions:
            date = str(talk.get(f"session_{n}_date_time", ""))
            for turn in talk[f"session_{n}"]:
                text = turn_text(turn["speaker"], date, turn["text"], turn.get("blip_caption"))
                conv.turns.append((turn["dia_id"], text))
        for qa in sample["qa"]:
            # A few evidence lists hold "D8:6; D9:17" in one string.
            gold = frozenset(
                e for item in qa.get("evidence", []) for e in item.replace(";", " ").split()
            )
            if qa.get("category") in CATEGORIES and gold:
                conv.questions.append(Question(qa["question"], int(qa["category"]), gold))
        out.append(conv)
    return out


def scores(found: list[str], gold: frozenset[str], k: int) -> tuple[float, float]:
    top = set(found[:k])
    return len(top & gold) / len(gold), float(bool(top & gold))


class Tally:
    """recall@5/@10 and hit@5/@10 per category and overall, for one system."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)

    def add(self, category: int, found5: list[str], found10: list[str], gold: frozenset) -> None:
        r5, h5 = scores(found5, gold, 5)
        r10, h10 = scores(found10, gold, 10)
        for key in (CATEGORIES[category], "all"):
            self.rows[key].append((r5, h5, r10, h10))

    def table(self) -> dict[str, dict[str, float]]:
        names = ("recall@5", "hit@5", "recall@10", "hit@10")
        order = [*CATEGORIES.values(), "all"]
        return {
            key: {
                "questions": len(self.rows[key]),
                **{
                    n: round(statistics.fmean(r[i] for r in self.rows[key]), 3)
                    for i, n in enumerate(names)
                },
            }
            for key in order
            if self.rows[key]
        }


def rate(turns: int, seconds: float) -> float | None:
    return round(turns / seconds, 1) if seconds else None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run(convs: list[Conversation], modes: tuple[str, ...], ingest_mode: str = "both") -> dict:
    embedder = MiniLMEmbedder()
    embedder.model()
    tallies = {"retrieve": Tally()}
    tallies.update({f"search {m}": Tally() for m in modes})
    latencies: list[float] = []
    ingest = {"call_s": 0.0, "bulk_s": 0.0, "turns": 0, "reinforced": 0}
    with tempfile.TemporaryDirectory(prefix="alma-locomo-") as tmp:
        for conv in convs:
            agent = conv.sample_id
            dia_of = {text: dia for dia, text in conv.turns}
            one = None
            if ingest_mode in ("both", "calls"):
                one = ALMA(project_id="locomo", storage_dir=f"{tmp}/{agent}-c", embedder=embedder)
                started = time.perf_counter()
                for _dia, text in conv.turns:
                    stored = one.add_domain_knowledge(agent, DOMAIN, text)
                    ingest["reinforced"] += stored.fact != text
                ingest["call_s"] += time.perf_counter() - started
            ingest["turns"] += len(conv.turns)
            if ingest_mode in ("both", "bulk"):
                bulk = ALMA(project_id="locomo", storage_dir=f"{tmp}/{agent}-b", embedder=embedder)
                started = time.perf_counter()
                # One timestamp each, in turn order, as a caller building them in a loop would.
                memories = [
                    DomainKnowledge(agent=agent, domain=DOMAIN, fact=t) for _, t in conv.turns
                ]
                bulk.add_memories(memories)
                ingest["bulk_s"] += time.perf_counter() - started
                if one is None:
                    one = bulk
                else:
                    bulk.close()
            assert one is not None

            for q in conv.questions:
                started = time.perf_counter()
                five = one.retrieve(q.text, agent, top_k=5).domain_knowledge
                latencies.append((time.perf_counter() - started) * 1000)
                ten = one.retrieve(q.text, agent, top_k=10).domain_knowledge
                tallies["retrieve"].add(
                    q.category,
                    [dia_of[m.fact] for m in five],
                    [dia_of[m.fact] for m in ten],
                    q.evidence,
                )
                for mode in modes:
                    hits = one.search(q.text, agent=agent, mode=mode, limit=10)  # type: ignore[arg-type]
                    got = [dia_of[m.fact] for m in hits]
                    tallies[f"search {mode}"].add(q.category, got, got, q.evidence)
            one.close()
            so_far = tallies["retrieve"].table()["all"]
            print(
                f"  {agent}: {len(conv.turns)} turns, {len(conv.questions)} questions; so far "
                f"recall@5 {so_far['recall@5']}, hit@5 {so_far['hit@5']}, "
                f"retrieve p50 {percentile(latencies, 0.5):.1f} ms",
                flush=True,
            )
    return {
        "conversations": [c.sample_id for c in convs],
        "turns": ingest["turns"],
        "questions": sum(len(c.questions) for c in convs),
        "ingest": ingest_mode,
        "ingest_turns_per_s": {
            "add_domain_knowledge": rate(ingest["turns"], ingest["call_s"]),
            "add_memories": rate(ingest["turns"], ingest["bulk_s"]),
        },
        "reinforced_turns": ingest["reinforced"],
        "retrieve_ms": {
            "p50": round(percentile(latencies, 0.5), 1),
            "p95": round(percentile(latencies, 0.95), 1),
        },
        "systems": {name: tally.table() for name, tally in tallies.items()},
    }


def report(result: dict) -> None:
    print(
        f"\n{len(result['conversations'])} conversations, {result['turns']} turns, "
        f"{result['questions']} questions (categories 1-4)"
    )
    rates = result["ingest_turns_per_s"]
    print(
        f"ingest ({result['ingest']}): {rates['add_domain_knowledge']} turns/s call by call, "
        f"{rates['add_memories']} turns/s bulk; {result['reinforced_turns']} turns merged into "
        "a near-duplicate"
    )
    ms = result["retrieve_ms"]
    print(f"retrieve(top_k=5): p50 {ms['p50']} ms, p95 {ms['p95']} ms\n")
    print(f"{'system':24} | {'questions':15} | {'n':>4} | recall@5 | hit@5 | recall@10 | hit@10")
    for system, table in result["systems"].items():
        for key, m in table.items():
            tens = f"{m['recall@10']:>9} | {m['hit@10']:>6}"
            fives = f"{m['recall@5']:>8} | {m['hit@5']:>5}"
            print(f"{system:24} | {key:15} | {m['questions']:>4} | {fives} | {tens}")
        print()
    print("search modes: ALMA.search(mode=..., limit=10)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="LoCoMo JSON (e.g. locomo10.json)")
    parser.add_argument("--conversations", type=int, default=None, help="only the first N")
    parser.add_argument("--mode", choices=[*SEARCH_MODES, "all", "none"], default="all")
    parser.add_argument(
        "--ingest",
        choices=["both", "calls", "bulk"],
        default="both",
        help="how to store the turns; questions go to the call-by-call store unless only bulk",
    )
    args = parser.parse_args()
    modes = SEARCH_MODES if args.mode == "all" else () if args.mode == "none" else (args.mode,)
    convs = load(args.path, args.conversations)
    result = run(convs, modes, args.ingest)
    report(result)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "locomo.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS / 'locomo.json'}")


if __name__ == "__main__":
    main()
