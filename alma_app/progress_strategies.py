"""Compatibility path: the code lives in alma_app.board.strategies."""

from alma_app.board.strategies import *  # noqa: F403
