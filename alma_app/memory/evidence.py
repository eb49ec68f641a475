"""How much a strategy's record says: rates weighed with their evidence, and change detection.

Used by alma_app.memory.learning to decide when outcomes become a heuristic or an anti-pattern,
and when an anti-pattern no longer holds. A count alone misleads (two failures of a strategy that
works 90% of the time; three lucky successes of one that works 15% of the time), so a lesson
needs a rate whose Wilson lower bound clears a bar, or a latest run of results that only a change
of the world explains; and it stands only while that is still so.

Two kinds of evidence need no bar of that kind, because acting on them early costs little and
the next outcome corrects them: a strategy that has worked more often than not so far
(`likely_works`) may be followed on probation, a heuristic whose first failure then retires it;
and a failure whose error names the strategy itself (`names_strategy`: "refused: 'X' is unsafe")
blames the strategy, not bad luck, so one such failure is enough to avoid it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

EVIDENCE_Z = 1.28  # one-sided 90% Wilson bounds
MIN_RATE_LOWER_BOUND = 0.5  # "works" / "fails" more often than not, with that confidence
CHANGE_ALPHA = 0.01  # a latest run less likely than this under the earlier rate means a change
MIN_CHANGE_RUN = 3  # and it is at least this long (two failures in a row happen to the best)


def laplace(successes: int, uses: int) -> float:
    return (successes + 1) / (uses + 2)


def likely_works(successes: int, uses: int) -> bool:
    """Whether a strategy works more often than not on the best estimate (Laplace's rule): one
    success of one use does, one success beside one failure does not. A heuristic forms on it,
    on probation, and stands only while it stays so."""
    return laplace(successes, uses) > 0.5


def names_strategy(error: str | None, strategy: str) -> bool:
    """Whether a failure's error message names the strategy used (case and spacing aside): a
    refusal of that very strategy rather than a symptom that any strategy may meet."""
    if not error:
        return False
    squash = lambda text: re.sub(r"\s+", " ", text).strip().casefold()  # noqa: E731
    wanted = squash(strategy)
    return len(wanted) >= 8 and wanted in squash(error)


def wilson_lower(hits: int, n: int, z: float = EVIDENCE_Z) -> float:
    """Lower bound of the Wilson score interval of a rate hits/n (0 when n is 0)."""
    if n <= 0:
        return 0.0
    p = hits / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z2 / n))


def changed_lately(results: Sequence[bool], value: bool) -> bool:
    """Whether the latest run of `value` results (oldest first), at least MIN_CHANGE_RUN long,
    is too unlikely at the rate of `value` seen before it (Laplace-smoothed) to be chance: the
    strategy has changed."""
    run = 0
    for result in reversed(results):
        if result is not value:
            break
        run += 1
    before = results[: len(results) - run]
    if run < MIN_CHANGE_RUN or not before:
        return False
    rate = laplace(sum(r is value for r in before), len(before))
    return rate**run < CHANGE_ALPHA


def supported(results: Sequence[bool], value: bool) -> bool:
    """Whether a strategy's results (True = success, oldest first) show that it succeeds
    (value True) or fails (value False): a rate that clears the bar with enough evidence, or a
    recent run that only a change explains."""
    hits = sum(r is value for r in results)
    return wilson_lower(hits, len(results)) >= MIN_RATE_LOWER_BOUND or changed_lately(
        results, value
    )


def still_fails(results: Sequence[bool]) -> bool:
    """Whether an anti-pattern on a strategy still stands after a success of that strategy
    (results oldest first, the success last): its history must still support "it fails", and its
    latest successes must not be a run that only a change explains. Two failures and then a
    success no longer say "fails more often than not"; ten failures and one success still do,
    until the successes come in a run the old failure rate makes unlikely."""
    return supported(results, False) and not changed_lately(results, True)
