"""Compatibility path: the code lives in alma_app.harness.domains."""

from alma_app.harness.domains import *  # noqa: F403
from alma_app.harness.domains import __all__ as __all__
