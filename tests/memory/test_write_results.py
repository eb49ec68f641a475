"""write_result and the contradiction API without the model (hashing embedder): what is
returned, what is never stored, and readable errors for bad arguments."""

from __future__ import annotations

import pytest

from alma_app import ALMA, MemoryNotFound, ValidationError
from alma_app.memory.records import to_plain


def test_write_result_says_created_and_is_never_stored(alma: ALMA) -> None:
    memory = alma.add_domain_knowledge("helena", "form_validation", "Email fields accept plus")
    assert memory.write_result == "created"
    assert "write_result" not in to_plain(memory) and "_write_result" not in memory.metadata
    assert alma.get_memory(memory.id).write_result is None
    assert alma.history(memory.id)[0].after.get("write_result") is None


def test_an_exact_repeat_reinforces_and_says_so(alma: ALMA) -> None:
    first = alma.add_preference("alice", "style", "No emojis in commit messages")
    again = alma.add_preference("alice", "style", "No emojis in commit messages")
    assert (first.write_result, again.write_result) == ("created", "reinforced")
    assert again.id == first.id


def test_write_result_only_takes_the_documented_values(alma: ALMA) -> None:
    memory = alma.add_domain_knowledge("helena", "form_validation", "Email fields accept plus")
    with pytest.raises(ValueError):
        memory.write_result = "lost"


def test_contradiction_calls_name_the_bad_argument(alma: ALMA) -> None:
    for call, argument in (
        (lambda: alma.contradictions(limit=0), "limit"),
        (lambda: alma.contradictions(agent=5), "agent"),  # type: ignore[arg-type]
        (lambda: alma.resolve_contradiction(5, "x", "rita"), "memory_id"),  # type: ignore[arg-type]
        (lambda: alma.resolve_contradiction("x", "", "rita"), "other_id"),
        (lambda: alma.resolve_contradiction("x", "y", " "), "reviewer"),
        (lambda: alma.resolve_contradiction("x", "y", "rita", reject="z"), "reject"),
    ):
        with pytest.raises(ValidationError) as bad:
            call()
        assert bad.value.argument == argument
    with pytest.raises(MemoryNotFound):
        alma.resolve_contradiction("nope", "nada", "rita")
    assert alma.contradictions() == [] and alma.stats()["total"] == 0


def test_the_mcp_answer_to_an_add_carries_the_write_result(alma: ALMA) -> None:
    from alma_app.mcp.models import memory_of

    memory = alma.add_domain_knowledge("helena", "form_validation", "Email fields accept plus")
    assert memory_of(memory).write_result == "created"
    assert memory_of(alma.get_memory(memory.id)).write_result is None
