"""Compatibility path: the code lives in alma_app.sessions.manager."""

from alma_app.sessions.manager import *  # noqa: F403
from alma_app.sessions.manager import __all__ as __all__
