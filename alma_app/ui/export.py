"""Export widgets: the exact prompt context an agent would get, and memories as a file."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from alma_app.api import ALMA
from alma_app.memory.prompt import estimate_tokens
from alma_app.memory.transfer import FORMATS, export_bytes
from alma_app.ui.state import show_error
from alma_app.ui.widgets import MIME, memory_filters

REQUEST_KEY = "export:prompt:request"
FILE_KEY = "export:file"


@dataclass(frozen=True)
class PromptRequest:
    agent: str
    task: str
    user_id: str | None
    max_tokens: int
    top_k: int


def prompt_preview(alma: ALMA, agents: tuple[str, ...], agent: str | None) -> None:
    """Ask like an agent does; show exactly what to_prompt() injects and what it costs."""
    if not agents:
        st.info("No agent is configured or owns memories yet.", icon=":material/smart_toy:")
        return
    with st.form("export:prompt"):
        who, user, budget, top_k = st.columns([2, 2, 1, 1])
        chosen = who.selectbox("Agent", agents, index=agents.index(agent) if agent in agents else 0)
        user_id = user.text_input("User (optional)", placeholder="user id, for preferences")
        max_tokens = budget.number_input("Token budget", 50, 32_000, 2000, step=100)
        per_type = top_k.number_input("Per type", 1, 20, 5, help="top_k: memories of each type")
        task = st.text_area(
            "Task", placeholder="What is the agent about to do? e.g. Test the checkout form"
        )
        asked = st.form_submit_button(
            "Show prompt context", type="primary", icon=":material/search:"
        )
    if asked:
        st.session_state[REQUEST_KEY] = PromptRequest(
            chosen, task.strip(), user_id.strip() or None, int(max_tokens), int(per_type)
        )
    request: PromptRequest | None = st.session_state.get(REQUEST_KEY)
    if request is None:
        st.caption("Describe a task to see the memories an agent would receive for it.")
        return
    with show_error():
        memory_slice = alma.retrieve(
            request.task, request.agent, top_k=request.top_k, user_id=request.user_id
        )
        text = memory_slice.to_prompt(max_tokens=request.max_tokens)
        tokens, items, took = st.columns(3)
        tokens.metric(
            "Tokens (estimated)",
            f"{estimate_tokens(text):,}",
            help=f"About four characters per token; budget {request.max_tokens:,}",
        )
        items.metric("Memories retrieved", memory_slice.total_items)
        took.metric("Retrieval", f"{memory_slice.retrieval_time_ms:.0f} ms")
        if not text:
            st.info(
                f"No approved memory of **{request.agent}** is relevant to this task.",
                icon=":material/search_off:",
            )
            return
        st.code(text, language="markdown", wrap_lines=True)
        st.download_button(
            "Download as Markdown",
            data=text,
            file_name=f"alma-prompt-{request.agent}.md",
            mime="text/markdown",
            icon=":material/download:",
            on_click="ignore",
        )


def file_export(alma: ALMA, agent: str | None) -> None:
    """The memories of a filter as JSONL or Parquet (lossless; see alma_app.memory.transfer)."""
    filters = memory_filters("export:filters", agent)
    fmt_column, embed_column = st.columns([1, 3], vertical_alignment="bottom")
    fmt = fmt_column.segmented_control(
        "Format", FORMATS, default="jsonl", key="export:format", required=True
    )
    embeddings = embed_column.checkbox(
        "Include embeddings",
        value=True,
        key="export:embeddings",
        help="Without them the file is smaller; import recomputes them.",
    )
    with show_error():
        count = alma.list_memories(limit=1, **filters.kwargs()).total
        st.caption(f"**{count:,}** memories match these filters.")
        wanted = (filters.signature(), fmt, embeddings)
        ready = st.session_state.get(FILE_KEY)
        stale = ready is None or ready[0] != wanted
        if stale and st.button(
            "Prepare the file", icon=":material/inventory_2:", disabled=count == 0
        ):
            data = export_bytes(alma, str(fmt), include_embeddings=embeddings, **filters.kwargs())
            st.session_state[FILE_KEY] = ready = (wanted, data)
        if ready is not None and ready[0] == wanted:
            st.download_button(
                f"Download {count:,} memories ({len(ready[1]) / 1024:,.0f} KiB)",
                data=ready[1],
                file_name=f"alma-{alma.project_id}.{fmt}",
                mime=MIME[str(fmt)],
                icon=":material/download:",
                type="primary",
                on_click="ignore",
            )
