"""Confidence decay and the forgetting policy: computed when read, pure functions, no I/O.

Effective confidence = stored confidence x 0.5 ** (days since the decay clock / half-life), where
the clock is the memory type's last validated / verified / seen / timestamp field and the
half-lives are settings (defaults: heuristic 90 days, outcome 30, preference 365, domain knowledge
180, anti-pattern 120). Nothing is ever written back by decay, so applying it twice equals
applying it once; validating a memory resets its clock.

Forgetting policy (`forget_reason`): a memory is forgotten when its effective confidence is below
`min_confidence`, or when it has not been validated for `older_than_days` AND is low-value
(`low_value_reason`):
- rejected memories (a reviewer refused them; they are never retrieved);
- outcomes (the raw record of one task; its lesson lives on in heuristics and anti-patterns);
- heuristics that succeeded in fewer than half of their uses, or whose effective confidence is
  below LOW_VALUE_CONFIDENCE;
- anti-patterns whose effective confidence is below LOW_VALUE_CONFIDENCE.
Preferences and domain knowledge are never low-value by age alone (people stated them); only the
confidence rule removes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

LOW_VALUE_CONFIDENCE = 0.5

LN2 = math.log(2.0)


def decay_factor(age_days: float, half_life_days: float) -> float:
    """exp(-ln2 * age / half_life): 1.0 now, 0.5 after one half-life."""
    if age_days <= 0:
        return 1.0
    return math.exp(-LN2 * age_days / half_life_days)


def effective_confidence(
    stored: float, clock: datetime, now: datetime, half_life_days: float
) -> float:
    age_days = (now - clock).total_seconds() / 86400.0
    return stored * decay_factor(age_days, half_life_days)


def days_until_below(stored: float, threshold: float, half_life_days: float) -> float | None:
    """Days after the clock at which confidence crosses the threshold (0 if already below)."""
    if threshold <= 0:
        return None
    if stored <= threshold:
        return 0.0
    return half_life_days * math.log(stored / threshold) / LN2


@dataclass(frozen=True)
class ConfidenceCurve:
    """Effective confidence sampled over time, and when it crosses the forget threshold."""

    times: list[datetime]
    values: list[float]
    threshold: float
    crosses_at: datetime | None


def confidence_curve(
    stored: float,
    clock: datetime,
    half_life_days: float,
    threshold: float,
    start: datetime,
    end: datetime,
    points: int = 60,
) -> ConfidenceCurve:
    points = max(2, points)
    step = (end - start) / (points - 1)
    times = [start + step * i for i in range(points)]
    values = [effective_confidence(stored, clock, t, half_life_days) for t in times]
    crosses = crosses_at(stored, clock, half_life_days, threshold)
    return ConfidenceCurve(times=times, values=values, threshold=threshold, crosses_at=crosses)


def crosses_at(
    stored: float, clock: datetime, half_life_days: float, threshold: float
) -> datetime | None:
    """When the effective confidence falls below the threshold (the clock if it starts below)."""
    days = days_until_below(stored, threshold, half_life_days)
    return None if days is None else clock + timedelta(days=days)


def low_value_reason(memory: Any, effective: float) -> str | None:
    """Why a memory is not worth keeping once stale, or None (see the module docstring)."""
    if memory.status == "rejected":
        return "rejected in review"
    if memory.TYPE == "outcome":
        return "a raw outcome"
    if memory.TYPE == "heuristic" and memory.occurrence_count and memory.success_rate < 0.5:
        return f"succeeded in only {memory.success_count} of {memory.occurrence_count} uses"
    if memory.TYPE in ("heuristic", "anti_pattern") and effective < LOW_VALUE_CONFIDENCE:
        return f"effective confidence below {LOW_VALUE_CONFIDENCE}"
    return None


def forget_reason(
    memory: Any, effective: float, now: datetime, older_than_days: float, min_confidence: float
) -> str | None:
    """Why `forget` removes this memory, or None to keep it."""
    if effective < min_confidence:
        return f"effective confidence below {min_confidence}"
    age_days = (now - memory.clock).total_seconds() / 86400.0
    if age_days >= older_than_days:
        why = low_value_reason(memory, effective)
        if why is not None:
            return f"not validated for {older_than_days} days and low-value: {why}"
    return None
