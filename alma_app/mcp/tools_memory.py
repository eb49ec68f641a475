"""Memory tools: retrieve, learn, add preferences and knowledge, forget, review, stats, health.

Each tool is one call into ALMA inside `tool_errors()`, and a conversion to its result model.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from alma_app.api import ALMA
from alma_app.errors import ValidationError
from alma_app.mcp.common import Agent, Ids, OptionalAgent, tool_errors
from alma_app.mcp.models import (
    ForgetOut,
    HealthOut,
    LearnOut,
    MemoryOut,
    RetrieveOut,
    ReviewOut,
    StatsOut,
    forget_of,
    learn_of,
    memory_of,
)

SERVER_VERSION = "0.1.0"

Task = Annotated[str, Field(description="what the agent is about to do, in plain words")]
TopK = Annotated[int, Field(ge=1, le=100, description="at most this many memories of each type")]
UserId = Annotated[str | None, Field(description="include this user's preferences (default: none)")]


def register_memory_tools(server: MCPServer, alma: ALMA) -> None:
    """Add the memory tools to `server`, each bound to `alma`."""

    @server.tool()
    def alma_retrieve(
        task: Task, agent: Agent, top_k: TopK = 5, user_id: UserId = None
    ) -> RetrieveOut:
        """Memories relevant to a task (heuristics, anti-patterns, facts, preferences, outcomes),
        each with its score breakdown, and the Markdown to put in the agent's prompt."""
        with tool_errors():
            found = alma.retrieve(task, agent, top_k=top_k, user_id=user_id)
            ranked = sorted(found.all(), key=lambda m: -(m.score.total if m.score else 0.0))
            return RetrieveOut(
                query=found.query,
                agent=found.agent,
                user_id=found.user_id,
                total_items=found.total_items,
                retrieval_time_ms=found.retrieval_time_ms,
                memories=[memory_of(m) for m in ranked],
                prompt=found.to_prompt(),
            )

    @server.tool()
    def alma_learn(
        agent: Agent,
        task: Task,
        outcome: Literal["success", "failure"],
        strategy_used: Annotated[str, Field(description="how the agent went about the task")],
        feedback: str | None = None,
        task_type: Annotated[
            str | None, Field(description="category (default: the agent's closest one)")
        ] = None,
        duration_ms: Annotated[int | None, Field(ge=0)] = None,
        error_message: str | None = None,
    ) -> LearnOut:
        """Record a task's outcome; similar successes form a heuristic, similar failures an
        anti-pattern (within the agent's configured scope)."""
        with tool_errors():
            return learn_of(
                alma.learn(
                    agent,
                    task,
                    outcome,
                    strategy_used,
                    feedback=feedback,
                    task_type=task_type,
                    duration_ms=duration_ms,
                    error_message=error_message,
                )
            )

    @server.tool()
    def alma_add_preference(
        user_id: Annotated[str, Field(description="the user the preference belongs to")],
        category: Annotated[str, Field(description="e.g. output, code_style, communication")],
        preference: Annotated[str, Field(description="the preference, in plain words")],
        source: str = "explicit_instruction",
    ) -> MemoryOut:
        """Remember a user's preference; every agent working for that user will see it."""
        with tool_errors():
            return memory_of(alma.add_preference(user_id, category, preference, source))

    @server.tool()
    def alma_add_knowledge(
        agent: Agent,
        domain: Annotated[str, Field(description="category within the agent's scope")],
        fact: Annotated[str, Field(description="the fact, in plain words")],
        source: str = "user",
        confidence: Annotated[float, Field(ge=0, le=1)] = 1.0,
    ) -> MemoryOut:
        """Remember a fact for an agent. A restatement reinforces the existing fact; a changed
        value is stored and supersedes it; a negation is stored and flagged for review
        (write_result says which)."""
        with tool_errors():
            return memory_of(alma.add_domain_knowledge(agent, domain, fact, source, confidence))

    @server.tool()
    def alma_forget(
        agent: OptionalAgent = None,
        older_than_days: Annotated[float, Field(ge=0)] = 90,
        min_confidence: Annotated[
            float | None, Field(ge=0, le=1, description="default: the forget_threshold setting")
        ] = None,
        dry_run: Annotated[bool, Field(description="list what would go; remove nothing")] = True,
    ) -> ForgetOut:
        """Archive stale or low-confidence memories (restorable from the dashboard). Defaults to
        a dry run: pass dry_run=false to remove."""
        with tool_errors():
            return forget_of(
                alma.forget(agent, older_than_days, min_confidence, dry_run, actor="mcp")
            )

    @server.tool()
    def alma_stats(agent: OptionalAgent = None) -> StatsOut:
        """Memory counts by type, agent and status."""
        with tool_errors():
            return StatsOut.model_validate(alma.stats(agent=agent))

    @server.tool()
    def alma_health() -> HealthOut:
        """Whether the store answers, and what this server is configured with."""
        with tool_errors():
            count = alma.stats()["total"]
        return HealthOut(
            status="ok",
            project_id=alma.project_id,
            store=alma.settings.store_uri,
            embedding=alma.embedder.name,
            embedding_dim=alma.embedder.dim,
            memories=count,
            agents=sorted(alma.settings.agents),
            server_version=SERVER_VERSION,
        )

    @server.tool()
    def alma_review(
        action: Literal["list_pending", "approve", "reject"],
        ids: Ids | None = None,
        reviewer: Annotated[str | None, Field(description="who decides (approve/reject)")] = None,
        reason: Annotated[str | None, Field(description="why (required to reject)")] = None,
        agent: OptionalAgent = None,
        limit: Annotated[int, Field(ge=1, le=1000)] = 50,
    ) -> ReviewOut:
        """List memories waiting for review, or approve / reject some by id."""
        with tool_errors():
            if action == "list_pending":
                page = alma.list_memories(agent=agent, status="pending", limit=limit)
                changed = page.items
            else:
                if not ids:
                    raise ValidationError("ids", f"give the memory ids to {action}")
                if reviewer is None:
                    raise ValidationError("reviewer", f"say who is deciding to {action}")
                if action == "approve":
                    changed = alma.approve(ids, reviewer)
                elif reason is None:
                    raise ValidationError("reason", "say why the memories are rejected")
                else:
                    changed = alma.reject(ids, reviewer, reason)
            memories = [memory_of(m) for m in changed]
            return ReviewOut(action=action, count=len(memories), memories=memories)
