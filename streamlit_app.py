"""ALMA dashboard entry point: page config and navigation, nothing else."""

import streamlit as st

st.set_page_config(page_title="ALMA — agent memory", page_icon="🧠", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/overview.py", title="Overview", icon="📊", default=True),
    ]
)
navigation.run()
