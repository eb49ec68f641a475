"""The archive table: forgotten and deleted memories, whole, so they can be restored.

Written by MemoryRepository.archive_and_delete (a memory leaves `memories` only once its archive
row is stored); read and emptied here, through repo.archive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import alma_store as st
from alma_app.errors import store_errors


class Archive:
    def __init__(self, store: st.LanceStore) -> None:
        self.store = store

    def rows(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The archive's rows of these ids, by id."""
        with store_errors():
            return {r["id"]: r for r in self.store.get("archive", list(ids))}

    def ids(self, ids: Sequence[str]) -> set[str]:
        """The ids among these that are in the archive."""
        with store_errors():
            return {r["id"] for r in self.store.get("archive", list(ids), columns=["id"])}

    def page(self, where: st.Filter, *, limit: int) -> list[dict[str, Any]]:
        """Archive rows matching `where`, most recently archived first."""
        with store_errors():
            return self.store.scan(
                "archive", where, order_by="archived_at", descending=True, limit=limit
            )

    def drop(self, ids: Sequence[str]) -> None:
        """Drop archive rows of memories that are stored again (restore, revert)."""
        with store_errors():
            self.store.delete("archive", list(ids))
