"""The whole core on an az:// store (Azurite): the same features as on a laptop's directory."""

from __future__ import annotations

from dataclasses import replace

import pytest

from alma_app import ALMA, AlmaError, HashingEmbedder
from alma_app.config import settings_from_dict
from alma_app.memory.transfer import import_records, read_records, write_export
from tests.objectstore import azurite as emulator


def learn_login_heuristic(alma: ALMA, agent: str = "helena") -> str:
    for i in range(3):
        result = alma.learn(
            agent,
            f"Test the login form, case {i}",
            "success",
            "use data-testid selectors and wait for the network to be idle",
            task_type="testing_strategies",
        )
    assert result.heuristic is not None
    return result.heuristic.id


def test_learning_retrieval_and_search_work_on_blob_storage(az_alma: ALMA) -> None:
    heuristic_id = learn_login_heuristic(az_alma)
    fact = az_alma.add_domain_knowledge(
        "helena", "selector_patterns", "the checkout button has data-testid=pay"
    )
    az_alma.add_preference("alice", "style", "keep test names in the imperative")

    found = az_alma.retrieve("how do I test the login form?", "helena", user_id="alice")
    assert [h.id for h in found.heuristics] == [heuristic_id]
    assert found.preferences[0].preference == "keep test names in the imperative"
    lexical = az_alma.search("checkout button", mode="lexical", limit=3)  # BM25: FTS index
    assert lexical[0].id == fact.id
    page = az_alma.list_memories(agent="helena", memory_type="outcome")  # DuckDB over az://
    assert page.total == 3
    assert az_alma.stats()["by_type"]["heuristic"] == 1


def test_review_history_and_revert_work_on_blob_storage(az_alma: ALMA) -> None:
    agents = dict(az_alma.settings.agents)
    agents["helena"] = replace(agents["helena"], require_review=True)
    reviewed = az_alma.with_settings(agents=agents)
    heuristic_id = learn_login_heuristic(reviewed)
    assert reviewed.get_memory(heuristic_id).status == "pending"
    reviewed.edit_and_approve(heuristic_id, "alice", strategy="wait for network idle first")
    assert reviewed.get_memory(heuristic_id).status == "approved"
    history = reviewed.history(heuristic_id)
    assert [e.action for e in history][-1] == "approve"
    reverted = reviewed.revert(heuristic_id, history[0].id, actor="alice")
    assert reverted.strategy == "use data-testid selectors and wait for the network to be idle"
    reviewed.close()


def test_work_items_and_sessions_live_in_the_container(az_alma: ALMA, az_settings) -> None:
    item = az_alma.progress.create_work_item("Login form tests", agent="helena", priority=80)
    az_alma.progress.start_item(item.id)
    ctx = az_alma.sessions.start_session("helena", "Finish the login tests")
    az_alma.sessions.create_handoff(
        "helena", ctx.session_id, last_action="wrote tests", last_outcome="success"
    )
    other_host = ALMA(**az_settings)  # a second handle, as another machine would open it
    try:
        assert other_host.progress.get(item.id).status == "in_progress"
        nxt = other_host.sessions.start_session("helena", "Review the login tests")
        assert nxt.previous_handoff.last_action == "wrote tests"
    finally:
        other_host.close()


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_export_from_one_container_imports_into_another(
    az_alma: ALMA, azurite: emulator.Azurite, tmp_path, fmt: str
) -> None:
    learn_login_heuristic(az_alma)
    first = tmp_path / f"first.{fmt}"
    assert write_export(az_alma, first, fmt) == 4
    target_uri = azurite.create_container(f"target-{fmt}") + "/store"
    target = ALMA(
        project_id=az_alma.project_id,
        storage_dir=target_uri,
        storage_options=azurite.storage_options(),
        embedding="hashing",
    )
    try:
        assert import_records(target, read_records(first)) == 4
        second = tmp_path / f"second.{fmt}"
        write_export(target, second, fmt)
        assert first.read_bytes() == second.read_bytes()
    finally:
        target.close()


def test_compaction_merges_fragments_and_keeps_every_row(az_alma: ALMA) -> None:
    nouns = "orders users carts invoices refunds coupons stock prices reviews tags images logs"
    for noun in nouns.split():
        az_alma.add_domain_knowledge("victor", "api_patterns", f"the {noun} endpoint uses cursors")
    assert az_alma.store.fragment_count("memories") >= 12
    az_alma.compact()
    assert az_alma.store.fragment_count("memories") <= 2
    assert az_alma.list_memories(agent="victor").total == 12
    assert az_alma.search("cursor", mode="lexical", limit=20)[0].agent == "victor"


def test_a_wrong_account_key_is_a_clear_error_without_the_key(
    azurite: emulator.Azurite, az_uri: str
) -> None:
    wrong_key = "d3JvbmcgYnV0IHdlbGwgZm9ybWVkIGtleSwgMzIgYnl0ZXMh" * 2
    options = dict(azurite.storage_options(), account_key=wrong_key)
    settings = settings_from_dict(
        {"project_id": "p", "storage_dir": az_uri, "storage_options": options}
    )
    assert wrong_key not in repr(settings)
    with pytest.raises(AlmaError) as failure:  # at connect (ConfigError) or first use
        ALMA(settings, embedder=HashingEmbedder()).list_memories()
    message = str(failure.value)
    assert "rejected the credentials" in message and wrong_key not in message
    causes = [failure.value.__cause__, failure.value.__context__]
    assert all(wrong_key not in str(c) for c in causes if c is not None)


def test_a_missing_container_is_named_as_such(azurite: emulator.Azurite) -> None:
    with pytest.raises(AlmaError, match="container or bucket does not exist"):
        ALMA(
            project_id="p",
            storage_dir="az://no-such-container/store",
            storage_options=azurite.storage_options(),
            embedding="hashing",
        ).add_domain_knowledge("helena", "selector_patterns", "anything")
