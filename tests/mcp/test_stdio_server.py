"""The MCP server as an MCP client sees it: `python -m alma_app.mcp` over stdio, driven by the
SDK's own stdio client and ClientSession."""

from __future__ import annotations

import pytest

from tests.mcp.conftest import run, stdio_session

MEMORY_TOOLS = {
    "alma_retrieve",
    "alma_learn",
    "alma_add_preference",
    "alma_add_knowledge",
    "alma_forget",
    "alma_stats",
    "alma_health",
    "alma_review",
}
WORK_TOOLS = {
    "alma_create_work_item",
    "alma_update_work_item_status",
    "alma_next_work_item",
    "alma_progress_summary",
    "alma_start_session",
    "alma_update_session",
    "alma_create_handoff",
    "alma_quick_reload",
}


@pytest.mark.parametrize("via_cli", [False, True], ids=["python -m alma_app.mcp", "alma mcp"])
def test_tools_are_listed_with_input_and_output_schemas(mcp_config, tmp_path, via_cli):
    async def scenario():
        log = tmp_path / "server.log"
        async with stdio_session(mcp_config(), log, via_cli=via_cli) as client:
            tools = {t.name: t for t in (await client.session.list_tools()).tools}
            assert set(tools) == MEMORY_TOOLS | WORK_TOOLS
            for tool in tools.values():
                assert tool.description, tool.name
                assert tool.input_schema["type"] == "object", tool.name
                assert tool.output_schema is not None, f"{tool.name} has no structured result"
            retrieve = tools["alma_retrieve"].input_schema
            assert retrieve["required"] == ["task", "agent"]
            assert retrieve["properties"]["top_k"]["type"] == "integer"
            assert retrieve["properties"]["top_k"]["maximum"] == 100
            review = tools["alma_review"].input_schema["properties"]["action"]
            assert review["enum"] == ["list_pending", "approve", "reject"]

    run(scenario)


def test_learn_then_retrieve_what_was_learned(mcp_config, tmp_path):
    strategy = "wait for the spinner to vanish, then assert on data-testid selectors"

    async def scenario():
        async with stdio_session(mcp_config(), tmp_path / "server.log") as client:
            results = []
            for form in ("login form", "signup form", "checkout form"):
                results.append(
                    await client.call(
                        "alma_learn",
                        agent="helena",
                        task=f"Test the {form} validation",
                        outcome="success",
                        strategy_used=strategy,
                        task_type="form_validation",
                    )
                )
            assert results[0]["outcome"]["type"] == "outcome"
            assert results[-1]["heuristic_action"] == "created"
            heuristic_id = results[-1]["heuristic"]["id"]

            await client.call(
                "alma_add_knowledge",
                agent="helena",
                domain="testing_strategies",
                fact="The login form locks the account after five failed attempts",
            )
            found = await client.call(
                "alma_retrieve", task="Test the password reset form validation", agent="helena"
            )
            ids = [m["id"] for m in found["memories"]]
            assert heuristic_id in ids
            best = found["memories"][0]
            assert set(best["score"]) >= {"total", "similarity", "lexical", "recency"}
            totals = [m["score"]["total"] for m in found["memories"]]
            assert totals == sorted(totals, reverse=True)
            assert strategy in found["prompt"]

            stats = await client.call("alma_stats", agent="helena")
            assert stats["by_type"]["outcome"] == 3
            assert stats["by_type"]["heuristic"] == 1

    run(scenario)


def test_bad_calls_are_tool_errors_naming_the_argument_and_the_server_keeps_serving(
    mcp_config, tmp_path
):
    async def scenario():
        async with stdio_session(mcp_config(), tmp_path / "server.log") as client:
            error = await client.fail("alma_retrieve", task="login", agent="helena", top_k="many")
            assert "top_k" in error
            error = await client.fail("alma_retrieve", task="", agent="helena")
            assert "task" in error and "empty" in error
            error = await client.fail("alma_retrieve", task="login", agent="helena", top_k=0)
            assert "top_k" in error
            error = await client.fail("alma_retrieve", agent="helena")
            assert "task" in error
            error = await client.fail(
                "alma_learn",
                agent="helena",
                task="Fix the orders query",
                outcome="success",
                strategy_used="add an index",
                task_type="backend_logic",
            )
            assert "backend_logic" in error and "helena" in error
            error = await client.fail(
                "alma_learn", agent="helena", task="x", outcome="meh", strategy_used="y"
            )
            assert "outcome" in error
            error = await client.fail("alma_update_work_item_status", item_id="nope", status="done")
            assert "nope" in error
            error = await client.fail("alma_review", action="approve", ids=[])
            assert "ids" in error

            health = await client.call("alma_health")
            assert health["status"] == "ok"
            assert health["project_id"] == "mcp-test"
            assert health["memories"] == 0
            found = await client.call("alma_retrieve", task="login", agent="helena")
            assert found["total_items"] == 0

    run(scenario)


def test_preferences_reach_the_user_and_review_gates_learned_memories(mcp_config, tmp_path):
    agents = {"helena": {"can_learn": ["form_validation"], "require_review": True}}

    async def scenario():
        async with stdio_session(mcp_config(agents=agents), tmp_path / "server.log") as client:
            pref = await client.call(
                "alma_add_preference",
                user_id="alice",
                category="output",
                preference="Prefers verbose test output with timings",
            )
            found = await client.call(
                "alma_retrieve", task="verbose test output", agent="helena", user_id="alice"
            )
            assert pref["id"] in [m["id"] for m in found["memories"]]
            without_user = await client.call(
                "alma_retrieve", task="verbose test output", agent="helena"
            )
            assert pref["id"] not in [m["id"] for m in without_user["memories"]]

            for form in ("login", "signup", "profile"):
                learned = await client.call(
                    "alma_learn",
                    agent="helena",
                    task=f"Validate the {form} form",
                    outcome="success",
                    strategy_used="submit empty, then fill one field at a time",
                    task_type="form_validation",
                )
            heuristic = learned["heuristic"]
            assert heuristic["status"] == "pending"

            pending = await client.call("alma_review", action="list_pending")
            assert heuristic["id"] in [m["id"] for m in pending["memories"]]
            error = await client.fail(
                "alma_review", action="reject", ids=[heuristic["id"]], reviewer="ana"
            )
            assert "reason" in error
            approved = await client.call(
                "alma_review", action="approve", ids=[heuristic["id"]], reviewer="ana"
            )
            assert approved["count"] == 1 and approved["memories"][0]["status"] == "approved"
            pending = await client.call("alma_review", action="list_pending")
            assert heuristic["id"] not in [m["id"] for m in pending["memories"]]

            dry = await client.call("alma_forget", older_than_days=0, min_confidence=1.0)
            assert dry["dry_run"] is True and dry["count"] >= 1
            stats = await client.call("alma_stats")
            assert stats["total"] == 5  # nothing removed by the dry run
            gone = await client.call(
                "alma_forget", older_than_days=0, min_confidence=1.0, dry_run=False
            )
            assert gone["count"] == dry["count"]
            assert (await client.call("alma_stats"))["total"] == 5 - gone["count"]

    run(scenario)


def test_work_items_and_sessions_carry_over_between_sessions(mcp_config, tmp_path):
    async def scenario():
        async with stdio_session(mcp_config(), tmp_path / "server.log") as client:
            schema = await client.call(
                "alma_create_work_item", title="Design the orders schema", priority=90
            )
            api = await client.call(
                "alma_create_work_item",
                title="Build the orders API",
                agent="victor",
                blocked_by=[schema["id"]],
            )
            assert api["status"] == "blocked"
            nxt = await client.call("alma_next_work_item", agent="victor")
            assert nxt["item"]["id"] == schema["id"]

            error = await client.fail(
                "alma_update_work_item_status", item_id=api["id"], status="in_progress"
            )
            assert "blocked" in error or schema["id"] in error
            await client.call(
                "alma_update_work_item_status", item_id=schema["id"], status="in_progress"
            )
            await client.call("alma_update_work_item_status", item_id=schema["id"], status="done")
            nxt = await client.call("alma_next_work_item", agent="victor")
            assert nxt["item"]["id"] == api["id"] and nxt["item"]["status"] == "pending"
            summary = await client.call("alma_progress_summary")
            assert summary["total"] == 2 and summary["by_status"]["done"] == 1

            first = await client.call(
                "alma_start_session", agent="victor", goal="Ship the orders API"
            )
            assert first["previous_handoff"] is None
            session = await client.call(
                "alma_update_session",
                agent="victor",
                session_id=first["session_id"],
                decision="Paginate with cursors",
            )
            assert session["decisions"] == ["Paginate with cursors"]
            handoff = await client.call(
                "alma_create_handoff",
                agent="victor",
                session_id=first["session_id"],
                last_action="Wrote the list endpoint",
                last_outcome="partial",
                next_steps=["Add the create endpoint"],
                test_status={"passed": 12, "failed": 1},
            )
            assert handoff["key_decisions"] == ["Paginate with cursors"]
            reload = await client.call("alma_quick_reload", agent="victor")
            assert "Add the create endpoint" in reload["text"]

            second = await client.call(
                "alma_start_session", agent="victor", goal="Finish the orders API"
            )
            assert second["previous_handoff"]["id"] == handoff["id"]
            assert "Add the create endpoint" in second["prompt"]

    run(scenario)


@pytest.mark.model
def test_real_model_retrieves_a_paraphrase_of_what_was_learned(mcp_config, tmp_path):
    async def scenario():
        config = mcp_config(embedding="minilm")
        async with stdio_session(config, tmp_path / "server.log") as client:
            fact = await client.call(
                "alma_add_knowledge",
                agent="helena",
                domain="testing_strategies",
                fact="Sign-in tokens expire after twenty-four hours",
            )
            await client.call(
                "alma_add_knowledge",
                agent="helena",
                domain="testing_strategies",
                fact="The product images are served from a CDN",
            )
            question = "How long does an authentication session last?"
            found = await client.call("alma_retrieve", task=question, agent="helena")
            assert found["memories"][0]["id"] == fact["id"]
            assert found["memories"][0]["score"]["similarity"] > 0.3
            health = await client.call("alma_health")
            assert health["embedding"] == "minilm"

    run(scenario)
