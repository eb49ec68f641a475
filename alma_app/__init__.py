"""ALMA — Agent Learning Memory Architecture.

from alma_app import ALMA
alma = ALMA.from_config(".alma/config.yaml")
memories = alma.retrieve(task="Test the login form", agent="helena", top_k=5)
prompt = memories.to_prompt()
"""

import importlib as _importlib
import sys as _sys

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

# Compatibility paths of modules that moved into packages. Their old files are gone, so that git
# follows each move (a branch that edited the old file merges into the new one); importing the
# old name (`from alma_app.writes import Contradiction`) finds the new module. The documented
# paths (alma_app.types, .progress, .session, .domains) and .progress_strategies (pages/
# import it) are real files.
_MOVED = {
    "consistency": "alma_app.memory.consistency",
    "context_boost": "alma_app.memory.context_boost",
    "evidence": "alma_app.memory.evidence",
    "focus": "alma_app.memory.focus",
    "forgetting": "alma_app.memory.forgetting",
    "learning": "alma_app.memory.learning",
    "links": "alma_app.memory.links",
    "memories": "alma_app.memory.repository",
    "novelty": "alma_app.memory.novelty",
    "prompt": "alma_app.memory.prompt",
    "queries": "alma_app.memory.filters",
    "records": "alma_app.memory.records",
    "retrieval": "alma_app.memory.scoring",
    "review": "alma_app.memory.review",
    "search": "alma_app.memory.search",
    "transfer": "alma_app.memory.transfer",
    "usage": "alma_app.memory.usage",
    "writes": "alma_app.memory.writes",
    "progress_import": "alma_app.board.importing",
    "progress_rules": "alma_app.board.rules",
    "progress_types": "alma_app.board.types",
    "session_import": "alma_app.sessions.importing",
    "session_types": "alma_app.sessions.types",
    "domains_builtin": "alma_app.harness.builtin",
}
for _old, _new in _MOVED.items():
    _sys.modules[f"{__name__}.{_old}"] = _importlib.import_module(_new)
    globals()[_old] = _sys.modules[_new]
del _old, _new
# The documented paths are attributes after `import alma_app`, as they were before the move.
from alma_app import domains, progress, progress_strategies, session, types  # noqa: E402, F401

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
