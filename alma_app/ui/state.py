"""One ALMA per config file per server process, and one way to show core errors on a page."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from alma_app.api import ALMA
from alma_app.config import resolve_config_path
from alma_app.errors import AlmaError


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
    """The shared ALMA handle; stops the page with a readable message if it cannot open."""
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
