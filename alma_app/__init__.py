"""ALMA — Agent Learning Memory Architecture.

from alma_app import ALMA
alma = ALMA.from_config(".alma/config.yaml")
memories = alma.retrieve(task="Test the login form", agent="helena", top_k=5)
prompt = memories.to_prompt()
"""

from alma_app.api import ALMA
from alma_app.config import AgentScope, Settings, load_settings
from alma_app.embeddings import Embedder, HashingEmbedder, MiniLMEmbedder
from alma_app.errors import (
    AlmaError,
    ConfigError,
    InvalidTransition,
    MemoryNotFound,
    NotFoundError,
    ScopeViolation,
    StorageError,
    ValidationError,
)
from alma_app.types import (
    AntiPattern,
    DomainKnowledge,
    Heuristic,
    Memory,
    MemoryPage,
    MemorySlice,
    Outcome,
    ScoreBreakdown,
    UserPreference,
)

__all__ = [
    "ALMA",
    "AgentScope",
    "AlmaError",
    "AntiPattern",
    "ConfigError",
    "DomainKnowledge",
    "Embedder",
    "HashingEmbedder",
    "Heuristic",
    "InvalidTransition",
    "Memory",
    "MemoryNotFound",
    "MemoryPage",
    "MemorySlice",
    "MiniLMEmbedder",
    "NotFoundError",
    "Outcome",
    "ScopeViolation",
    "ScoreBreakdown",
    "Settings",
    "StorageError",
    "UserPreference",
    "ValidationError",
    "load_settings",
]
