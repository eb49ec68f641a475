"""Compatibility path: the code lives in alma_app.board.tracker."""

from alma_app.board.tracker import *  # noqa: F403
from alma_app.board.tracker import __all__ as __all__
