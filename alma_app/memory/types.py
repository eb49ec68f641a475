"""The five memory types, the retrieval result, and their common fields.

Names follow the original alma-memory package so that its users' code keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from alma_app.memory.prompt import render_prompt
from alma_app.values import new_id as new_id
from alma_app.values import set_clock as set_clock
from alma_app.values import utcnow

MEMORY_TYPES = ("heuristic", "outcome", "preference", "domain_knowledge", "anti_pattern")
STATUSES = ("pending", "approved", "rejected")
# What an add_* call did with the caller's words (Memory.write_result; see alma_app.memory.writes).
WRITE_RESULTS = ("created", "reinforced", "superseded", "contradiction_flagged")


@dataclass(frozen=True)
class ScoreBreakdown:
    """Why a memory ranked where it did: each component in [0, 1] and the weighted total."""

    similarity: float  # cosine similarity of the query and memory embeddings
    lexical: float  # BM25 score normalised by the best lexical hit of the query
    relevance: float  # similarity fused with lexical strength (alma_app.memory.scoring), in [0, 1]
    recency: float
    success: float
    confidence: float  # effective (decayed) confidence
    total: float
    # Multiplies the weighted sum: retrieval.SUPERSEDED_FACTOR for a memory a newer one
    # superseded (alma_app.memory.writes), else 1. Not among the components of as_dict().
    penalty: float = 1.0

    def as_dict(self) -> dict[str, float]:
        return {
            "total": self.total,
            "relevance": self.relevance,
            "similarity": self.similarity,
            "lexical": self.lexical,
            "recency": self.recency,
            "success": self.success,
            "confidence": self.confidence,
        }


@dataclass(kw_only=True)
class Memory:
    """Fields every memory has. Subclasses add their own and say how they are searched."""

    TYPE: ClassVar[str] = ""
    CATEGORY_FIELD: ClassVar[str] = ""  # which field fills the `category` column
    CLOCK_FIELD: ClassVar[str] = "created_at"  # which timestamp starts the decay clock

    id: str = field(default_factory=new_id)
    agent: str | None = None
    project_id: str = ""
    status: str = "approved"
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    shared_with: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    # The stored row's version when read (+1 per update): a write carries it so that a change
    # made meanwhile by another caller is detected, never overwritten (see memories.py).
    version: int = field(default=0, compare=False)
    # Filled when read: the confidence after decay, and the score when retrieved.
    effective_confidence: float | None = field(default=None, compare=False)
    score: ScoreBreakdown | None = field(default=None, compare=False)

    @property
    def type(self) -> str:
        return self.TYPE

    @property
    def write_result(self) -> str | None:
        """What the add_* call that returned this object did, one of WRITE_RESULTS; else None.

        "created": stored as new; "reinforced": a restatement, this is the existing memory;
        "superseded": stored, and it supersedes a near-identical older one (a changed value);
        "contradiction_flagged": stored, and flagged with the one it may contradict. Held on
        the object only (not a field): never stored, exported or compared.
        """
        return self.__dict__.get("_write_result")

    @write_result.setter
    def write_result(self, value: str) -> None:
        if value not in WRITE_RESULTS:
            raise ValueError(f"write_result must be one of {WRITE_RESULTS}, got {value!r}")
        self.__dict__["_write_result"] = value

    @property
    def stored_confidence(self) -> float:
        return float(getattr(self, "confidence", 1.0))

    @property
    def category(self) -> str:
        return str(getattr(self, self.CATEGORY_FIELD, "") or "") if self.CATEGORY_FIELD else ""

    @property
    def clock(self) -> datetime:
        value = getattr(self, self.CLOCK_FIELD)
        return value if isinstance(value, datetime) else self.created_at

    def text(self) -> str:
        """The rendering that is embedded and full-text indexed."""
        raise NotImplementedError

    def summary(self) -> str:
        """One line for prompts and tables."""
        return self.text()


@dataclass(kw_only=True)
class Heuristic(Memory):
    """A strategy that worked: 'when <condition>, do <strategy>'."""

    TYPE: ClassVar[str] = "heuristic"
    CATEGORY_FIELD: ClassVar[str] = "task_type"
    CLOCK_FIELD: ClassVar[str] = "last_validated"

    condition: str = ""
    strategy: str = ""
    task_type: str = "general"
    confidence: float = 0.5
    occurrence_count: int = 0
    success_count: int = 0
    last_validated: datetime = field(default_factory=utcnow)
    source_outcome_ids: list[str] = field(default_factory=list)

    @property
    def success_rate(self) -> float:
        return self.success_count / self.occurrence_count if self.occurrence_count else 0.0

    def text(self) -> str:
        return f"When {self.condition}: {self.strategy}"


@dataclass(kw_only=True)
class Outcome(Memory):
    """The result of one task."""

    TYPE: ClassVar[str] = "outcome"
    CATEGORY_FIELD: ClassVar[str] = "task_type"
    CLOCK_FIELD: ClassVar[str] = "timestamp"

    task: str = ""
    task_type: str = "general"
    success: bool = True
    strategy_used: str = ""
    duration_ms: int | None = None
    error_message: str | None = None
    feedback: str | None = None
    timestamp: datetime = field(default_factory=utcnow)
    session_id: str | None = None
    confidence: float = 1.0

    @property
    def task_description(self) -> str:  # the original's name
        return self.task

    @property
    def user_feedback(self) -> str | None:  # the original's name
        return self.feedback

    def text(self) -> str:
        parts = [self.task, f"strategy: {self.strategy_used}"]
        if self.error_message:
            parts.append(f"error: {self.error_message}")
        if self.feedback:
            parts.append(f"feedback: {self.feedback}")
        return " | ".join(p for p in parts if p)

    def summary(self) -> str:
        verdict = "succeeded" if self.success else "failed"
        line = f"{self.task} — {verdict} using: {self.strategy_used}"
        if self.error_message:
            line += f" (error: {self.error_message})"
        return line


@dataclass(kw_only=True)
class UserPreference(Memory):
    """A constraint or taste of a user, shared by every agent that works for them."""

    TYPE: ClassVar[str] = "preference"
    CATEGORY_FIELD: ClassVar[str] = "category"
    CLOCK_FIELD: ClassVar[str] = "timestamp"

    user_id: str = ""
    category: str = "general"  # type: ignore[assignment]
    preference: str = ""
    source: str = "explicit_instruction"
    confidence: float = 1.0
    timestamp: datetime = field(default_factory=utcnow)

    def text(self) -> str:
        return f"{self.category}: {self.preference}"

    def summary(self) -> str:
        return self.preference


@dataclass(kw_only=True)
class DomainKnowledge(Memory):
    """A fact about the domain an agent works in."""

    TYPE: ClassVar[str] = "domain_knowledge"
    CATEGORY_FIELD: ClassVar[str] = "domain"
    CLOCK_FIELD: ClassVar[str] = "last_verified"

    domain: str = "general"
    fact: str = ""
    source: str = "user"
    confidence: float = 1.0
    last_verified: datetime = field(default_factory=utcnow)

    def text(self) -> str:
        return f"{self.domain}: {self.fact}"

    def summary(self) -> str:
        return self.fact


@dataclass(kw_only=True)
class AntiPattern(Memory):
    """Something that failed repeatedly, why, and what to do instead."""

    TYPE: ClassVar[str] = "anti_pattern"
    CATEGORY_FIELD: ClassVar[str] = "task_type"
    CLOCK_FIELD: ClassVar[str] = "last_seen"

    pattern: str = ""
    why_bad: str = ""
    better_alternative: str = ""
    task_type: str = "general"
    confidence: float = 0.5
    occurrence_count: int = 0
    last_seen: datetime = field(default_factory=utcnow)
    source_outcome_ids: list[str] = field(default_factory=list)

    def text(self) -> str:
        parts = [f"Avoid: {self.pattern}", f"why: {self.why_bad}"]
        if self.better_alternative:
            parts.append(f"instead: {self.better_alternative}")
        return " | ".join(parts)


MEMORY_CLASSES: dict[str, type[Memory]] = {
    cls.TYPE: cls for cls in (Heuristic, Outcome, UserPreference, DomainKnowledge, AntiPattern)
}


@dataclass
class MemorySlice:
    """What retrieve() returns: the memories relevant to one task, grouped by type."""

    query: str
    agent: str
    heuristics: list[Heuristic] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    preferences: list[UserPreference] = field(default_factory=list)
    domain_knowledge: list[DomainKnowledge] = field(default_factory=list)
    anti_patterns: list[AntiPattern] = field(default_factory=list)
    user_id: str | None = None
    retrieval_time_ms: float = 0.0

    @property
    def total_items(self) -> int:
        return len(self.all())

    def all(self) -> list[Memory]:
        return [
            *self.heuristics,
            *self.anti_patterns,
            *self.preferences,
            *self.domain_knowledge,
            *self.outcomes,
        ]

    def to_prompt(self, max_tokens: int = 2000) -> str:
        """Clean Markdown sections that fit the token budget without cutting an item in half."""
        return render_prompt(self, max_tokens=max_tokens)


@dataclass
class MemoryPage:
    """One page of a filtered listing, and how many memories match in all."""

    items: list[Memory]
    total: int
    offset: int
    limit: int
