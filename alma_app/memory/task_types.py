"""Which of an agent's task types (its categories) a task's words name: learn() files an outcome
given no task type under it, and retrieval's focus falls back on it when the neighbouring
outcomes do not tell."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from alma_app.config import AgentScope

GENERAL = "general"  # task type when no category of the agent is similar enough
TASK_TYPE_MIN_SIMILARITY = 0.3  # task text vs category name (MiniLM scale)


def closest_category(
    task: str, scope: AgentScope | None, similarities: Callable[[str, list[str]], np.ndarray]
) -> str:
    """The scope's category (can_learn or cannot_learn) whose name is most similar to the task,
    or GENERAL when none is similar enough."""
    categories = list(dict.fromkeys((*scope.can_learn, *scope.cannot_learn))) if scope else []
    if not categories:
        return GENERAL
    sims = similarities(task, [c.replace("_", " ") for c in categories])
    best = int(np.argmax(sims))
    return categories[best] if sims[best] >= TASK_TYPE_MIN_SIMILARITY else GENERAL
