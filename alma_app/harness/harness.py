"""The harness pattern: any tool-using agent that learns from its runs.

    Setting       fixed environment: tools and constraints
    Context       one run's inputs: task, user, project, session, inputs
    Agent         who acts, with a MemorySchema saying what it may learn
    run()         retrieve memories → build the prompt → call the executor → learn the outcome

    harness = create_harness("coding", "helena", alma)
    result = harness.run(Context(task="Test the login form"), executor=my_llm_call)

The executor is any callable taking the prompt. It may return a str (a success), a dict with
output / success / strategy / tools_used / error / reflections / task_type, or a RunResult.
If it raises, the run is a failure: the error is learned and returned, not re-raised.
Without an executor, run() learns nothing and returns the prompt as the output.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alma_app.checks import check_text
from alma_app.config import AgentScope
from alma_app.errors import AlmaError, ValidationError
from alma_app.harness.domains import DomainMemoryFactory, DomainSchema
from alma_app.memory.prompt import sanitize
from alma_app.memory.types import MemorySlice
from alma_app.values import utcnow

if TYPE_CHECKING:
    from alma_app.api import ALMA

__all__ = ["Agent", "Context", "Harness", "MemorySchema", "RunResult", "Setting", "Tool"]

RESULT_KEYS = (
    "output",
    "success",
    "strategy",
    "strategy_used",
    "tools_used",
    "error",
    "error_message",
    "reflections",
    "feedback",
    "task_type",
)


def _bullets(values: list[str]) -> list[str]:
    return [f"- {sanitize(v)}" for v in values]


@dataclass
class Tool:
    name: str
    description: str = ""
    constraints: list[str] = field(default_factory=list)

    def to_prompt(self) -> str:
        line = f"**{sanitize(self.name)}**"
        if self.description:
            line += f": {sanitize(self.description)}"
        if self.constraints:
            line += f" (constraints: {'; '.join(sanitize(c) for c in self.constraints)})"
        return line


@dataclass
class Setting:
    """The fixed environment: what the agent can use and the rules it must keep."""

    name: str
    description: str = ""
    tools: list[Tool] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tools = [t if isinstance(t, Tool) else Tool(str(t)) for t in self.tools]

    @property
    def global_constraints(self) -> list[str]:  # the original's name
        return self.constraints

    def to_prompt(self) -> str:
        lines = [f"## Setting: {sanitize(self.name)}", sanitize(self.description)]
        if self.tools:
            lines += ["", "### Available tools", *(f"- {t.to_prompt()}" for t in self.tools)]
        if self.constraints:
            lines += ["", "### Constraints", *_bullets(self.constraints)]
        return "\n".join(lines)


@dataclass
class Context:
    """One run's inputs."""

    task: str
    user_id: str | None = None
    project_id: str | None = None
    session_id: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    constraints: list[str] = field(default_factory=list)
    timestamp: datetime = field(default_factory=utcnow)

    def to_prompt(self) -> str:
        lines = ["## Current task", sanitize(self.task)]
        if self.inputs:
            lines += ["", "### Inputs"]
            lines += [f"- {sanitize(str(k))}: {sanitize(str(v))}" for k, v in self.inputs.items()]
        if self.constraints:
            lines += ["", "### Task constraints", *_bullets(self.constraints)]
        return "\n".join(lines)


@dataclass
class MemorySchema:
    """What an agent may learn: its domain's categories, minus the forbidden ones."""

    domain: str
    description: str = ""
    learnable_categories: list[str] = field(default_factory=list)
    forbidden_categories: list[str] = field(default_factory=list)
    min_occurrences: int = 3

    @classmethod
    def from_domain(cls, schema: DomainSchema) -> MemorySchema:
        return cls(
            domain=schema.name,
            description=schema.description,
            learnable_categories=list(schema.learning_categories),
            forbidden_categories=list(schema.excluded_categories),
            min_occurrences=schema.min_occurrences_for_heuristic,
        )

    @classmethod
    def from_scope(cls, scope: AgentScope, description: str = "") -> MemorySchema:
        return cls(
            domain=scope.domain,
            description=description,
            learnable_categories=list(scope.can_learn),
            forbidden_categories=list(scope.cannot_learn),
            min_occurrences=scope.min_occurrences_for_heuristic,
        )

    def to_scope(self, agent_name: str) -> AgentScope:
        return AgentScope(
            name=agent_name,
            domain=self.domain,
            can_learn=tuple(self.learnable_categories),
            cannot_learn=tuple(self.forbidden_categories),
            min_occurrences_for_heuristic=self.min_occurrences,
        )

    def to_prompt(self) -> str:
        lines = [f"### What you learn ({sanitize(self.domain)})"]
        lines += _bullets(self.learnable_categories) or ["- any category"]
        return "\n".join(lines)


@dataclass
class Agent:
    """Who acts: a name (the memory owner), a role and what it may learn."""

    name: str
    role: str
    memory_schema: MemorySchema
    description: str = ""
    traits: list[str] = field(default_factory=list)

    def to_prompt(self) -> str:
        lines = [f"## You are {sanitize(self.name)}", f"**Role**: {sanitize(self.role)}"]
        if self.description:
            lines.append(sanitize(self.description))
        if self.traits:
            lines += ["", "### Traits", *_bullets(self.traits)]
        lines += ["", self.memory_schema.to_prompt()]
        return "\n".join(lines)


@dataclass
class RunResult:
    """What a run produced, what it retrieved and what it learned."""

    success: bool
    output: Any
    prompt: str = ""
    strategy: str | None = None
    tools_used: list[str] = field(default_factory=list)
    reflections: list[str] = field(default_factory=list)
    error: str | None = None
    task_type: str | None = None
    duration_ms: int | None = None
    memories: MemorySlice | None = None
    learned: Any = None  # ALMA.learn's result; None when nothing was learned
    learn_error: str | None = None  # why learning was refused (e.g. a scope violation)


def _from_executor(value: Any) -> RunResult:
    """Normalise an executor's return value (str, dict or RunResult)."""
    if isinstance(value, RunResult):
        return value
    if isinstance(value, str):
        return RunResult(success=True, output=value)
    if not isinstance(value, dict):
        raise ValidationError(
            "executor result", f"expected a str, dict or RunResult, got {type(value).__name__}"
        )
    unknown = sorted(set(value) - set(RESULT_KEYS))
    if unknown:
        raise ValidationError("executor result", f"unknown keys {unknown}; known: {RESULT_KEYS}")
    tools = value.get("tools_used") or []
    reflections = value.get("reflections") or value.get("feedback") or []
    if isinstance(reflections, str):
        reflections = [reflections]
    error = value.get("error") or value.get("error_message")
    return RunResult(
        success=bool(value.get("success", not error)),
        output=value.get("output"),
        strategy=value.get("strategy") or value.get("strategy_used"),
        tools_used=[str(t) for t in tools],
        reflections=[str(r) for r in reflections],
        error=str(error) if error else None,
        task_type=value.get("task_type"),
    )


class Harness:
    """Setting + Agent + ALMA; run() is one learning step for the agent."""

    def __init__(self, setting: Setting, agent: Agent, alma: ALMA) -> None:
        self.setting = setting
        self.agent = agent
        self.alma = alma

    def pre_run(self, context: Context, top_k: int = 5) -> MemorySlice:
        return self.alma.retrieve(
            context.task, self.agent.name, top_k=top_k, user_id=context.user_id
        )

    def build_prompt(self, context: Context, memories: MemorySlice | None = None) -> str:
        """Agent, setting, memory (when there is any), then the task."""
        sections = [self.agent.to_prompt(), self.setting.to_prompt()]
        rendered = memories.to_prompt() if memories is not None else ""
        if rendered:
            sections.append("## Relevant memory (from past runs)\n" + rendered)
        sections.append(context.to_prompt())
        return "\n\n".join(sections)

    def run(self, context: Context, executor: Callable[[str], Any] | None = None) -> RunResult:
        if not isinstance(context, Context):
            raise ValidationError("context", f"expected a Context, got {type(context).__name__}")
        check_text("task", context.task)
        started = time.perf_counter()
        memories = self.pre_run(context)
        prompt = self.build_prompt(context, memories)
        if executor is None:
            elapsed = int((time.perf_counter() - started) * 1000)
            return RunResult(True, prompt, prompt=prompt, memories=memories, duration_ms=elapsed)
        try:
            raw = executor(prompt)
        except Exception as exc:  # the executor failed: that is an outcome to learn from
            result = RunResult(success=False, output=None, error=f"{type(exc).__name__}: {exc}")
        else:
            result = _from_executor(raw)  # a malformed result is a bug: ValidationError
        result.prompt, result.memories = prompt, memories
        result.duration_ms = int((time.perf_counter() - started) * 1000)
        self.post_run(context, result)
        return result

    def post_run(self, context: Context, result: RunResult) -> None:
        """Record the outcome through ALMA.learn (when this ALMA has it)."""
        learn = getattr(self.alma, "learn", None)
        if learn is None:
            return
        strategy = result.strategy or "direct"
        if result.tools_used:
            strategy += f" (tools: {', '.join(result.tools_used)})"
        task_type = result.task_type or context.inputs.get("task_type")
        try:
            result.learned = learn(
                self.agent.name,
                context.task,
                "success" if result.success else "failure",
                strategy,
                feedback="; ".join(result.reflections) or None,
                task_type=task_type,
                duration_ms=result.duration_ms,
                error_message=result.error,
            )
        except AlmaError as exc:  # e.g. a task type outside the agent's scope
            result.learn_error = str(exc)


# Per-domain roles, tools and constraints for create_harness.
PRESETS: dict[str, tuple[str, list[str], list[str]]] = {
    "coding": (
        "software engineer who writes and tests code",
        ["code_search", "file_editor", "test_runner", "browser"],
        ["Run the tests before calling work done", "Never commit secrets"],
    ),
    "research": (
        "researcher who finds, weighs and summarises evidence",
        ["web_search", "paper_search", "note_taker"],
        ["Cite a source for every claim", "Prefer primary sources"],
    ),
    "sales": (
        "sales representative who qualifies leads and closes deals",
        ["crm", "email", "calendar"],
        ["Never promise unreleased features", "Log every contact in the CRM"],
    ),
    "general": (
        "general-purpose assistant",
        ["web_search", "notes", "calendar"],
        ["Ask when the task is ambiguous"],
    ),
    "customer_support": (
        "support agent who resolves customer issues",
        ["ticketing", "knowledge_base", "order_lookup"],
        ["Verify the customer's identity before account changes", "Escalate legal threats"],
    ),
    "content_creation": (
        "writer who plans, drafts and publishes content",
        ["editor", "seo_analyzer", "scheduler"],
        ["Follow the style guide", "Check facts before publishing"],
    ),
}


def create_harness(
    domain: str | DomainSchema,
    agent: str | Agent,
    alma: ALMA,
    *,
    tools: list[Tool | str] | None = None,
    constraints: list[str] | None = None,
) -> Harness:
    """A harness for an agent in a domain (a pre-built name or a DomainSchema).

    The agent's memory schema is its configured scope in `alma` when it has one, else the
    domain's learning categories.
    """
    schema = (
        domain if isinstance(domain, DomainSchema) else DomainMemoryFactory().get_schema(domain)
    )
    role, preset_tools, preset_constraints = PRESETS.get(
        schema.name, (f"{schema.name} agent", [], [])
    )
    if isinstance(agent, str):
        check_text("agent", agent)
        scope = alma.settings.agent(agent)
        memory_schema = (
            MemorySchema.from_scope(scope, schema.description)
            if scope is not None
            else MemorySchema.from_domain(schema)
        )
        agent = Agent(name=agent, role=role, memory_schema=memory_schema)
    setting = Setting(
        name=schema.name,
        description=schema.description,
        tools=list(tools if tools is not None else preset_tools),  # type: ignore[arg-type]
        constraints=list(constraints if constraints is not None else preset_constraints),
    )
    return Harness(setting, agent, alma)
