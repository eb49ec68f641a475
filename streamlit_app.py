"""ALMA dashboard entry point: page config and navigation, nothing else."""

import streamlit as st

st.set_page_config(page_title="ALMA — agent memory", page_icon="🧠", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/overview.py", title="Overview", icon="📊", default=True),
        st.Page("pages/confidence.py", title="Confidence", icon="📉"),
        st.Page("pages/work_items.py", title="Work items", icon="🗂️"),
        st.Page("pages/sessions.py", title="Sessions", icon="🤝"),
        st.Page("pages/analytics.py", title="Analytics", icon="🔬"),
    ]
)
navigation.run()
