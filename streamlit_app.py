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
    "Insight and work": [
        st.Page("pages/confidence.py", title="Confidence", icon="📉"),
        st.Page("pages/work_items.py", title="Work items", icon="🗂️"),
        st.Page("pages/sessions.py", title="Sessions", icon="🤝"),
        st.Page("pages/analytics.py", title="Analytics", icon="🔬"),
    ],
}

navigation = st.navigation(PAGES)
navigation.run()
