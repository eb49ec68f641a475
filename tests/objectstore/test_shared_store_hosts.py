"""Two hosts share one az:// store while a third watches it: nothing is lost or doubled.

One process is an MCP host (a client driving `python -m alma_app.mcp` over stdio), one is an
agent using the library; both learn and retrieve at the same time. A third reads the store
through the dashboard's core calls (list_memories, stats, search) until they finish. Each writer
appends the id it was acknowledged to its own file right after the call returns, so the check
compares the store with what callers were told.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from alma_app import ALMA
from tests.objectstore import azurite as emulator

ROOT = Path(__file__).resolve().parents[2]
KEY_VAR = "ALMA_TEST_AZURE_KEY"
WRITES = 20

COMMON = textwrap.dedent(
    """
    import hashlib, sys
    def task_of(name, i):
        token = hashlib.sha256(f"{name}/{i}".encode()).hexdigest()
        # distinct tasks and strategies: each learn stores one outcome, and its first success
        # forms a heuristic of its own (on probation); nothing joins another learn's
        return (f"{name} task {i} {token[:10]}", f"{token[10:20]} {token[20:30]} {token[30:40]}")
    """
)

MCP_HOST = COMMON + textwrap.dedent(
    """
    import anyio, os
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    config, acks, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

    async def main():
        env = {k: os.environ[k] for k in ("PATH", "HOME", "ALMA_TEST_AZURE_KEY")}
        env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "alma_app.mcp", "--config", config], env=env
        )
        with open(acks + ".log", "w") as log, open(acks, "a") as out:
            async with stdio_client(params, errlog=log) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    for i in range(count):
                        task, strategy = task_of("mcp-host", i)
                        learned = await session.call_tool("alma_learn", {
                            "agent": "mcp-host", "task": task, "outcome": "success",
                            "strategy_used": strategy, "task_type": "testing"})
                        assert not learned.is_error, learned.content
                        outcome_id = learned.structured_content["outcome"]["id"]
                        out.write(outcome_id + "\\n")
                        out.flush()
                        found = await session.call_tool(
                            "alma_retrieve", {"task": task, "agent": "mcp-host"})
                        assert not found.is_error, found.content
                        ids = [m["id"] for m in found.structured_content["memories"]]
                        assert outcome_id in ids, "the host cannot retrieve what it just learned"

    anyio.run(main)
    print("done")
    """
)

LIBRARY_AGENT = COMMON + textwrap.dedent(
    """
    from alma_app import ALMA
    config, acks, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    alma = ALMA.from_config(config)
    with open(acks, "a") as out:
        for i in range(count):
            task, strategy = task_of("library-agent", i)
            result = alma.learn("library-agent", task, "success", strategy, task_type="testing")
            out.write(result.outcome.id + "\\n")
            out.flush()
            found = alma.retrieve(task, "library-agent")
            assert result.outcome.id in [m.id for m in found.outcomes], "lost its own write"
    alma.close()
    print("done")
    """
)

DASHBOARD_READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from alma_app import ALMA
    config, stop, log = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    alma = ALMA.from_config(config)
    with open(log, "a") as out:
        while True:
            finished = stop.exists()
            page = alma.list_memories(memory_type="outcome", limit=100)
            stats = alma.stats()
            hits = alma.search("task", limit=10)
            outcomes = stats["by_type"]["outcome"]  # (each first success adds a heuristic)
            out.write(json.dumps([page.total, outcomes, len(hits)]) + "\\n")
            out.flush()
            if finished:
                break
            time.sleep(0.2)
    print("done")
    """
)


@pytest.mark.slow
def test_an_mcp_host_and_a_library_agent_share_one_blob_store(
    tmp_path: Path, azurite: emulator.Azurite, az_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VAR, emulator.ACCOUNT_KEY)  # the config names it, as in production
    options = dict(azurite.storage_options(), account_key="${" + KEY_VAR + "}")
    config = tmp_path / "config.yaml"
    body = {"project_id": "shared", "storage_dir": az_uri, "embedding": "hashing"}
    config.write_text(yaml.safe_dump({"alma": {**body, "storage_options": options}}))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))
    ALMA.from_config(config).close()  # create the tables once, before the race

    def spawn(script: str, *args: str) -> subprocess.Popen:
        command = [sys.executable, "-c", script, str(config), *args]
        return subprocess.Popen(command, env=env, cwd=ROOT, text=True, **_pipes())

    acks = {name: tmp_path / f"{name}.acks" for name in ("mcp-host", "library-agent")}
    stop, seen = tmp_path / "stop", tmp_path / "reader.log"
    reader = spawn(DASHBOARD_READER, str(stop), str(seen))
    writers = [
        spawn(MCP_HOST, str(acks["mcp-host"]), str(WRITES)),
        spawn(LIBRARY_AGENT, str(acks["library-agent"]), str(WRITES)),
    ]
    try:
        for proc in writers:
            out, err = proc.communicate(timeout=400)
            assert proc.returncode == 0, err[-3000:] + _tail(acks["mcp-host"].with_suffix(".log"))
            assert out.strip().endswith("done")
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err[-3000:]

    acknowledged = {name: path.read_text().split() for name, path in acks.items()}
    assert all(len(ids) == WRITES for ids in acknowledged.values())
    every_id = [i for ids in acknowledged.values() for i in ids]
    check = ALMA.from_config(config)
    try:
        rows = check.store.sql(
            "SELECT id, count(*) AS n FROM memories WHERE type = 'outcome' GROUP BY id",
            tables=["memories"],
        ).to_pylist()
        stored = {r["id"]: r["n"] for r in rows}
        assert stored == dict.fromkeys(every_id, 1), "acknowledged writes missing or doubled"
        events = check.store.sql(
            "SELECT e.entity_id, count(*) AS n FROM events e JOIN memories m ON m.id = e.entity_id "
            "WHERE e.entity = 'memory' AND e.action = 'create' AND m.type = 'outcome' "
            "GROUP BY e.entity_id",
            tables=["events", "memories"],
        ).to_pylist()
        assert {e["entity_id"]: e["n"] for e in events} == dict.fromkeys(every_id, 1)
    finally:
        check.close()

    observed = [yaml.safe_load(line) for line in seen.read_text().splitlines()]
    totals = [total for total, _stats_outcomes, _hits in observed]
    assert len(observed) >= 2, "the dashboard reader did not run alongside the writers"
    assert totals == sorted(totals), "the dashboard saw the outcome count go backwards"
    assert totals[-1] == 2 * WRITES and observed[-1][1] == 2 * WRITES


def _pipes() -> dict:
    return {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:] if path.exists() else ""
