"""Which of an agent's task types a retrieval is about, so that advice learned for its other task
types neither crowds out nor contradicts the advice for this one.

Learning keeps one bucket per (agent, task type): a strategy can be a heuristic in one bucket and
an anti-pattern in another (fixed sleeps are fine for a batch job and a trap in a UI test).
Retrieval has only the task's words, so it reads the task type off the agent's outcomes among
the hits whose TASK is most similar to this one (a vote of the NEIGHBOURS nearest, weighted by
similarity; a type needs MIN_SHARE of the weight). The task alone, not the outcome's whole text:
that also holds a strategy and an error, which pull in the same strategy's outcomes of other task
types. When the type is known, the agent's heuristics and anti-patterns of that type are searched
for directly, and its own ones of other types are left out. General ones (learned outside any
category) and those shared by other agents are kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from alma_app.memory.learning import GENERAL
from alma_app.memory.types import Memory

NEIGHBOURS = 3
MIN_SHARE = 0.5
ADVICE_TYPES = ("heuristic", "anti_pattern")


def task_type_of(
    task: str, hits: Sequence[Memory], agent: str, vectors: Callable[[Sequence[str]], np.ndarray]
) -> str | None:
    """The task type most of the agent's outcomes among `hits` with the most similar tasks had,
    or None when they disagree or there are none. `vectors` embeds texts (cached)."""
    outcomes = [m for m in hits if m.TYPE == "outcome" and m.agent == agent]
    if not outcomes:
        return None
    texts = list(dict.fromkeys(o.task for o in outcomes))  # type: ignore[attr-defined]
    embedded = vectors([task, *texts])
    by_text = dict(zip(texts, embedded[1:] @ embedded[0], strict=True))
    sims = [float(by_text[o.task]) for o in outcomes]  # type: ignore[attr-defined]
    votes: Counter[str] = Counter()
    for i in np.argsort(sims)[::-1][:NEIGHBOURS]:
        votes[outcomes[i].task_type] += max(sims[i], 0.0)  # type: ignore[attr-defined]
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
