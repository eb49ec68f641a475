"""ALMA — Agent Learning Memory Architecture.

from alma_app import ALMA
alma = ALMA.from_config(".alma/config.yaml")
memories = alma.retrieve(task="Test the login form", agent="helena", top_k=5)
prompt = memories.to_prompt()
"""

# The documented paths are attributes after `import alma_app`, as they were before the move.
from alma_app import domains, progress, progress_strategies, session, types  # noqa: F401
from alma_app.api import ALMA
from alma_app.board.tracker import ProgressTracker
from alma_app.config import AgentScope, Settings, load_settings
from alma_app.embeddings import Embedder, HashingEmbedder, MiniLMEmbedder
from alma_app.errors import (
    AlmaError,
    ClosedError,
    ConfigError,
    ConflictError,
    InvalidTransition,
    MemoryNotFound,
    NotFoundError,
    ScopeViolation,
    StorageError,
    ValidationError,
)
from alma_app.harness import Agent, Context, MemorySchema, Setting, create_harness
from alma_app.memory.forgetting import ArchivedMemory, ExpiringMemory, ForgetResult
from alma_app.memory.learning import LearnResult
from alma_app.memory.review import HistoryEvent
from alma_app.memory.types import (
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
from alma_app.memory.writes import Contradiction
from alma_app.sessions.manager import SessionManager

__all__ = [
    "ALMA",
    "Agent",
    "AgentScope",
    "AlmaError",
    "AntiPattern",
    "ArchivedMemory",
    "ClosedError",
    "ConfigError",
    "ConflictError",
    "Context",
    "Contradiction",
    "DomainKnowledge",
    "Embedder",
    "ExpiringMemory",
    "ForgetResult",
    "HashingEmbedder",
    "Heuristic",
    "HistoryEvent",
    "InvalidTransition",
    "LearnResult",
    "Memory",
    "MemoryNotFound",
    "MemoryPage",
    "MemorySchema",
    "MemorySlice",
    "MiniLMEmbedder",
    "NotFoundError",
    "Outcome",
    "ProgressTracker",
    "ScopeViolation",
    "ScoreBreakdown",
    "SessionManager",
    "Setting",
    "Settings",
    "StorageError",
    "UserPreference",
    "ValidationError",
    "create_harness",
    "load_settings",
]
