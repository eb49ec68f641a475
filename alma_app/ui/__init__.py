"""The only Streamlit-aware code: the cached ALMA handle, shared widgets and error display."""

from alma_app.ui.detail import memory_detail
from alma_app.ui.sidebar import Scope, sidebar
from alma_app.ui.state import config_path, flash, get_alma, run_action, show_error, show_flash
from alma_app.ui.widgets import (
    Filters,
    badges,
    bulk_actions,
    memory_filters,
    memory_frame,
    memory_table,
    type_label,
    undo_banner,
)

__all__ = [
    "Filters",
    "Scope",
    "badges",
    "bulk_actions",
    "config_path",
    "flash",
    "get_alma",
    "memory_detail",
    "memory_filters",
    "memory_frame",
    "memory_table",
    "run_action",
    "show_error",
    "show_flash",
    "sidebar",
    "type_label",
    "undo_banner",
]
