"""One ALMA per config file per server process, and one way to show core errors on a page."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st

from alma_app.api import ALMA
from alma_app.config import resolve_config_path
from alma_app.errors import AlmaError
from alma_app.ui.auth import require_password


def config_path() -> str:
    """--config after `--` on the streamlit command line, else $ALMA_CONFIG, else the default."""
    argv = sys.argv[1:]
    explicit = None
    if "--config" in argv:
        index = argv.index("--config")
        if index + 1 < len(argv):
            explicit = argv[index + 1]
    return str(resolve_config_path(explicit).resolve())


@st.cache_resource(show_spinner="Opening the memory store…")
def _open(path: str) -> ALMA:
    return ALMA.from_config(path)


def get_alma() -> ALMA:
    """The shared ALMA handle; stops the page with a readable message if it cannot open.

    Every page starts here, so the password gate (off loopback) runs here too: a page URL opened
    directly can never skip it.
    """
    require_password()
    try:
        return _open(config_path())
    except AlmaError as exc:
        st.error(f"Cannot open the memory store: {exc}")
        st.stop()
        raise  # unreachable: st.stop() raises


@contextmanager
def show_error() -> Iterator[None]:
    """Show core errors as a readable message on the page, never a traceback."""
    try:
        yield
    except AlmaError as exc:
        st.error(str(exc))


FLASH_KEY = "alma_flash"
GENERATION_KEY = "alma_generation"  # bumped by every write: selectable tables start afresh


def flash(message: str, kind: str = "success") -> None:
    """Keep a message for the next run of the page (actions run in callbacks or before rerun)."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def show_flash() -> None:
    """Show, once, the messages the last action left, at the top of the page."""
    for kind, message in st.session_state.pop(FLASH_KEY, []):
        if kind == "error":
            st.error(message, icon=":material/error:")
        else:
            st.success(message, icon=":material/check_circle:")


def run_action(action: Callable[[], str]) -> None:
    """Run a write from a widget callback; its message or its AlmaError becomes a flash."""
    try:
        flash(action())
    except AlmaError as exc:
        flash(str(exc), "error")
    else:
        st.session_state[GENERATION_KEY] = generation() + 1


def generation() -> int:
    """How many writes this session made; part of the keys of selectable tables."""
    return int(st.session_state.get(GENERATION_KEY, 0))
