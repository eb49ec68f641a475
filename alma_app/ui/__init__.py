"""The only Streamlit-aware code: the cached ALMA handle, shared widgets and error display."""

from alma_app.ui.state import config_path, get_alma, show_error

__all__ = ["config_path", "get_alma", "show_error"]
