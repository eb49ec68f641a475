"""ALMA dashboard entry point: page config, the password gate and navigation, nothing else."""

import streamlit as st

from alma_app.ui.auth import require_password

st.set_page_config(
    page_title="ALMA — agent memory", page_icon=":material/psychology:", layout="wide"
)

# Navigation sections; add a page by adding its st.Page to a section (or a new section).
PAGES = {
    "Memory": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/memories.py", title="Memories", icon=":material/psychology:"),
        st.Page("pages/review.py", title="Review queue", icon=":material/rate_review:"),
        st.Page("pages/export.py", title="Export", icon=":material/ios_share:"),
    ],
    "Insight and work": [
        st.Page("pages/confidence.py", title="Confidence", icon=":material/trending_down:"),
        st.Page("pages/work_items.py", title="Work items", icon=":material/view_kanban:"),
        st.Page("pages/sessions.py", title="Sessions", icon=":material/handshake:"),
        st.Page("pages/analytics.py", title="Analytics", icon=":material/analytics:"),
    ],
}

require_password()  # off loopback, nothing (not even the navigation) shows before sign-in
navigation = st.navigation(PAGES)
navigation.run()
