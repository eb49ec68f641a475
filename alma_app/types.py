"""Compatibility path: the code lives in alma_app.memory.types."""

from alma_app.memory.types import *  # noqa: F403
