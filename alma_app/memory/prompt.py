"""Render a MemorySlice as Markdown for a prompt, within a token budget.

Each memory becomes one bullet line: newlines and control characters are collapsed and Markdown
that could open a heading, fence or quote is escaped, so memory text can never break out of its
section or pose as instructions. Items are added whole, best first, until the budget is spent.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alma_app.memory.types import Memory, MemorySlice

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_SPACES = re.compile(r"\s+")
_LEADING_MARKUP = re.compile(r"^([#>=\-*+|`~]|\d+[.)])")


def estimate_tokens(text: str) -> int:
    """About four characters per token (the usual rule for English with BPE tokenizers)."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def sanitize(text: str) -> str:
    """One safe line of Markdown text: no line breaks, no leading markup, no fences."""
    line = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    line = line.replace("```", "'''").replace("~~~", "'''")
    line = line.replace("<", "&lt;").replace(">", "&gt;")
    if _LEADING_MARKUP.match(line):
        line = "\\" + line
    return line


def _heuristic(m: Memory) -> str:
    rate = getattr(m, "success_rate", 0.0)
    return (
        f"When {sanitize(m.condition)}: {sanitize(m.strategy)} "  # type: ignore[attr-defined]
        f"(success {rate:.0%}, confidence {(m.effective_confidence or 0):.2f})"
    )


def _anti_pattern(m: Memory) -> str:
    line = f"Avoid {sanitize(m.pattern)} — {sanitize(m.why_bad)}"  # type: ignore[attr-defined]
    if m.better_alternative:  # type: ignore[attr-defined]
        line += f". Instead: {sanitize(m.better_alternative)}"  # type: ignore[attr-defined]
    return line


def _preference(m: Memory) -> str:
    return f"{sanitize(m.category)}: {sanitize(m.preference)}"  # type: ignore[attr-defined]


def _knowledge(m: Memory) -> str:
    return f"{sanitize(m.domain)}: {sanitize(m.fact)}"  # type: ignore[attr-defined]


def _outcome(m: Memory) -> str:
    verdict = "succeeded" if m.success else "failed"  # type: ignore[attr-defined]
    line = f"{sanitize(m.task)} — {verdict} using: {sanitize(m.strategy_used)}"  # type: ignore[attr-defined]
    if m.error_message:  # type: ignore[attr-defined]
        line += f" (error: {sanitize(m.error_message)})"  # type: ignore[attr-defined]
    return line


SECTIONS = (
    ("Strategies that worked", "heuristics", _heuristic),
    ("What to avoid", "anti_patterns", _anti_pattern),
    ("User preferences", "preferences", _preference),
    ("Domain context", "domain_knowledge", _knowledge),
    ("Recent outcomes", "outcomes", _outcome),
)


def render_prompt(memory_slice: MemorySlice, max_tokens: int = 2000) -> str:
    """Markdown sections (### headings, one bullet per memory) fitting `max_tokens`."""
    if max_tokens <= 0:
        return ""
    parts: list[str] = []
    used = 0
    for title, attr, render in SECTIONS:
        items = getattr(memory_slice, attr)
        if not items:
            continue
        heading = f"### {title}"
        lines: list[str] = []
        cost = estimate_tokens(heading) + 1
        for item in items:
            line = f"- {render(item)}"
            line_cost = estimate_tokens(line) + 1
            if used + cost + line_cost > max_tokens:
                continue  # skip an item that does not fit whole; a shorter one may
            lines.append(line)
            cost += line_cost
        if lines:
            parts.append("\n".join([heading, *lines]))
            used += cost
    return "\n\n".join(parts)
