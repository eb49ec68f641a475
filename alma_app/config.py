"""Settings: one declared table of keys with defaults and help, read from .alma/config.yaml.

Every key is validated: an unknown key, a wrong type or an unknown name raises ConfigError
naming the file and the key. Relative `storage_dir` paths resolve against the config file's
directory. `${VAR}` in string values is replaced from the environment (for secrets).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from alma_app.errors import ConfigError

STORAGES = ("lancedb", "memory")
EMBEDDINGS = ("minilm", "hashing")
PRECISIONS = ("auto", "float32", "bfloat16", "int8")  # MiniLM arithmetic
BACKENDS = ("auto", "onnx", "torch")  # what runs MiniLM
DEFAULT_CONFIG_PATH = Path(".alma/config.yaml")


@dataclass(frozen=True)
class AgentScope:
    """What one agent may learn, and how it learns."""

    name: str
    domain: str = "general"
    can_learn: tuple[str, ...] = ()
    cannot_learn: tuple[str, ...] = ()
    min_occurrences_for_heuristic: int = 1  # a floor: the evidence must also support it
    require_review: bool = False
    share_with: tuple[str, ...] = ()


AGENT_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "domain": (str, "the agent's domain (coding, research, ...); informational"),
    "can_learn": (list, "categories the agent may learn; empty means any not forbidden"),
    "cannot_learn": (list, "categories the agent must never learn"),
    "min_occurrences_for_heuristic": (
        int,
        "similar successes needed before a heuristic forms (a floor: the evidence decides)",
    ),
    "require_review": (bool, "learned heuristics/anti-patterns start pending until approved"),
    "share_with": (list, "other agents that may retrieve this agent's memories"),
}


@dataclass(frozen=True)
class RetrievalWeights:
    """How the final score mixes relevance with recency, success rate and confidence."""

    relevance: float = 0.6
    recency: float = 0.1
    success: float = 0.15
    confidence: float = 0.15
    recency_half_life_days: float = 30.0
    min_similarity: float = 0.2  # vector-only hits below this cosine similarity are dropped
    # How much holding the query's words adds to cosine similarity: the memory's IDF-weighted
    # share of the query's terms, raised to match_exponent (alma_app/memory/scoring.py).
    match_weight: float = 0.8
    match_exponent: float = 1.5
    # Where the store reports no such share (LanceDB FTS without the search mirror): how much a
    # strong BM25 match adds instead, and the BM25 score at which a match counts as half strong.
    lexical_weight: float = 0.3
    lexical_saturation: float = 10.0
    candidates: int = 100  # candidates taken from each of the vector and lexical searches
    # A memory written moments before or after a relevant one of the same agent shares its
    # context (alma_app/memory/context_boost.py): its relevance rises by this share of the
    # neighbour's.
    context_weight: float = 0.4
    context_window_s: float = 600.0  # at most this many seconds apart to count as neighbours
    # A memory also matches through the one its agent wrote just before (within the window):
    # its similarity is the best of its own and that of its vector joined by this share of the
    # predecessor's (store/preceding.py; the search mirror only). 0 turns it off.
    preceding_weight: float = 1.0
    # A memory that asks (its text ends with a question mark) holds a question, not its answer:
    # in hybrid ranking its relevance is multiplied by 1 - this (alma_app/memory/scoring.py
    # asks). 0 turns it off.
    question_discount: float = 0.15


@dataclass(frozen=True)
class DecaySettings:
    """Half-lives (days) of confidence per memory type, and the forget threshold."""

    heuristic: float = 90.0
    outcome: float = 30.0
    preference: float = 365.0
    domain_knowledge: float = 180.0
    anti_pattern: float = 120.0
    forget_threshold: float = 0.3

    def half_life(self, memory_type: str) -> float:
        return float(getattr(self, memory_type))


@dataclass(frozen=True)
class Settings:
    """Everything ALMA reads from its config, with defaults."""

    project_id: str = "default"
    storage: str = "lancedb"
    storage_dir: str = ".alma/store"
    storage_options: dict[str, str] = field(default_factory=dict, repr=False)  # holds secrets
    embedding: str = "minilm"
    embedding_precision: str = "auto"
    embedding_backend: str = "auto"
    agents: dict[str, AgentScope] = field(default_factory=dict)
    strict_agents: bool = False
    near_duplicate_similarity: float = 0.95
    related_similarity: float = 0.9
    strategy_similarity: float = 0.75
    retrieval: RetrievalWeights = field(default_factory=RetrievalWeights)
    decay: DecaySettings = field(default_factory=DecaySettings)
    compact_every: int = 256
    search_mirror: bool = True
    config_path: str | None = None

    @property
    def store_uri(self) -> str:
        if self.storage == "memory":
            return "memory://"
        return self.storage_dir

    def agent(self, name: str) -> AgentScope | None:
        return self.agents.get(name)


# The declared table: key -> (type, help). Defaults come from the dataclasses above.
SETTINGS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "project_id": (str, "project the memories belong to"),
    "storage": (str, f"storage backend: one of {', '.join(STORAGES)}"),
    "storage_dir": (str, "LanceDB directory or object-store URI; relative to this file"),
    "storage_options": (dict, "object-store options (account, endpoint, ...); ${VAR} allowed"),
    "embedding": (str, f"embedder: one of {', '.join(EMBEDDINGS)} (hashing is for tests)"),
    "embedding_precision": (
        str,
        "MiniLM arithmetic: auto (onnx: int8 where the CPU has VNNI; torch: bfloat16 where it"
        " has it natively), float32, bfloat16 (torch), int8 (onnx, 8-bit weights)",
    ),
    "embedding_backend": (
        str,
        "what runs MiniLM: auto (onnx where onnxruntime is installed), onnx, torch",
    ),
    "agents": (dict, "agent scopes, keyed by agent name"),
    "strict_agents": (bool, "refuse agents that are not listed under agents"),
    "near_duplicate_similarity": (
        float,
        "similarity from which the health panel counts two memories as near-duplicates",
    ),
    "related_similarity": (
        float,
        "similarity from which a stated fact or preference is compared with the one it "
        "resembles: a restatement reinforces it, a changed value supersedes it, a negation "
        "flags a possible contradiction (alma_app.memory.novelty)",
    ),
    "strategy_similarity": (float, "similarity above which two strategies count as the same"),
    "retrieval": (dict, "score weights: relevance, recency, success, confidence, ..."),
    "decay": (dict, "confidence half-lives in days per memory type, and forget_threshold"),
    "compact_every": (int, "writes per table between automatic compactions"),
    "search_mirror": (
        bool,
        "search an in-process copy of the memories (exact, ~2 ms; ~3.7 KB of RAM per memory)",
    ),
}

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load_settings(path: str | os.PathLike[str]) -> Settings:
    """Read and validate a config file; raises ConfigError naming the file and key."""
    cfg_path = Path(path)
    if not cfg_path.exists():
        raise ConfigError(
            "config file does not exist (create one with `alma init`)", path=str(cfg_path)
        )
    try:
        raw = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", path=str(cfg_path)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text: {exc.reason} at byte {exc.start}", path=str(cfg_path)
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc}", path=str(cfg_path)) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("alma"), dict):
        raise ConfigError("expected a mapping with a top-level `alma:` key", path=str(cfg_path))
    extra = set(raw) - {"alma"}
    if extra:
        raise ConfigError(f"unknown top-level keys {sorted(extra)}", path=str(cfg_path))
    settings = settings_from_dict(raw["alma"], source=str(cfg_path))
    storage_dir = settings.storage_dir
    if settings.storage == "lancedb" and "://" not in storage_dir:
        storage_dir = str((cfg_path.parent / storage_dir).resolve())
    return replace(settings, storage_dir=storage_dir, config_path=str(cfg_path.resolve()))


def settings_from_dict(values: dict[str, Any], *, source: str | None = None) -> Settings:
    """Validate a mapping of settings (the `alma:` section, or keyword arguments)."""
    if not isinstance(values, dict):
        raise ConfigError("settings must be a mapping", path=source)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in SETTINGS:
            raise ConfigError(f"unknown setting; known: {sorted(SETTINGS)}", path=source, key=key)
        expected, _help = SETTINGS[key]
        _check_type(value, expected, source, key)  # before expansion: errors show ${VAR}, no secret
        value = _expand_env(value, source, key)
        kwargs[key] = value
    if kwargs.get("storage", "lancedb") not in STORAGES:
        raise ConfigError(
            f"unknown storage {kwargs['storage']!r}; use one of {STORAGES}",
            path=source,
            key="storage",
        )
    if kwargs.get("embedding", "minilm") not in EMBEDDINGS:
        raise ConfigError(
            f"unknown embedding {kwargs['embedding']!r}; use one of {EMBEDDINGS}",
            path=source,
            key="embedding",
        )
    if kwargs.get("embedding_precision", "auto") not in PRECISIONS:
        raise ConfigError(
            f"unknown embedding precision {kwargs['embedding_precision']!r}; "
            f"use one of {PRECISIONS}",
            path=source,
            key="embedding_precision",
        )
    if kwargs.get("embedding_backend", "auto") not in BACKENDS:
        raise ConfigError(
            f"unknown embedding backend {kwargs['embedding_backend']!r}; use one of {BACKENDS}",
            path=source,
            key="embedding_backend",
        )
    if "project_id" in kwargs and not kwargs["project_id"].strip():
        raise ConfigError("must not be empty", path=source, key="project_id")
    if "agents" in kwargs:
        kwargs["agents"] = _parse_agents(kwargs["agents"] or {}, source)
    if "retrieval" in kwargs:
        kwargs["retrieval"] = _parse_section(
            RetrievalWeights, kwargs["retrieval"], source, "retrieval"
        )
    if "decay" in kwargs:
        kwargs["decay"] = _parse_section(DecaySettings, kwargs["decay"], source, "decay")
    if "storage_options" in kwargs:
        kwargs["storage_options"] = {str(k): str(v) for k, v in kwargs["storage_options"].items()}
    for key in ("near_duplicate_similarity", "related_similarity", "strategy_similarity"):
        if key in kwargs and not 0 < float(kwargs[key]) <= 1:
            raise ConfigError("must be in (0, 1]", path=source, key=key)
    if "compact_every" in kwargs and kwargs["compact_every"] < 1:
        raise ConfigError("must be at least 1", path=source, key="compact_every")
    return Settings(**kwargs)


def _parse_agents(agents: dict[str, Any], source: str | None) -> dict[str, AgentScope]:
    out: dict[str, AgentScope] = {}
    for name, spec in agents.items():
        key = f"agents.{name}"
        if not isinstance(name, str) or not name.strip():
            raise ConfigError("agent names must be non-empty strings", path=source, key=key)
        spec = spec or {}
        if not isinstance(spec, dict):
            raise ConfigError("expected a mapping of agent settings", path=source, key=key)
        kwargs: dict[str, Any] = {"name": name}
        for sub, value in spec.items():
            if sub not in AGENT_KEYS:
                raise ConfigError(
                    f"unknown agent setting; known: {sorted(AGENT_KEYS)}",
                    path=source,
                    key=f"{key}.{sub}",
                )
            expected, _help = AGENT_KEYS[sub]
            _check_type(value, expected, source, f"{key}.{sub}")
            if expected is list:
                if not all(isinstance(v, str) for v in value):
                    raise ConfigError("expected a list of strings", path=source, key=f"{key}.{sub}")
                value = tuple(value)
            kwargs[sub] = value
        if kwargs.get("min_occurrences_for_heuristic", 3) < 1:
            raise ConfigError(
                "must be at least 1", path=source, key=f"{key}.min_occurrences_for_heuristic"
            )
        out[name] = AgentScope(**kwargs)
    return out


def _parse_section(cls: type, values: Any, source: str | None, section: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError("expected a mapping", path=source, key=section)
    known = {f.name for f in fields(cls)}
    parsed: dict[str, float] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(
                f"unknown setting; known: {sorted(known)}", path=source, key=f"{section}.{key}"
            )
        _check_type(value, (int, float), source, f"{section}.{key}")
        if not math.isfinite(float(value)) or float(value) < 0:
            raise ConfigError("must be a finite number >= 0", path=source, key=f"{section}.{key}")
        parsed[key] = int(value) if key == "candidates" else float(value)
    if section == "retrieval" and parsed.get("question_discount", 0.0) > 1:
        raise ConfigError("must be at most 1", path=source, key="retrieval.question_discount")
    if section == "decay" and any(v == 0 for k, v in parsed.items() if k != "forget_threshold"):
        raise ConfigError("half-lives must be greater than 0", path=source, key=section)
    return cls(**parsed)


def _check_type(
    value: Any, expected: type | tuple[type, ...], source: str | None, key: str
) -> None:
    types = expected if isinstance(expected, tuple) else (expected,)
    if bool not in types and isinstance(value, bool):
        ok = False
    elif float in types and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    else:
        ok = isinstance(value, types)
    if not ok:
        names = " or ".join(t.__name__ for t in types)
        raise ConfigError(
            f"expected {names}, got {type(value).__name__} {value!r}", path=source, key=key
        )


def _expand_env(value: Any, source: str | None, key: str) -> Any:
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(f"environment variable {name} is not set", path=source, key=key)
            return os.environ[name]

        return _ENV.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, source, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, source, key) for v in value]
    return value


def resolve_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config, else $ALMA_CONFIG, else .alma/config.yaml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("ALMA_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH
