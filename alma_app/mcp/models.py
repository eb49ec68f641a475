"""Structured results of the MCP tools (pydantic models, so each tool publishes an output schema).

Each model is built from a core object by one `of(...)` function; nothing here calls ALMA.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from alma_app.board.types import ProgressSummary, WorkItem
from alma_app.memory.forgetting import ForgetResult
from alma_app.memory.learning import LearnResult
from alma_app.memory.records import to_plain
from alma_app.memory.types import Memory
from alma_app.sessions.types import SessionContext, SessionHandoff, SessionRecord


class Score(BaseModel):
    """Why a memory ranked where it did; each component in [0, 1]."""

    total: float
    relevance: float
    similarity: float
    lexical: float
    recency: float
    success: float
    confidence: float


class MemoryOut(BaseModel):
    id: str
    type: str
    agent: str | None
    status: str
    summary: str = Field(description="one line, as shown in prompts")
    confidence: float = Field(description="stored confidence")
    effective_confidence: float | None = Field(description="confidence after decay")
    score: Score | None = Field(description="score breakdown (retrieval results only)")
    record: dict[str, Any] = Field(description="every field of the memory")
    write_result: str | None = Field(
        default=None,
        description="add calls only: created, reinforced (an existing memory restated), "
        "superseded (stored; supersedes a memory with another value) or contradiction_flagged",
    )


def memory_of(memory: Memory) -> MemoryOut:
    plain = to_plain(memory)
    score = plain.pop("score", None)
    return MemoryOut(
        id=memory.id,
        type=memory.TYPE,
        agent=memory.agent,
        status=memory.status,
        summary=memory.summary(),
        confidence=memory.stored_confidence,
        effective_confidence=memory.effective_confidence,
        score=None if score is None else Score(**score),
        record=plain,
        write_result=memory.write_result,
    )


class RetrieveOut(BaseModel):
    query: str
    agent: str
    user_id: str | None
    total_items: int
    retrieval_time_ms: float
    memories: list[MemoryOut] = Field(description="best first (by score total)")
    prompt: str = Field(description="Markdown for the agent's prompt (MemorySlice.to_prompt)")


class LearnOut(BaseModel):
    task_type: str
    outcome: MemoryOut
    heuristic: MemoryOut | None
    heuristic_action: str | None = Field(description="created, reinforced or weakened")
    anti_pattern: MemoryOut | None
    anti_pattern_action: str | None = Field(description="created or reinforced")


def learn_of(result: LearnResult) -> LearnOut:
    return LearnOut(
        task_type=result.task_type,
        outcome=memory_of(result.outcome),
        heuristic=None if result.heuristic is None else memory_of(result.heuristic),
        heuristic_action=result.heuristic_action,
        anti_pattern=None if result.anti_pattern is None else memory_of(result.anti_pattern),
        anti_pattern_action=result.anti_pattern_action,
    )


class ForgottenOut(BaseModel):
    memory: MemoryOut
    reason: str


class ForgetOut(BaseModel):
    dry_run: bool = Field(description="true: nothing was removed, these would be")
    count: int
    items: list[ForgottenOut]


def forget_of(result: ForgetResult) -> ForgetOut:
    items = [ForgottenOut(memory=memory_of(i.memory), reason=i.reason) for i in result.items]
    return ForgetOut(dry_run=result.dry_run, count=result.count, items=items)


class StatsOut(BaseModel):
    project_id: str
    total: int
    pending: int
    by_type: dict[str, int]
    by_agent: dict[str, int]
    by_status: dict[str, int]
    by_agent_and_type: dict[str, dict[str, int]]


class HealthOut(BaseModel):
    status: str = Field(description="ok when the store answered")
    project_id: str
    store: str
    embedding: str
    embedding_dim: int
    memories: int
    agents: list[str]
    server_version: str


class ReviewOut(BaseModel):
    action: str
    count: int
    memories: list[MemoryOut] = Field(description="pending ones, or those whose status changed")


class WorkItemOut(BaseModel):
    id: str
    title: str
    description: str
    item_type: str
    status: str
    priority: int
    agent: str | None
    parent_id: str | None
    blocked_by: list[str]
    blocks: list[str]
    acceptance_criteria: list[str]
    tests: list[str]
    tests_passing: bool | None
    estimate_hours: float | None
    time_spent_hours: float
    attempt_count: int
    started_at: str | None
    completed_at: str | None
    created_at: str
    updated_at: str


def item_of(item: WorkItem) -> WorkItemOut:
    return WorkItemOut.model_validate(item.as_dict())


class NextItemOut(BaseModel):
    strategy: str
    item: WorkItemOut | None = Field(description="null when nothing is actionable")


class ProgressOut(BaseModel):
    project_id: str
    agent: str | None
    total: int
    by_status: dict[str, int]
    completion_percentage: float
    success_rate: float | None
    current_item: WorkItemOut | None
    next_suggested: WorkItemOut | None
    blockers: list[WorkItemOut]
    time_spent_hours: float
    last_activity: str | None
    text: str = Field(description="the summary as a few human-readable lines")


def progress_of(s: ProgressSummary) -> ProgressOut:
    return ProgressOut(
        project_id=s.project_id,
        agent=s.agent,
        total=s.total,
        by_status=s.by_status,
        completion_percentage=s.completion_percentage,
        success_rate=s.success_rate,
        current_item=None if s.current_item is None else item_of(s.current_item),
        next_suggested=None if s.next_suggested is None else item_of(s.next_suggested),
        blockers=[item_of(i) for i in s.blockers],
        time_spent_hours=s.time_spent_hours,
        last_activity=None if s.last_activity is None else s.last_activity.isoformat(),
        text=s.format_summary(),
    )


class SessionOut(BaseModel):
    id: str
    agent: str
    goal: str
    status: str
    decisions: list[str]
    blockers: list[str]
    active_files: list[str]
    started_at: str
    updated_at: str
    ended_at: str | None


def session_of(s: SessionRecord) -> SessionOut:
    return SessionOut(
        id=s.id,
        agent=s.agent,
        goal=s.goal,
        status=s.status,
        decisions=list(s.decisions),
        blockers=list(s.blockers),
        active_files=list(s.active_files),
        started_at=s.started_at.isoformat(),
        updated_at=s.updated_at.isoformat(),
        ended_at=None if s.ended_at is None else s.ended_at.isoformat(),
    )


class HandoffOut(BaseModel):
    id: str
    agent: str
    session_id: str
    goal: str
    last_action: str
    last_outcome: str
    key_decisions: list[str]
    blockers: list[str]
    next_steps: list[str]
    active_files: list[str]
    test_status: dict[str, int]
    confidence: float
    risk_flags: list[str]
    session_start: str | None
    session_end: str
    created_at: str


def handoff_of(h: SessionHandoff) -> HandoffOut:
    return HandoffOut.model_validate(h.as_dict())


class SessionStartOut(BaseModel):
    session_id: str
    agent: str
    goal: str
    started_at: str
    previous_handoff: HandoffOut | None
    progress: ProgressOut
    memories: list[MemoryOut] = Field(description="heuristics and anti-patterns for the goal")
    prompt: str = Field(description="Markdown orientation for the agent (SessionContext.to_prompt)")


def session_start_of(ctx: SessionContext) -> SessionStartOut:
    previous = ctx.previous_handoff
    return SessionStartOut(
        session_id=ctx.session_id,
        agent=ctx.agent,
        goal=ctx.goal,
        started_at=ctx.started_at.isoformat(),
        previous_handoff=None if previous is None else handoff_of(previous),
        progress=progress_of(ctx.progress),
        memories=[memory_of(m) for m in [*ctx.relevant_heuristics, *ctx.anti_patterns]],
        prompt=ctx.to_prompt(),
    )


class QuickReloadOut(BaseModel):
    agent: str
    text: str = Field(description="compact Markdown orientation for the next session")
