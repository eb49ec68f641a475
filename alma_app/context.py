"""CoreContext: what every part of the core is handed instead of fetching it (settings, store,
embedder, event log). ALMA builds one; a ProgressTracker or SessionManager opened on its own
(`ProgressTracker("my-project")`, as in the original's README) builds one from the default config.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import alma_store as st
from alma_app.config import DEFAULT_CONFIG_PATH, Settings, load_settings
from alma_app.embeddings import Embedder, make_embedder
from alma_app.errors import ConfigError
from alma_app.events import EventLog
from alma_app.tables import TABLES


@dataclass(frozen=True)
class CoreContext:
    settings: Settings
    store: st.LanceStore
    embedder: Embedder
    events: EventLog

    @property
    def project_id(self) -> str:
        return self.settings.project_id

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> CoreContext:
        """Open the store the settings name (ConfigError when it cannot be opened)."""
        embedder = embedder or make_embedder(
            settings.embedding, settings.embedding_precision, settings.embedding_backend
        )
        try:
            store = st.open_store(
                settings.store_uri,
                vector_dim=embedder.dim,
                tables=TABLES,
                storage_options=settings.storage_options or None,
                compact_every=settings.compact_every,
                mirror=settings.search_mirror,
            )
        except st.StoreError as exc:
            raise ConfigError(str(exc), path=settings.config_path, key="storage_dir") from exc
        return cls(settings, store, embedder, EventLog(store, settings.project_id))

    @classmethod
    def from_config(
        cls, path: str | os.PathLike[str] = DEFAULT_CONFIG_PATH, embedder: Embedder | None = None
    ) -> CoreContext:
        """The one way the core opens a store on its own: the config file (default
        .alma/config.yaml), as ALMA.from_config does."""
        return cls.open(load_settings(path), embedder)
