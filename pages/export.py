"""Export: the prompt context an agent would get for a task, and memories as JSONL or Parquet."""

import streamlit as st

from alma_app.ui import get_alma, show_flash, sidebar
from alma_app.ui.export import file_export, prompt_preview

alma = get_alma()
scope = sidebar(alma)
st.title("Export", anchor=False)
st.caption(
    "See exactly what `retrieve(...).to_prompt()` injects into an agent's prompt, and take "
    "memories elsewhere as JSONL or Parquet files that import back losslessly."
)
show_flash()
prompt_tab, file_tab = st.tabs(
    [":material/receipt_long: Prompt context", ":material/inventory_2: Memories as a file"]
)
with prompt_tab:
    prompt_preview(alma, scope.agents, scope.agent)
with file_tab:
    file_export(alma, scope.agent)
