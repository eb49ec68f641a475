"""Memories: filter, search with the ranking agents get, page through, act on a selection, edit."""

import math

import streamlit as st

from alma_app.ui import (
    bulk_actions,
    get_alma,
    memory_detail,
    memory_filters,
    memory_table,
    show_error,
    show_flash,
    sidebar,
    undo_banner,
)

PAGE_SIZES = (25, 50, 100, 200)
ORDERS = {
    "Newest first": ("created_at", True),
    "Oldest first": ("created_at", False),
    "Recently updated": ("updated_at", True),
    "Highest confidence": ("confidence", True),
    "Lowest confidence": ("confidence", False),
}

alma = get_alma()
scope = sidebar(alma)
st.title("Memories", anchor=False)
st.caption(
    "Everything your agents have learned. Filter, search exactly as agents retrieve, select rows "
    "to approve, reject, delete or export them; select one row to open, edit and audit it."
)
show_flash()
undo_banner(alma, scope.reviewer)

filters = memory_filters("memories", scope.agent)
query = st.text_input(
    "Search",
    key="memories:query",
    icon=":material/search:",
    placeholder="Search as an agent would — hybrid vector + keyword ranking, with each score",
).strip()

selected: list[str] = []
rows_shown = False
with show_error():
    if query:
        hits = alma.search(
            query,
            agent=filters.agent,
            memory_type=filters.memory_type,
            status=filters.status,
            limit=50,
        )
        hits = [m for m in hits if filters.accepts(m)]
        if not hits:
            st.info(
                "No memory matches this search and these filters.", icon=":material/search_off:"
            )
        else:
            st.caption(
                f"The **{len(hits)}** best matches, ranked as `retrieve` ranks them for agents "
                "(approved memories only, there). Score = weighted relevance, recency, success "
                "and confidence."
            )
            key = f"memories:hits:{filters.signature()}:{hash(query)}"
            selected = memory_table(hits, key, scores=True)
            rows_shown = True
    else:
        size_column, order_column, _ = st.columns([1, 1, 4])
        size = size_column.selectbox("Rows per page", PAGE_SIZES, index=1, key="memories:size")
        order = order_column.selectbox("Sort", list(ORDERS), key="memories:order")
        order_by, descending = ORDERS[order]
        page_key = f"memories:page:{filters.signature()}:{size}:{order}"
        number = int(st.session_state.get(page_key) or 1)
        listing = dict(limit=size, order_by=order_by, descending=descending, **filters.kwargs())
        page = alma.list_memories(offset=(number - 1) * size, **listing)
        pages = max(1, math.ceil(page.total / size))
        if number > pages:  # the filters shrank the listing under the remembered page
            number = st.session_state[page_key] = 1
            page = alma.list_memories(offset=0, **listing)
        if page.total == 0:
            if filters.kwargs():
                st.info("No memory matches these filters.", icon=":material/filter_alt_off:")
            else:
                st.info(
                    "No memories yet. Load the demo data with `alma demo`, or let agents learn.",
                    icon=":material/eco:",
                )
        else:
            first = page.offset + 1
            st.caption(
                f"**{page.total:,}** memories match · showing {first:,}–"
                f"{page.offset + len(page.items):,} · page {number:,} of {pages:,}"
            )
            selected = memory_table(page.items, f"memories:table:{page_key}:{number}")
            rows_shown = True
            if pages > 1:
                st.pagination(pages, default=number, key=page_key, max_visible_pages=9)

if rows_shown:
    bulk_actions(alma, selected, "memories:bulk", scope.reviewer)

opened = selected[0] if len(selected) == 1 else st.query_params.get("memory")
if opened:
    st.subheader("Memory", anchor=False, divider="gray")
    memory_detail(alma, opened, scope.reviewer)
elif not selected:
    st.caption("Tip: select exactly one row to open the memory, edit it and see its history.")
