"""A memory and its events as one unit, as readers see them.

Lance commits one table at a time, so a write that lands in two tables (a new memory and its
create event commit side by side; an update commits the memory, then its event) can be cut in
half by a crash. Two rules make that invisible:
- readers (history, the dashboard's activity) show a memory's events only when the memory is
  stored or archived: an event whose memory never committed is never shown (see KNOWN_MEMORY);
- on open, a memory that has no event at all gets the create event it lost (`repair_events`),
  written as actor "system" with a reason that says so. Only memories last written more than
  REPAIR_AFTER ago qualify: a younger one may be an insert whose event is committing right now
  in another process.
An acknowledged write has both halves: every writer returns only after both commits.
"""

from __future__ import annotations

from datetime import timedelta

from alma_app.memory.records import to_plain
from alma_app.memory.repository import MemoryRepository
from alma_app.values import utcnow

REPAIR_AFTER = timedelta(minutes=1)
REPAIR_REASON = "repaired: the memory was stored but its create event was lost (a crash)"
REPAIR_LIMIT = 1000  # memories repaired per open; the next open continues

# SQL condition on an events row `e`: its memory is stored or archived (tables memories and
# archive must be registered).
KNOWN_MEMORY = "(entity_id IN (SELECT id FROM memories) OR entity_id IN (SELECT id FROM archive))"


def repair_events(repo: MemoryRepository) -> int:
    """Write the lost create event of every memory that has none; returns how many."""
    with repo.writing("repair-events"):
        ids = repo.events.unlogged("memories", "memory", utcnow() - REPAIR_AFTER, REPAIR_LIMIT)
        if not ids:
            return 0
        memories = repo.get_many(ids)
    repo.log([(m.id, "create", "system", None, to_plain(m), REPAIR_REASON) for m in memories])
    return len(memories)
