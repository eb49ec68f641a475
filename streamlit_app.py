"""ALMA dashboard entry point: page config and navigation, nothing else."""

import streamlit as st

st.set_page_config(page_title="ALMA — agent memory", page_icon="🧠", layout="wide")

# Navigation sections; add a page by adding its st.Page to a section (or a new section).
PAGES = {
    "Memory": [
        st.Page("pages/overview.py", title="Overview", icon="📊", default=True),
        st.Page("pages/memories.py", title="Memories", icon="🧠"),
        st.Page("pages/review.py", title="Review queue", icon="📝"),
        st.Page("pages/export.py", title="Export", icon="📤"),
    ],
}

navigation = st.navigation(PAGES)
navigation.run()
