"""What a caller wrote is never silently overwritten, and a handle behaves: versions and
conflicts, a memory and its events as one unit, close() and `with`, copies out of the cache."""

from __future__ import annotations

import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest

from alma_app import ALMA, ClosedError, ConflictError, Heuristic
from alma_app.analytics import recent_activity
from alma_app.memory.consistency import REPAIR_REASON
from alma_app.memory.records import to_row
from alma_app.memory.types import DomainKnowledge, utcnow
from tests.conftest import AGENTS


def test_every_update_moves_the_version_and_a_stale_expected_version_is_refused(alma):
    fact = alma.add_domain_knowledge("helena", "form_validation", "emails need an @ sign")
    assert fact.version == 0
    edited = alma.update_memory(fact.id, shared_with=["victor"])
    assert edited.version == 1
    approved = alma.approve([fact.id], "reviewer")  # already approved: nothing to do
    assert approved == []
    alma.reject([fact.id], "reviewer", reason="outdated")
    assert alma.get_memory(fact.id).version == 2

    with pytest.raises(ConflictError) as conflict:  # the form was filled in at version 1
        alma.update_memory(fact.id, expected_version=1, fact="emails need one @ sign")
    assert conflict.value.memory_ids == [fact.id]
    kept = alma.get_memory(fact.id)
    assert (kept.fact, kept.status, kept.version) == ("emails need an @ sign", "rejected", 2)
    assert alma.update_memory(fact.id, expected_version=2, fact="one @ sign").version == 3


def test_an_edit_made_on_a_stale_read_keeps_the_change_made_meanwhile(alma):
    fact = alma.add_domain_knowledge("helena", "form_validation", "zip codes have five digits")
    stale = alma.get_memory(fact.id)
    alma.reject([fact.id], "reviewer", reason="check it")  # another caller, after our read
    # A plain save of the stale copy would put status back to approved: it is refused ...
    copy = alma.repo.copy(stale)
    copy.shared_with = ["victor"]
    with pytest.raises(ConflictError):
        alma.repo.save(copy, before=stale, actor="x", action="edit")
    # ... and update_memory re-applies the edit on the latest version instead.
    alma.update_memory(fact.id, shared_with=["victor"])
    now = alma.get_memory(fact.id)
    assert (now.status, now.shared_with) == ("rejected", ["victor"])
    assert [e.action for e in alma.history(fact.id)] == ["create", "reject", "edit"]
    assert all("version" not in e.changed_fields() for e in alma.history(fact.id))


def test_a_revert_against_a_memory_that_moved_on_is_a_conflict_not_a_silent_undo(alma):
    fact = alma.add_domain_knowledge("helena", "form_validation", "names may hold apostrophes")
    alma.update_memory(fact.id, fact="names may hold apostrophes and hyphens")
    create = alma.history(fact.id)[0]
    current = alma.get_memory(fact.id)
    alma.reject([fact.id], "reviewer", reason="too vague")  # lands between read and write
    target = alma.repo.copy(current)
    target.status = "approved"
    with pytest.raises(ConflictError):
        alma.repo.save(target, before=current, actor="x", action="revert")
    assert alma.revert(fact.id, create.id).fact == "names may hold apostrophes"


def test_a_handle_is_a_context_manager_and_refuses_every_call_once_closed(tmp_path):
    with ALMA(project_id="p", storage_dir=str(tmp_path / "s"), embedding="hashing") as alma:
        fact = alma.add_domain_knowledge("helena", "auth", "tokens expire after an hour")
    assert alma.closed
    alma.close()  # idempotent
    calls = [
        lambda: alma.retrieve("token expiry", agent="helena"),
        lambda: alma.get_memory(fact.id),
        lambda: alma.list_memories(),
        lambda: alma.add_domain_knowledge("helena", "auth", "refresh tokens last a day"),
        lambda: alma.update_memory(fact.id, shared_with=["victor"]),
        lambda: alma.approve([fact.id], "reviewer"),
        lambda: alma.learn("helena", "log in", "success", "use the API", task_type="auth"),
        lambda: alma.history(fact.id),
        lambda: alma.forget(),
        lambda: alma.stats(),
        lambda: alma.with_settings(),
    ]
    for call in calls:
        with pytest.raises(ClosedError, match="closed"):
            call()
    reopened = ALMA(alma.settings, embedder=alma.embedder)
    assert reopened.get_memory(fact.id).fact == "tokens expire after an hour"
    reopened.close()


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()
    }


def test_after_close_nothing_writes_under_the_store_and_it_can_be_removed() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = {"project_id": "p", "storage_dir": tmp, "embedding": "hashing"}
        with ALMA(**config, compact_every=8) as alma:
            for i in range(20):  # enough writes to start background compaction
                alma.add_domain_knowledge("helena", "auth", f"fact number {i} about tokens")
                alma.retrieve(f"tokens {i}", agent="helena")  # usage counts to flush
        before = _snapshot(Path(tmp))
        time.sleep(1.0)  # a background thread still running would write within this second
        assert _snapshot(Path(tmp)) == before
    assert not os.path.exists(tmp)  # TemporaryDirectory removed it: nothing wrote meanwhile


def test_retrieve_hands_out_copies_the_caller_may_change(alma):
    alma.add_domain_knowledge("helena", "form_validation", "passwords need twelve characters")
    first = alma.retrieve("password length", agent="helena")
    (fact,) = first.domain_knowledge
    fact.fact = "changed by the caller"
    fact.shared_with.append("mallory")
    fact.metadata["note"] = "scribbled"
    first.domain_knowledge.clear()
    again = alma.retrieve("password length", agent="helena")  # served from the cache
    (cached,) = again.domain_knowledge
    assert cached.fact == "passwords need twelve characters"
    assert cached.shared_with == [] and cached.metadata == {}


def test_history_and_activity_never_show_an_event_whose_memory_never_committed(alma):
    real = alma.add_domain_knowledge("helena", "form_validation", "sessions end when idle")
    ghost = DomainKnowledge(agent="helena", domain="form_validation", fact="never stored")
    # What a crash between the two commits of an insert can leave: the event, not the memory.
    alma.repo.log([(ghost.id, "create", "helena", None, {"fact": ghost.fact}, None)])
    assert alma.history(ghost.id) == []
    shown = {row["memory_id"] for row in recent_activity(alma)}
    assert shown == {real.id}
    alma.delete_memory(real.id)  # archived memories keep their history
    assert [e.action for e in alma.history(real.id)] == ["create", "delete"]
    assert {row["memory_id"] for row in recent_activity(alma)} == {real.id}


def test_opening_a_store_repairs_the_lost_create_event_of_a_stored_memory(tmp_path):
    settings = {"project_id": "p", "storage_dir": str(tmp_path), "embedding": "hashing"}
    with ALMA(**settings, agents=AGENTS) as alma:
        orphan = Heuristic(agent="helena", strategy="retry with backoff", project_id="p")
        orphan.updated_at = utcnow() - timedelta(minutes=5)
        vector = alma.embedder.embed([orphan.text()])[0]
        alma.store.add("memories", [to_row(orphan, vector)])  # stored, its event lost
        assert alma.history(orphan.id) == []
    with ALMA(**settings, agents=AGENTS) as alma:
        (event,) = alma.history(orphan.id)
        assert (event.action, event.actor, event.reason) == ("create", "system", REPAIR_REASON)
    with ALMA(**settings, agents=AGENTS) as alma:
        assert len(alma.history(orphan.id)) == 1  # repaired once, not on every open
