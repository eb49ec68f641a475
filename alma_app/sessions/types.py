"""Sessions, handoffs and the context a new session starts with.

Names follow the original alma-memory package (`SessionHandoff.last_action`, `.blockers`,
`.next_steps`, `confidence_level`, `current_goal`) so its users' code keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alma_app.memory.prompt import sanitize
from alma_app.values import dumps, loads, new_id, parse_time, utcnow

if TYPE_CHECKING:
    from alma_app.board.types import ProgressSummary
    from alma_app.memory.types import AntiPattern, Heuristic, MemorySlice, Outcome

LAST_OUTCOMES = ("success", "failure", "partial", "interrupted", "unknown")
SESSION_STATUSES = ("active", "ended")


@dataclass(kw_only=True)
class SessionRecord:
    """One work session of an agent; decisions, blockers and files accumulate while it runs."""

    id: str = field(default_factory=new_id)
    project_id: str = ""
    agent: str = ""
    goal: str = ""
    status: str = "active"
    started_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    ended_at: datetime | None = None
    decisions: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    active_files: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        payload = {
            "decisions": self.decisions,
            "blockers": self.blockers,
            "active_files": self.active_files,
            "metadata": self.metadata,
        }
        return {
            "id": self.id,
            "project_id": self.project_id,
            "agent": self.agent,
            "goal": self.goal,
            "status": self.status,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "ended_at": self.ended_at,
            "payload": dumps(payload),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SessionRecord:
        payload = loads(row.get("payload"))
        return cls(
            id=row["id"],
            project_id=row["project_id"],
            agent=row["agent"],
            goal=row["goal"],
            status=row["status"],
            started_at=parse_time(row["started_at"]) or utcnow(),
            updated_at=parse_time(row["updated_at"]) or utcnow(),
            ended_at=parse_time(row.get("ended_at")),
            decisions=list(payload.get("decisions") or []),
            blockers=list(payload.get("blockers") or []),
            active_files=list(payload.get("active_files") or []),
            metadata=dict(payload.get("metadata") or {}),
        )


@dataclass(kw_only=True)
class SessionHandoff:
    """What a session leaves for the next one: where it stopped and what to do next."""

    id: str = field(default_factory=new_id)
    project_id: str = ""
    agent: str = ""
    session_id: str = ""
    goal: str = ""
    last_action: str = ""
    last_outcome: str = "unknown"
    key_decisions: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    active_files: list[str] = field(default_factory=list)
    test_status: dict[str, int] = field(default_factory=dict)  # passed / failed / skipped
    confidence: float = 0.5  # how sure the agent is that the work is on track, 0-1
    risk_flags: list[str] = field(default_factory=list)
    session_start: datetime | None = None
    session_end: datetime = field(default_factory=utcnow)
    created_at: datetime = field(default_factory=utcnow)
    metadata: dict[str, Any] = field(default_factory=dict)
    score: float | None = field(default=None, compare=False)  # set by search_handoffs

    @property
    def current_goal(self) -> str:  # the original's name
        return self.goal

    @property
    def confidence_level(self) -> float:  # the original's name
        return self.confidence

    @property
    def duration_ms(self) -> int | None:
        if self.session_start is None:
            return None
        return int((self.session_end - self.session_start).total_seconds() * 1000)

    def text(self) -> str:
        """The rendering that is embedded and full-text indexed for search_handoffs."""
        parts = [
            f"goal: {self.goal}",
            f"last action: {self.last_action} ({self.last_outcome})",
            *(f"decision: {d}" for d in self.key_decisions),
            *(f"blocker: {b}" for b in self.blockers),
            *(f"next: {n}" for n in self.next_steps),
            *(f"risk: {r}" for r in self.risk_flags),
        ]
        return "\n".join(parts)

    def tests_line(self) -> str:
        return ", ".join(f"{n} {k}" for k, n in self.test_status.items()) or "not recorded"

    def to_row(self, vector: Any) -> dict[str, Any]:
        payload = {
            name: getattr(self, name)
            for name in (
                "goal",
                "last_action",
                "key_decisions",
                "blockers",
                "next_steps",
                "active_files",
                "test_status",
                "confidence",
                "risk_flags",
                "session_start",
                "session_end",
                "metadata",
            )
        }
        return {
            "id": self.id,
            "project_id": self.project_id,
            "agent": self.agent,
            "session_id": self.session_id,
            "created_at": self.created_at,
            "last_outcome": self.last_outcome,
            "text": self.text(),
            "payload": dumps(payload),
            "vector": vector,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SessionHandoff:
        p = loads(row.get("payload"))
        return cls(
            id=row["id"],
            project_id=row["project_id"],
            agent=row["agent"],
            session_id=row["session_id"],
            goal=p.get("goal") or "",
            last_action=p.get("last_action") or "",
            last_outcome=row.get("last_outcome") or "unknown",
            key_decisions=list(p.get("key_decisions") or []),
            blockers=list(p.get("blockers") or []),
            next_steps=list(p.get("next_steps") or []),
            active_files=list(p.get("active_files") or []),
            test_status={k: int(v) for k, v in (p.get("test_status") or {}).items()},
            confidence=float(p.get("confidence", 0.5)),
            risk_flags=list(p.get("risk_flags") or []),
            session_start=parse_time(p.get("session_start")),
            session_end=parse_time(p.get("session_end")) or utcnow(),
            created_at=parse_time(row["created_at"]) or utcnow(),
            metadata=dict(p.get("metadata") or {}),
        )

    def as_dict(self) -> dict[str, Any]:
        return loads(dumps({k: v for k, v in vars(self).items() if k != "score"}))


@dataclass
class SessionContext:
    """What start_session() hands an agent: where it left off and what it knows."""

    session_id: str
    agent: str
    goal: str
    project_id: str
    started_at: datetime
    previous_handoff: SessionHandoff | None
    progress: ProgressSummary
    recent_outcomes: list[Outcome]
    relevant_heuristics: list[Heuristic]
    anti_patterns: list[AntiPattern]
    memories: MemorySlice

    def to_prompt(self, max_tokens: int = 1500) -> str:
        """Markdown orientation: the previous handoff, progress, then the memories."""
        lines = [f"## Session goal: {sanitize(self.goal)}"]
        handoff = self.previous_handoff
        if handoff is not None:
            lines.append(render_handoff(handoff))
        lines.append(
            "### Progress\n"
            + "\n".join(
                f"- {sanitize(line.strip())}"
                for line in self.progress.format_summary().splitlines()
            )
        )
        memory = self.memories.to_prompt(max_tokens=max_tokens)
        if memory:
            lines.append(memory)
        return "\n\n".join(lines)


def render_handoff(h: SessionHandoff) -> str:
    """The previous session as a few Markdown bullets (every value sanitised to one line)."""
    lines = [
        f"### Last session ({h.session_end:%Y-%m-%d %H:%M} UTC)",
        f"- Goal: {sanitize(h.goal)}",
        f"- Last action: {sanitize(h.last_action)} — {h.last_outcome}",
        f"- Confidence: {h.confidence:.0%}; tests: {h.tests_line()}",
    ]
    for label, values in (
        ("Next steps", h.next_steps),
        ("Blockers", h.blockers),
        ("Decisions", h.key_decisions),
        ("Risks", h.risk_flags),
        ("Files", h.active_files),
    ):
        if values:
            lines.append(f"- {label}: " + "; ".join(sanitize(v) for v in values))
    return "\n".join(lines)
