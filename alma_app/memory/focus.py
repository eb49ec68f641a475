"""Which of an agent's task types a retrieval is about, so that advice learned for its other task
types neither crowds out nor contradicts the advice for this one.

Learning keeps one bucket per (agent, task type): a strategy can be a heuristic in one bucket and
an anti-pattern in another (fixed sleeps are fine for a batch job and a trap in a UI test).
Retrieval has only the task's words, so it reads the task type off the agent's outcomes among
the hits whose TASK is most similar to this one (a vote of the NEIGHBOURS nearest, weighted by
similarity; a type needs MIN_SHARE of the weight). The task alone, not the outcome's text: that
also holds a strategy and an error, which pull in the same strategy's outcomes of other task
types. Only a task at least SAME_TYPE_MIN_SIMILARITY to this one votes: a new type's first tasks
have only other types' tasks among their neighbours, at similarities where other types are as
likely as their own (benchmarks/learning_curve.py: 42 of 49 cross-family first heuristics came
from wrong votes, most by neighbours at 0.4-0.6). When the neighbours disagree or none is close,
the agent's category whose NAME is most like the task decides (the rule learn() uses when it is
given no task type), if one is similar enough: a family's first tasks otherwise got the other
families' advice. When the type is known, the agent's heuristics and anti-patterns of that type
are searched for directly, and its own ones of other types are left out. General ones (learned
outside any category) and those shared by other agents are kept.

Reading the type costs a lookup of the neighbours' stored task vectors and the advice a second
search (a millisecond or two), so `focus` first asks whether the type could change anything:
when none of the agent's own advice is among the hits and no advice the agent may see has any of
the candidate types, it cannot, and the hits are returned as they are (one cheap existence query
instead of the vote and the second search).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

import alma_store as st
from alma_app.errors import store_errors
from alma_app.memory.task_types import GENERAL, closest_category
from alma_app.memory.types import Memory

if TYPE_CHECKING:
    from alma_app.memory.search import HybridSearch

NEIGHBOURS = 3
MIN_SHARE = 0.5
SAME_TYPE_MIN_SIMILARITY = 0.65  # a neighbour's task this close may share the type (MiniLM scale)
ADVICE_TYPES = ("heuristic", "anti_pattern")
ADVICE_SCAN = 2000  # advice rows read to learn their task types before voting
# Candidates of each search for the type's advice, per advice returned: the search is narrowed to
# one agent's view, two memory types and one category, so the best few of each list hold the
# best few overall (the retrieval setting's 100 cost ~1.5 ms of scoring per search at 100k).
ADVICE_CANDIDATES_PER_HIT = 3


def task_type_of(
    task: str, hits: Sequence[Memory], agent: str, vectors: Callable[[Sequence[str]], np.ndarray]
) -> str | None:
    """The task type most of the agent's outcomes among `hits` with the most similar tasks had,
    or None when they disagree or none is at least SAME_TYPE_MIN_SIMILARITY to the task (then
    the nearest tasks are other types' as often as not: the first tasks of a new type have only
    other types' neighbours). `vectors` embeds texts (cached)."""
    outcomes = [m for m in hits if m.TYPE == "outcome" and m.agent == agent]
    if not outcomes:
        return None
    texts = list(dict.fromkeys(o.task for o in outcomes))  # type: ignore[attr-defined]
    embedded = vectors([task, *texts])
    by_text = dict(zip(texts, embedded[1:] @ embedded[0], strict=True))
    sims = [float(by_text[o.task]) for o in outcomes]  # type: ignore[attr-defined]
    votes: Counter[str] = Counter()
    for i in np.argsort(sims)[::-1][:NEIGHBOURS]:
        if sims[i] < SAME_TYPE_MIN_SIMILARITY:
            break
        votes[outcomes[i].task_type] += max(sims[i], 0.0)  # type: ignore[attr-defined]
    if not votes:
        return None
    kind, weight = votes.most_common(1)[0]
    total = sum(votes.values())
    return kind if total > 0 and weight >= MIN_SHARE * total and kind != GENERAL else None


def keeps(memory: Memory, agent: str, kind: str | None) -> bool:
    """False only for the agent's own heuristic or anti-pattern of another known task type."""
    if kind is None or memory.TYPE not in ADVICE_TYPES or memory.agent != agent:
        return True
    return memory.task_type in (kind, GENERAL)  # type: ignore[attr-defined]


def focused(
    hits: Sequence[Memory], advice: Sequence[Memory], agent: str, kind: str | None
) -> list[Memory]:
    """`hits` with the directly searched `advice` of the task type merged in, best first, and
    the agent's advice of its other task types left out."""
    merged = {m.id: m for m in hits}
    merged.update({m.id: m for m in advice})
    kept = [m for m in merged.values() if keeps(m, agent, kind)]
    kept.sort(key=lambda m: m.score.total if m.score else 0.0, reverse=True)
    return kept


def focus(
    task: str,
    hits: list[Memory],
    agent: str,
    where: st.Filter,
    top_k: int,
    searcher: HybridSearch,
    vectors: Callable[[Sequence[str]], np.ndarray],
) -> list[Memory]:
    """`hits` (retrieve's, best first) kept to the task's type, with that type's advice searched
    for directly (at most 2 * top_k), or `hits` unchanged when the type is unknown or could
    change nothing. `where` is what the agent may see."""
    kinds = {
        m.task_type  # type: ignore[attr-defined]
        for m in hits
        if m.TYPE == "outcome" and m.agent == agent
    } - {GENERAL}
    own_advice = any(
        m.TYPE in ADVICE_TYPES and m.agent == agent and m.task_type != GENERAL  # type: ignore[attr-defined]
        for m in hits
    )
    if not kinds:
        return hits
    advice_kinds = None if own_advice else _advice_of(task, where, searcher)
    if advice_kinds is not None and not advice_kinds & kinds:
        return hits  # no candidate type has advice here: every answer gives these hits
    kind = task_type_of(task, hits, agent, vectors)
    if kind is None:
        named = closest_category(task, searcher.repo.settings.agent(agent), similar(vectors))
        kind = None if named == GENERAL else named
    if kind is None:
        return hits
    only = st.And((where, st.In("type", ADVICE_TYPES), st.Eq("category", kind)))
    wanted = 2 * top_k
    advice = searcher.search(
        task, only, limit=wanted, candidates=ADVICE_CANDIDATES_PER_HIT * wanted
    )
    return focused(hits, advice, agent, kind)


def similar(
    vectors: Callable[[Sequence[str]], np.ndarray],
) -> Callable[[str, list[str]], np.ndarray]:
    """Cosine similarities of a text to others, from cached embeddings."""

    def similarities(text: str, others: list[str]) -> np.ndarray:
        embedded = vectors([text, *others])
        return embedded[1:] @ embedded[0]

    return similarities


def _advice_of(task: str, where: st.Filter, searcher: HybridSearch) -> set[str] | None:
    """The task types of the advice the agent may see, or None when it may see more than
    ADVICE_SCAN pieces (then the vote is not skipped). One search with the same filter every time
    for an agent, so the store answers it from cached masks."""
    only = st.And((where, st.In("type", ADVICE_TYPES)))
    repo = searcher.repo
    vector = repo.embedder.embed([task])[0]  # the search's own, from the embedder's cache
    with store_errors():
        rows = repo.store.vector_search(
            "memories", vector, where=only, limit=ADVICE_SCAN, columns=["category"]
        )
    return None if len(rows) >= ADVICE_SCAN else {r["category"] for r in rows}
