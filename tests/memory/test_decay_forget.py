"""Confidence decay computed on read, validation, confidence curves, forgetting and restoring."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alma_app import (
    ALMA,
    DomainKnowledge,
    Heuristic,
    MemoryNotFound,
    Outcome,
    UserPreference,
    ValidationError,
    decay,
)
from alma_app.memory.types import utcnow

DAY = timedelta(days=1)


def heuristic(days_old: float, confidence: float = 0.9, **fields) -> Heuristic:
    clock = utcnow() - days_old * DAY
    return Heuristic(
        agent="helena",
        condition=fields.pop("condition", "testing a form"),
        strategy=fields.pop("strategy", "validate each field incrementally"),
        task_type="form_validation",
        confidence=confidence,
        occurrence_count=fields.pop("occurrence_count", 4),
        success_count=fields.pop("success_count", 4),
        last_validated=clock,
        created_at=clock,
        **fields,
    )


def test_half_life_halves_confidence_and_the_crossing_day_is_exact() -> None:
    assert decay.decay_factor(90, 90) == pytest.approx(0.5)
    now = utcnow()
    when = decay.crosses_at(0.8, now, 90, 0.2)  # two half-lives: 0.8 -> 0.4 -> 0.2
    assert when == now + timedelta(days=180)
    assert decay.crosses_at(0.1, now, 90, 0.3) == now  # already below


def test_decay_applied_twice_equals_decay_applied_once(alma: ALMA) -> None:
    memory = heuristic(days_old=90)
    alma.add_memories([memory])
    first = alma.get_memory(memory.id)
    assert first.effective_confidence == pytest.approx(0.45, rel=1e-3)
    alma.forget(dry_run=True)
    alma.forget(older_than_days=10_000)  # a real run that removes nothing
    second = alma.get_memory(memory.id)
    assert second.confidence == 0.9  # nothing was written back
    assert second.effective_confidence == pytest.approx(first.effective_confidence, rel=1e-4)


def test_validation_restarts_the_clock_and_keeps_the_stored_confidence(alma: ALMA) -> None:
    memory = heuristic(days_old=180)
    alma.add_memories([memory])
    assert alma.get_memory(memory.id).effective_confidence == pytest.approx(0.225, rel=1e-3)
    validated = alma.validate(memory.id, actor="reviewer")
    assert validated.confidence == 0.9
    assert utcnow() - validated.last_validated < timedelta(minutes=1)
    assert alma.get_memory(memory.id).effective_confidence == pytest.approx(0.9, rel=1e-3)
    assert alma.history(memory.id)[-1].action == "validate"
    assert alma.history(memory.id)[-1].actor == "reviewer"


def test_confidence_curve_falls_and_marks_the_forget_threshold_crossing(alma: ALMA) -> None:
    memory = heuristic(days_old=10, confidence=0.6)
    alma.add_memories([memory])
    curve = alma.confidence_curve(memory.id, points=30)
    assert len(curve.times) == len(curve.values) == 30
    assert curve.values[0] == pytest.approx(0.6)
    assert all(a > b for a, b in zip(curve.values, curve.values[1:], strict=False))
    assert curve.threshold == alma.settings.decay.forget_threshold
    assert curve.crosses_at == memory.last_validated + timedelta(days=90)  # 0.6 -> 0.3
    before = [t for t, v in zip(curve.times, curve.values, strict=True) if v >= 0.3]
    assert max(before) <= curve.crosses_at < curve.times[-1]

    with pytest.raises(ValidationError):
        alma.confidence_curve(memory.id, start=utcnow(), end=utcnow() - DAY)
    with pytest.raises(MemoryNotFound):
        alma.confidence_curve("missing")


def test_expiring_lists_what_crosses_the_threshold_within_the_window(alma: ALMA) -> None:
    soon = heuristic(days_old=85, confidence=0.6)  # crosses in about 5 days
    later = heuristic(days_old=0, confidence=0.9)  # crosses in about 143 days
    gone = heuristic(days_old=200, confidence=0.6)  # already below
    alma.add_memories([soon, later, gone])
    (expiring,) = alma.expiring(within_days=30)
    assert expiring.memory.id == soon.id
    assert expiring.days_left == pytest.approx(5, abs=0.01)
    assert {e.memory.id for e in alma.expiring(within_days=200)} == {soon.id, later.id}


def test_forget_removes_low_confidence_and_stale_low_value_memories_only(alma: ALMA) -> None:
    faded = heuristic(days_old=200, confidence=0.9)  # effective ~0.19 < 0.3
    stale_outcome = Outcome(
        agent="helena", task="t", strategy_used="s", timestamp=utcnow() - 100 * DAY
    )
    failing = heuristic(days_old=95, occurrence_count=4, success_count=1)  # effective ~0.43
    fresh = heuristic(days_old=1)
    old_pref = UserPreference(
        user_id="alice", preference="tabs", timestamp=utcnow() - 100 * DAY
    )  # effective ~0.83: people's preferences are never low-value by age
    fact = DomainKnowledge(agent="victor", fact="p99 < 200ms", last_verified=utcnow() - 100 * DAY)
    alma.add_memories([faded, stale_outcome, failing, fresh, old_pref, fact])

    result = alma.forget(older_than_days=90, min_confidence=0.3)
    reasons = {item.memory.id: item.reason for item in result.items}
    assert set(reasons) == {faded.id, stale_outcome.id, failing.id}
    assert "below 0.3" in reasons[faded.id]
    assert "succeeded in only 1 of 4" in reasons[failing.id]
    assert alma.stats()["total"] == 3

    only_victor = alma.forget(agent="victor", below_confidence=0.99, dry_run=True)
    assert only_victor.ids == [fact.id]
    with pytest.raises(ValidationError):
        alma.forget(min_confidence=0.2, below_confidence=0.3)


def test_deleted_memories_are_archived_and_can_be_restored(alma: ALMA) -> None:
    memory = heuristic(days_old=0)
    alma.add_memories([memory])
    alma.delete_memories([memory.id], reason="oops")
    assert [a.memory.id for a in alma.list_archived()] == [memory.id]
    (back,) = alma.restore([memory.id])
    assert alma.get_memory(memory.id).strategy == memory.strategy == back.strategy
    assert alma.list_archived() == []
    with pytest.raises(MemoryNotFound):
        alma.restore([memory.id])  # no longer archived


@pytest.mark.model
def test_forget_dry_run_lists_exactly_what_a_real_run_removes_and_restore_brings_it_back(
    model_alma: ALMA,
) -> None:
    faded = heuristic(
        days_old=300, condition="testing a login form", strategy="test validation incrementally"
    )
    kept = heuristic(days_old=2, condition="testing a search box", strategy="type slowly")
    stale = Outcome(
        agent="helena",
        task="Test the login form",
        task_type="form_validation",
        strategy_used="test validation incrementally",
        timestamp=utcnow() - 120 * DAY,
    )
    model_alma.add_memories([faded, kept, stale])

    preview = model_alma.forget(dry_run=True)
    assert preview.dry_run and sorted(preview.ids) == sorted([faded.id, stale.id])
    assert model_alma.stats()["total"] == 3  # a dry run removes nothing

    removed = model_alma.forget()
    assert sorted(removed.ids) == sorted(preview.ids)
    store = model_alma.store
    assert store.get("memories", removed.ids) == []  # no row, no vector left behind
    hits = store.vector_search("memories", model_alma.embedder.embed(["login form"])[0], limit=10)
    assert {h["id"] for h in hits} == {kept.id}
    retrieved = model_alma.retrieve("Test the login form", "helena").heuristics
    assert faded.id not in {h.id for h in retrieved}
    assert sorted(a.memory.id for a in model_alma.list_archived()) == sorted(removed.ids)

    before_restore = utcnow()
    restored = model_alma.restore(removed.ids, actor="reviewer")
    assert sorted(m.id for m in restored) == sorted(removed.ids)
    back = model_alma.get_memory(faded.id)
    assert (back.strategy, back.confidence) == (faded.strategy, faded.confidence)
    # As it was, except the decay clock: it restarts at the restore (see test_restore_...).
    assert back.last_validated >= before_restore > faded.last_validated
    found = model_alma.retrieve("How do I test a login form?", "helena").heuristics
    assert faded.id in {h.id for h in found}
    assert model_alma.list_archived() == []
    assert [e.action for e in model_alma.history(faded.id)] == ["create", "forget", "restore"]


def test_restore_restarts_the_decay_clock_so_the_next_forget_keeps_what_was_restored(
    alma: ALMA,
) -> None:
    faded = heuristic(days_old=300, condition="testing a login form", strategy="retry slowly")
    stale = Outcome(
        agent="helena",
        task="Test the login form",
        task_type="form_validation",
        strategy_used="retry slowly",
        timestamp=utcnow() - 120 * DAY,
    )
    alma.add_memories([faded, stale])
    assert sorted(alma.forget().ids) == sorted([faded.id, stale.id])

    started = utcnow()
    alma.restore([faded.id, stale.id], actor="reviewer")
    assert alma.get_memory(faded.id).last_validated >= started
    assert alma.get_memory(stale.id).timestamp >= started
    assert alma.forget(dry_run=True).ids == []  # not archived again at once
    restore_event = alma.history(faded.id)[-1]
    assert restore_event.action == "restore"
    assert "decay clock restarted" in (restore_event.reason or "")
