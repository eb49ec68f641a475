"""Confidence decay: computed when read, from the stored confidence and the decay clock.

Nothing is ever written back by decay, so applying it twice equals applying it once; validating a
memory resets its clock. Pure functions, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

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
    days = days_until_below(stored, threshold, half_life_days)
    crosses = None if days is None else clock + timedelta(days=days)
    return ConfidenceCurve(times=times, values=values, threshold=threshold, crosses_at=crosses)
