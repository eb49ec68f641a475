"""A write that changes a stored memory (supersede, reinforce, a learned heuristic) reads it from
the store's search mirror on disk, not through a LanceDB query: the same memories come out with
the mirror on or off, and a change another caller makes after the read is still kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alma_app import ALMA
from alma_app.memory import links
from tests.conftest import AGENTS

FACTS = [
    "the nightly export needs the replica lag below 5 seconds",
    "login forms must show an error under the field",
    "the nightly export needs the replica lag below 9 seconds",  # supersedes the first
    "login forms must show an error under the field",  # a restatement: reinforced
    "the nightly export needs the replica lag below 9 seconds!",
]


def open_alma(path: Path, *, mirror: bool = True) -> ALMA:
    return ALMA(
        project_id="test-project",
        storage_dir=str(path),
        embedding="hashing",
        agents=AGENTS,
        search_mirror=mirror,
    )


def test_a_supersede_keeps_a_change_made_to_the_old_memory_after_it_was_read(
    tmp_path: Path,
) -> None:
    alma, other = open_alma(tmp_path / "s"), open_alma(tmp_path / "s")  # two callers, one store
    try:
        old = alma.add_domain_knowledge("helena", "form_validation", FACTS[0])
        alma.retrieve("replica lag", agent="helena")  # the mirror holds the old memory now
        save = alma.repo.save
        interleaved: list[str] = []

        def reviewer_writes_first(memory: Any, **kwargs: Any) -> Any:
            if not interleaved:  # between the supersede's read and its conditional write
                interleaved.append(memory.id)
                other.reject([old.id], "reviewer", reason="checking it")
            return save(memory, **kwargs)

        alma.repo.save = reviewer_writes_first  # type: ignore[method-assign]
        new = alma.add_domain_knowledge("helena", "form_validation", FACTS[2])
        assert new.write_result == "superseded" and interleaved == [old.id]
        kept = other.get_memory(old.id)
        assert kept.status == "rejected"  # the reviewer's change, read again and kept
        assert links.superseded_by(kept) == new.id  # and the supersede applied on top
        assert [e.action for e in other.history(old.id)] == ["create", "reject", "supersede"]
    finally:
        other.close()
        alma.close()


def stored(alma: ALMA) -> list[tuple[Any, ...]]:
    """Every memory with the fields a write decides, its links as positions in creation order."""
    memories = alma.repo.find(None, limit=1000, order_by="created_at", descending=False).items
    position = {m.id: i for i, m in enumerate(memories)}

    def linked(value: Any) -> Any:
        if isinstance(value, list):
            return [position.get(v, v) for v in value]
        return position.get(value, value)

    return [
        (
            m.TYPE,
            m.text(),
            m.status,
            round(m.stored_confidence, 6),
            m.version,
            {k: linked(v) for k, v in m.metadata.items()},
        )
        for m in memories
    ]


def test_the_same_calls_store_the_same_memories_with_the_mirror_on_or_off(tmp_path: Path) -> None:
    results: dict[bool, tuple[list[str], list[tuple[Any, ...]]]] = {}
    for mirror in (True, False):
        with open_alma(tmp_path / f"mirror-{mirror}", mirror=mirror) as alma:
            actions = [
                alma.add_domain_knowledge("helena", "form_validation", f).write_result
                for f in FACTS
            ]
            for outcome in ("success", "success", "failure", "success", "success", "failure"):
                learned = alma.learn(
                    "helena",
                    "fill the signup form",
                    outcome,
                    "wait for the submit button to be enabled",
                    task_type="form_validation",
                )
                actions.append(f"{learned.heuristic_action}/{learned.anti_pattern_action}")
            results[mirror] = (actions, stored(alma))
    assert results[True] == results[False]
    assert results[True][0][:5] == ["created", "created", "superseded", "reinforced", "reinforced"]
    assert results[True][0][-3:] == ["created/None", "reinforced/None", "weakened/None"]
