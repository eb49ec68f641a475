"""Which agents may learn what, and which memories an agent sees (the agents: section of config)."""

from __future__ import annotations

from typing import Any

import alma_store as st
from alma_app.checks import check_text
from alma_app.config import Settings
from alma_app.errors import ScopeViolation
from alma_app.memory.types import MEMORY_TYPES


class Scope:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check_agent(self, agent: Any, argument: str = "agent") -> str:
        """The agent's name (checked); ScopeViolation for an unknown one under strict_agents."""
        check_text(argument, agent)
        if self.settings.strict_agents and agent not in self.settings.agents:
            raise ScopeViolation(agent, "*", "strict_agents is on and the agent is not configured")
        return agent

    def check_scope(self, agent: str, category: str) -> None:
        """Raise ScopeViolation when the agent's config forbids learning this category."""
        scope = self.settings.agent(agent)
        if scope is None:
            if self.settings.strict_agents:
                raise ScopeViolation(
                    agent, category, "strict_agents is on and the agent is not configured"
                )
            return
        if category in scope.cannot_learn:
            raise ScopeViolation(
                agent, category, f"it is listed in cannot_learn {list(scope.cannot_learn)}"
            )
        if scope.can_learn and category not in scope.can_learn:
            raise ScopeViolation(
                agent, category, f"can_learn is {list(scope.can_learn)} and does not include it"
            )

    def visible_agents(self, agent: str) -> tuple[str, ...]:
        """The agent itself and every agent whose config shares its memories with it."""
        sharers = [name for name, s in self.settings.agents.items() if agent in s.share_with]
        return (agent, *sharers)

    def visibility(self, agent: str, user_id: str | None) -> st.Filter:
        """The approved memories of this project the agent may retrieve (and the user's
        preferences, when a user is given)."""
        own = st.And(
            (
                st.In("type", tuple(t for t in MEMORY_TYPES if t != "preference")),
                st.Or(
                    (st.In("agent", self.visible_agents(agent)), st.HasAny("shared_with", (agent,)))
                ),
            )
        )
        parts: list[st.Filter] = [own]
        if user_id is not None:
            parts.append(st.And((st.Eq("type", "preference"), st.Eq("user_id", user_id))))
        return st.And(
            (
                st.Eq("project_id", self.settings.project_id),
                st.Eq("status", "approved"),
                st.Or(tuple(parts)) if len(parts) > 1 else own,
            )
        )
