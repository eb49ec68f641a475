"""Compatibility path: the code lives in alma_app.board.tracker."""

from alma_app.board.tracker import *  # noqa: F403
