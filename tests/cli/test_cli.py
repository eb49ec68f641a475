"""The `alma` command, called as `cli.main([...])` the way the console script calls it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from alma_app import ALMA, cli, load_settings
from tests.conftest import AGENTS

COMMANDS = ("init", "demo", "stats", "search", "export", "import", "forget", "mcp", "ui")


def make_config(tmp_path: Path, name: str) -> str:
    """A config for a fresh store under tmp_path/name (hashing embedder, same project)."""
    path = tmp_path / name / "config.yaml"
    path.parent.mkdir(parents=True)
    body = {"project_id": "cli-test", "embedding": "hashing", "agents": AGENTS}
    path.write_text(yaml.safe_dump({"alma": body}))
    return str(path)


def alma_cmd(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def demo_config(tmp_path, capsys) -> str:
    config = make_config(tmp_path, "demo")
    code, out, _ = alma_cmd(capsys, "--config", config, "demo")
    assert code == 0 and "memories and" in out
    return config


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: alma {command}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fmt", "extra"), [("jsonl", []), ("parquet", []), ("jsonl", ["--no-embeddings"])]
)
def test_export_import_export_round_trip_gives_identical_files(
    fmt, extra, demo_config, tmp_path, capsys
):
    first = tmp_path / f"first.{fmt}"
    code, out, _ = alma_cmd(
        capsys, "--config", demo_config, "export", "--format", fmt, "--out", str(first), *extra
    )
    assert code == 0
    exported = int(out.split()[1])
    assert exported == ALMA.from_config(demo_config).stats()["total"] > 100

    empty = make_config(tmp_path, "empty")
    code, out, err = alma_cmd(capsys, "--config", empty, "import", str(first))
    assert code == 0 and f"imported {exported} memories" in out
    assert f"[{'#' * 30}] {exported}/{exported}" in err  # the progress bar reached the end

    second = tmp_path / f"second.{fmt}"
    code, _, _ = alma_cmd(
        capsys, "--config", empty, "export", "--format", fmt, "--out", str(second), *extra
    )
    assert code == 0
    assert second.read_bytes() == first.read_bytes()


def test_import_without_embeddings_recomputes_them_so_search_finds_memories(
    demo_config, tmp_path, capsys
):
    lean = tmp_path / "lean.jsonl"
    alma_cmd(capsys, "--config", demo_config, "export", "--out", str(lean), "--no-embeddings")
    assert all("embedding" not in json.loads(line) for line in lean.read_text().splitlines())
    target = make_config(tmp_path, "target")
    assert alma_cmd(capsys, "--config", target, "import", str(lean))[0] == 0

    query = "data-testid selectors"
    _, before, _ = alma_cmd(capsys, "--config", demo_config, "search", query, "--mode", "vector")
    _, after, _ = alma_cmd(capsys, "--config", target, "search", query, "--mode", "vector")
    assert after.splitlines() and after.splitlines() == before.splitlines()


def test_export_of_several_agents_holds_exactly_their_memories(demo_config, tmp_path, capsys):
    out_file = tmp_path / "two.jsonl"
    code, _, _ = alma_cmd(
        capsys,
        "--config",
        demo_config,
        "export",
        "--out",
        str(out_file),
        "--agent",
        "helena",
        "--agent",
        "victor",
    )
    assert code == 0
    agents = [json.loads(line)["agent"] for line in out_file.read_text().splitlines()]
    by_agent = ALMA.from_config(demo_config).stats()["by_agent"]
    assert sorted(set(agents)) == ["helena", "victor"]
    assert len(agents) == by_agent["helena"] + by_agent["victor"]


def test_search_prints_ranked_hits_with_scores(demo_config, capsys):
    code, out, _ = alma_cmd(
        capsys, "--config", demo_config, "search", "login form", "--agent", "helena", "--limit", "3"
    )
    assert code == 0
    lines = out.splitlines()
    assert 1 <= len(lines) <= 3
    scores = [float(line.split()[0]) for line in lines]
    assert scores == sorted(scores, reverse=True)
    assert all(" helena " in line for line in lines)

    code, out, _ = alma_cmd(
        capsys, "--config", demo_config, "search", "login", "--type", "heuristic", "--json"
    )
    hits = json.loads(out)
    assert hits and {h["type"] for h in hits} == {"heuristic"}
    assert "total" in hits[0]["score"]


def test_forget_dry_run_lists_without_removing_then_forgets(demo_config, capsys):
    before = ALMA.from_config(demo_config).stats()["total"]
    args = ("--config", demo_config, "forget", "--older-than-days", "0", "--min-confidence", "0.9")
    code, out, _ = alma_cmd(capsys, *args, "--dry-run")
    assert code == 0
    would = int(out.splitlines()[-1].split()[2])
    assert would > 0 and len(out.splitlines()) == would + 1
    assert ALMA.from_config(demo_config).stats()["total"] == before

    code, out, _ = alma_cmd(capsys, *args)
    assert code == 0 and out.splitlines()[-1].startswith(f"forgot {would} memories")
    assert ALMA.from_config(demo_config).stats()["total"] == before - would


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["stats"], "does not exist"),
        (["search", "", "--agent", "helena"], "query"),
        (["search", "login", "--limit", "0"], "limit"),
        (["import", "missing.jsonl"], "missing.jsonl"),
        (["export", "--out", "no/such/dir/x.jsonl"], "no/such/dir"),
        (["forget", "--min-confidence", "2"], "min_confidence"),
        (["mcp", "--transport", "http", "--host", "0.0.0.0"], "ALMA_MCP_TOKEN"),
        (["search"], "query"),
        (["export", "--format", "csv", "--out", "x"], "csv"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALMA_MCP_TOKEN", raising=False)
    config = str(tmp_path / "absent.yaml") if argv == ["stats"] else make_config(tmp_path, "s")
    try:
        code = cli.main(["--config", config, *argv])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code not in (0, None)
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("error:") and needle in err


def test_init_writes_a_commented_config_that_loads(tmp_path, capsys):
    path = tmp_path / ".alma" / "config.yaml"
    code, out, _ = alma_cmd(capsys, "--config", str(path), "init", "--project-id", "shop")
    assert code == 0 and str(path) in out
    assert "#" in path.read_text()
    assert load_settings(path).project_id == "shop"
    code, _, err = alma_cmd(capsys, "--config", str(path), "init")
    assert code == 1 and "already exists" in err
