"""Work-item and session tools: the board (create, move, next, summary) and session continuity
(start, update, handoff, quick reload). Thin calls into ProgressTracker and SessionManager."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from alma_app.api import ALMA
from alma_app.mcp.common import Agent, OptionalAgent, tool_errors
from alma_app.mcp.models import (
    HandoffOut,
    NextItemOut,
    ProgressOut,
    QuickReloadOut,
    SessionOut,
    SessionStartOut,
    WorkItemOut,
    handoff_of,
    item_of,
    progress_of,
    session_of,
    session_start_of,
)

WorkStatus = Literal["pending", "in_progress", "blocked", "review", "done", "failed"]
Texts = Annotated[list[str] | None, Field(description="a list of short texts")]
ItemId = Annotated[str, Field(description="work item id")]
SessionId = Annotated[str, Field(description="id returned by alma_start_session")]


def register_work_tools(server: MCPServer, alma: ALMA) -> None:
    """Add the work-item and session tools to `server`, each bound to `alma`'s project."""
    tracker = alma.progress
    sessions = alma.sessions

    @server.tool()
    def alma_create_work_item(
        title: str,
        description: str = "",
        priority: Annotated[int, Field(ge=0, le=100, description="higher is more important")] = 50,
        agent: Annotated[str | None, Field(description="assignee (default: unassigned)")] = None,
        item_type: Annotated[
            str, Field(description="task, feature, bug, research, research_question, chore, epic")
        ] = "task",
        parent_id: str | None = None,
        blocked_by: Annotated[
            list[str] | None, Field(description="ids of items this one waits on")
        ] = None,
        acceptance_criteria: Texts = None,
        tests: Texts = None,
        estimate_hours: Annotated[float | None, Field(ge=0)] = None,
    ) -> WorkItemOut:
        """Add a work item to the project's board; it starts blocked while it waits on others."""
        with tool_errors():
            item = tracker.create_work_item(
                title,
                description,
                priority,
                agent,
                item_type,
                parent_id,
                blocked_by or (),
                acceptance_criteria or (),
                tests=tests or (),
                estimate_hours=estimate_hours,
                actor=agent,
            )
            return item_of(item)

    @server.tool()
    def alma_update_work_item_status(
        item_id: ItemId,
        status: WorkStatus,
        reason: str | None = None,
        tests_passing: bool | None = None,
        actor: Annotated[str | None, Field(description="who moves it (default: assignee)")] = None,
    ) -> WorkItemOut:
        """Move a work item to a new status; finishing it unblocks the items waiting on it."""
        with tool_errors():
            item = tracker.update_status(
                item_id, status, actor=actor, reason=reason, tests_passing=tests_passing
            )
            return item_of(item)

    @server.tool()
    def alma_next_work_item(
        agent: OptionalAgent = None,
        strategy: Annotated[
            str, Field(description="priority, quick_wins, unblock_others or fifo")
        ] = "priority",
    ) -> NextItemOut:
        """The actionable item to work on next (the agent's own or an unassigned one)."""
        with tool_errors():
            item = tracker.get_next_item(agent=agent, strategy=strategy)
            return NextItemOut(strategy=strategy, item=None if item is None else item_of(item))

    @server.tool()
    def alma_progress_summary(agent: OptionalAgent = None) -> ProgressOut:
        """Counts per status, completion, the current and next item, blockers and time spent."""
        with tool_errors():
            return progress_of(tracker.get_progress_summary(agent=agent))

    @server.tool()
    def alma_start_session(
        agent: Agent, goal: Annotated[str, Field(description="what this session is for")]
    ) -> SessionStartOut:
        """Open a session: the last handoff, the board and relevant memories, as a prompt."""
        with tool_errors():
            return session_start_of(sessions.start_session(agent, goal))

    @server.tool()
    def alma_update_session(
        agent: Agent,
        session_id: SessionId,
        decision: str | None = None,
        blocker: str | None = None,
        active_file: str | None = None,
        resolved_blocker: Annotated[
            str | None, Field(description="a blocker recorded earlier that is now resolved")
        ] = None,
    ) -> SessionOut:
        """Record a decision, a blocker (or its resolution) or a file being worked on."""
        with tool_errors():
            session = sessions.update_session(
                agent, session_id, decision, blocker, active_file, resolved_blocker
            )
            return session_of(session)

    @server.tool()
    def alma_create_handoff(
        agent: Agent,
        session_id: SessionId,
        last_action: str,
        last_outcome: Literal["success", "failure", "partial", "interrupted", "unknown"],
        next_steps: Texts = None,
        key_decisions: Texts = None,
        blockers: Texts = None,
        test_status: Annotated[
            dict[str, int] | None, Field(description="e.g. {passed: 12, failed: 1, skipped: 0}")
        ] = None,
        confidence: Annotated[
            float, Field(ge=0, le=1, description="how sure the agent is the work is on track")
        ] = 0.5,
        risk_flags: Texts = None,
        active_files: Texts = None,
    ) -> HandoffOut:
        """End the session with a handoff the next session starts from."""
        with tool_errors():
            handoff = sessions.create_handoff(
                agent,
                session_id,
                last_action,
                last_outcome,
                next_steps or (),
                key_decisions,
                blockers,
                test_status,
                confidence,
                risk_flags,
                active_files,
            )
            return handoff_of(handoff)

    @server.tool()
    def alma_quick_reload(agent: Agent) -> QuickReloadOut:
        """A compact Markdown orientation: the last handoff and the agent's board."""
        with tool_errors():
            return QuickReloadOut(agent=agent, text=sessions.get_quick_reload(agent))
