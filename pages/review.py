"""Review queue: approve, edit-and-approve or reject what agents learned, alone or in batches."""

import streamlit as st

from alma_app.ui import (
    bulk_actions,
    get_alma,
    memory_table,
    show_error,
    show_flash,
    sidebar,
    undo_banner,
)
from alma_app.ui.review import SKIPPED_KEY, contradictions, next_pending, review_card

alma = get_alma()
scope = sidebar(alma)
st.title("Review queue", anchor=False)
st.caption(
    "Memories that agents configured with `require_review` learned wait here. Agents never see "
    "them until you approve. Compare each with the closest stored memories before deciding. "
    "Below, pairs of stated facts or preferences that may contradict each other."
)
show_flash()
undo_banner(alma, scope.reviewer)

mode = st.segmented_control(
    "Mode", ["One by one", "Batch"], default="One by one", key="review:mode", required=True
)
with show_error():
    if mode == "Batch":
        page = alma.list_memories(
            status="pending", agent=scope.agent, limit=100, order_by="created_at", descending=False
        )
        if page.total == 0:
            st.success("Nothing waits for review.", icon=":material/task_alt:")
        else:
            st.caption(f"**{page.total:,}** pending · the oldest {len(page.items)} shown")
            selected = memory_table(page.items, "review:table")
            bulk_actions(alma, selected, "review:bulk", scope.reviewer)
    else:
        memory, total = next_pending(alma, scope.agent)
        if total == 0:
            st.success("Nothing waits for review.", icon=":material/task_alt:")
        elif memory is None:
            st.info(f"You skipped all {total} pending memories.", icon=":material/skip_next:")
            st.button("Start over", on_click=st.session_state.pop, args=(SKIPPED_KEY,))
        else:
            skipped = len(st.session_state.get(SKIPPED_KEY, []))
            done = f" · {skipped} skipped" if skipped else ""
            st.progress(0.0 if total <= 1 else skipped / total, text=f"{total:,} pending{done}")
            review_card(alma, memory, scope.reviewer)

with show_error():
    contradictions(alma, scope.agent, scope.reviewer)
