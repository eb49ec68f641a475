"""Domain schemas: what an agent works with (entity and relationship types) and what it may
learn (learning categories), for any domain, not only coding.

    factory = DomainMemoryFactory()
    alma = factory.create_alma(get_research_schema(), "my-research-project")
    sales = factory.create_schema("sales", {"learning_categories": ["objection_handling"]})

A schema's learning categories become the `can_learn` scope of its agents, and its excluded
categories their `cannot_learn`. Bad configs raise ValidationError naming the offending path
(`config.relationship_types[0].source_type`); bad YAML files raise ConfigError naming the file.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from alma_app.config import AgentScope
from alma_app.errors import ConfigError, ValidationError
from alma_app.harness.builtin import BUILTIN

if TYPE_CHECKING:
    from alma_app.api import ALMA

__all__ = [
    "BUILTIN_DOMAINS",
    "DomainMemoryFactory",
    "DomainSchema",
    "EntityType",
    "RelationshipType",
    "get_coding_schema",
    "get_content_creation_schema",
    "get_customer_support_schema",
    "get_general_schema",
    "get_research_schema",
    "get_sales_schema",
]

BUILTIN_DOMAINS = tuple(BUILTIN)
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
CONFIG_KEYS = (
    "description",
    "entity_types",
    "relationship_types",
    "learning_categories",
    "excluded_categories",
    "min_occurrences_for_heuristic",
    "agents",
    "metadata",
)


@dataclass(frozen=True)
class EntityType:
    """A kind of thing agents in the domain work with, and the attributes worth recording."""

    name: str
    description: str = ""
    attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RelationshipType:
    """A typed link between two entity types (source → target)."""

    name: str
    source_type: str
    target_type: str
    description: str = ""


@dataclass(frozen=True)
class DomainSchema:
    """The memory structure of one domain; build with DomainMemoryFactory.create_schema."""

    name: str
    description: str = ""
    entity_types: tuple[EntityType, ...] = ()
    relationship_types: tuple[RelationshipType, ...] = ()
    learning_categories: tuple[str, ...] = ()
    excluded_categories: tuple[str, ...] = ()
    min_occurrences_for_heuristic: int = 3
    agents: tuple[str, ...] = ()  # default agent names for create_alma
    metadata: dict[str, Any] = field(default_factory=dict)

    def get_entity_type(self, name: str) -> EntityType | None:
        return next((e for e in self.entity_types if e.name == name), None)

    def get_relationship_type(self, name: str) -> RelationshipType | None:
        return next((r for r in self.relationship_types if r.name == name), None)

    def is_category_allowed(self, category: str) -> bool:
        return category in self.learning_categories and category not in self.excluded_categories

    def scope(self, agent: str) -> AgentScope:
        """The agent scope this schema gives an agent."""
        return AgentScope(
            name=agent,
            domain=self.name,
            can_learn=self.learning_categories,
            cannot_learn=self.excluded_categories,
            min_occurrences_for_heuristic=self.min_occurrences_for_heuristic,
        )

    def to_dict(self) -> dict[str, Any]:
        """A plain mapping that create_schema (and load_schema, as YAML) accepts back."""
        data = asdict(self)
        data["entity_types"] = [
            {**e, "attributes": list(e["attributes"])} for e in data["entity_types"]
        ]
        data["relationship_types"] = list(data["relationship_types"])
        for key in ("learning_categories", "excluded_categories", "agents"):
            data[key] = list(data[key])
        return data


def _names(path: str, values: Any, *, required: bool = False) -> tuple[str, ...]:
    if values is None:
        values = []
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise ValidationError(path, f"expected a list of names, got {type(values).__name__}")
    if required and not values:
        raise ValidationError(path, "must list at least one name")
    seen: set[str] = set()
    for i, value in enumerate(values):
        _name(f"{path}[{i}]", value)
        if value in seen:
            raise ValidationError(f"{path}[{i}]", f"{value!r} is listed twice")
        seen.add(value)
    return tuple(values)


def _name(path: str, value: Any) -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise ValidationError(
            path,
            f"expected a name of letters, digits, '_' or '-' starting with a letter, got {value!r}",
        )
    return value


def _text(path: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(path, f"expected a string, got {type(value).__name__}")
    return value


def _mapping(path: str, value: Any, known: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(path, f"expected a mapping, got {type(value).__name__}")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValidationError(f"{path}.{unknown[0]}", f"unknown key; known: {list(known)}")
    return value


def _entity(path: str, spec: Any) -> EntityType:
    if isinstance(spec, str):
        return EntityType(_name(path, spec))
    spec = _mapping(path, spec, ("name", "description", "attributes"))
    return EntityType(
        name=_name(f"{path}.name", spec.get("name")),
        description=_text(f"{path}.description", spec.get("description")),
        attributes=_names(f"{path}.attributes", spec.get("attributes")),
    )


def _relationship(path: str, spec: Any, entities: set[str]) -> RelationshipType:
    spec = _mapping(path, spec, ("name", "source_type", "target_type", "description"))
    ends = {}
    for end in ("source_type", "target_type"):
        value = _name(f"{path}.{end}", spec.get(end))
        if value not in entities:
            raise ValidationError(
                f"{path}.{end}",
                f"{value!r} is not a declared entity type; declared: {sorted(entities)}",
            )
        ends[end] = value
    return RelationshipType(
        name=_name(f"{path}.name", spec.get("name")),
        description=_text(f"{path}.description", spec.get("description")),
        **ends,
    )


def build_schema(name: Any, config: Any) -> DomainSchema:
    """Validate a schema config; raises ValidationError naming the offending path."""
    _name("name", name)
    config = _mapping("config", config, CONFIG_KEYS)
    raw_entities = config.get("entity_types") or []
    if not isinstance(raw_entities, list | tuple):
        raise ValidationError("config.entity_types", "expected a list of entity types")
    entities = tuple(_entity(f"config.entity_types[{i}]", e) for i, e in enumerate(raw_entities))
    declared: set[str] = set()
    for i, entity in enumerate(entities):
        if entity.name in declared:
            raise ValidationError(
                f"config.entity_types[{i}].name", f"{entity.name!r} is listed twice"
            )
        declared.add(entity.name)
    raw_relations = config.get("relationship_types") or []
    if not isinstance(raw_relations, list | tuple):
        raise ValidationError("config.relationship_types", "expected a list of relationship types")
    relations = tuple(
        _relationship(f"config.relationship_types[{i}]", r, declared)
        for i, r in enumerate(raw_relations)
    )
    learning = _names(
        "config.learning_categories", config.get("learning_categories"), required=True
    )
    excluded = _names("config.excluded_categories", config.get("excluded_categories"))
    both = sorted(set(learning) & set(excluded))
    if both:
        raise ValidationError(
            "config.excluded_categories", f"{both[0]!r} is also a learning category"
        )
    occurrences = config.get("min_occurrences_for_heuristic", 3)
    if isinstance(occurrences, bool) or not isinstance(occurrences, int) or occurrences < 1:
        raise ValidationError(
            "config.min_occurrences_for_heuristic", f"expected an integer >= 1, got {occurrences!r}"
        )
    metadata = config.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValidationError("config.metadata", "expected a mapping")
    return DomainSchema(
        name=name,
        description=_text("config.description", config.get("description")),
        entity_types=entities,
        relationship_types=relations,
        learning_categories=learning,
        excluded_categories=excluded,
        min_occurrences_for_heuristic=occurrences,
        agents=_names("config.agents", config.get("agents")),
        metadata=dict(metadata),
    )


class DomainMemoryFactory:
    """Builds, validates, loads and remembers domain schemas, and ALMAs scoped by them."""

    def __init__(self) -> None:
        self._schemas: dict[str, DomainSchema] = {
            name: build_schema(name, copy.deepcopy(spec)) for name, spec in BUILTIN.items()
        }

    def list_schemas(self) -> list[str]:
        return sorted(self._schemas)

    def get_schema(self, name: str) -> DomainSchema:
        """A known schema by name; raises ValidationError listing the known ones."""
        try:
            return self._schemas[name]
        except (KeyError, TypeError):
            raise ValidationError(
                "domain", f"unknown domain {name!r}; known: {self.list_schemas()}"
            ) from None

    def create_schema(self, name: str, config: dict[str, Any]) -> DomainSchema:
        """Validate a config into a schema and remember it under its name (replacing any)."""
        schema = build_schema(name, config)
        self._schemas[name] = schema
        return schema

    def load_schema(self, path: str | os.PathLike[str]) -> DomainSchema:
        """A schema from a YAML file: a mapping with `name` plus the create_schema keys."""
        file = Path(path)
        try:
            raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc}", path=str(file)) from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"not valid YAML: {exc}", path=str(file)) from exc
        if not isinstance(raw, dict) or "name" not in raw:
            raise ConfigError("expected a mapping with a `name` key", path=str(file))
        config = {k: v for k, v in raw.items() if k != "name"}
        try:
            return self.create_schema(raw["name"], config)
        except ValidationError as exc:
            key = exc.argument.removeprefix("config.")
            raise ConfigError(str(exc).split(": ", 1)[-1], path=str(file), key=key) from exc

    def create_alma(
        self,
        schema: DomainSchema | str,
        project_id: str,
        agents: list[str] | tuple[str, ...] | None = None,
        **alma_options: Any,
    ) -> ALMA:
        """An ALMA for project_id whose agents (the given names, else the schema's, else
        `<domain>_agent`) may learn exactly the schema's learning categories.

        alma_options go to ALMA(...): storage, storage_dir, embedding, embedder, ...
        """
        from alma_app.api import ALMA

        if isinstance(schema, str):
            schema = self.get_schema(schema)
        if not isinstance(schema, DomainSchema):
            raise ValidationError(
                "schema", f"expected a DomainSchema or a domain name, got {schema!r}"
            )
        if "agents" in alma_options or "project_id" in alma_options:
            raise ValidationError("alma_options", "agents and project_id come from the arguments")
        names = (
            _names("agents", list(agents)) if agents else schema.agents or (f"{schema.name}_agent",)
        )
        scopes = {
            name: {
                "domain": schema.name,
                "can_learn": list(schema.learning_categories),
                "cannot_learn": list(schema.excluded_categories),
                "min_occurrences_for_heuristic": schema.min_occurrences_for_heuristic,
            }
            for name in names
        }
        embedder = alma_options.pop("embedder", None)
        return ALMA(embedder=embedder, project_id=project_id, agents=scopes, **alma_options)


_DEFAULT = DomainMemoryFactory()


def get_coding_schema() -> DomainSchema:
    return _DEFAULT.get_schema("coding")


def get_research_schema() -> DomainSchema:
    return _DEFAULT.get_schema("research")


def get_sales_schema() -> DomainSchema:
    return _DEFAULT.get_schema("sales")


def get_general_schema() -> DomainSchema:
    return _DEFAULT.get_schema("general")


def get_customer_support_schema() -> DomainSchema:
    return _DEFAULT.get_schema("customer_support")


def get_content_creation_schema() -> DomainSchema:
    return _DEFAULT.get_schema("content_creation")
