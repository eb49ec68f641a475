"""The library prints nothing to stderr in normal use: not from Python, and not from the native
code under it (Lance logs from Rust straight to file descriptor 2), so the check runs the calls
in a child process and reads its real stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from alma_app import ALMA

alma = ALMA(project_id="quiet", storage={storage!r}, storage_dir=sys.argv[1],
            embedding={embedding!r})
for i in range(12):
    alma.add_domain_knowledge("agent-1", "ops", f"the login form times out after {{i}} seconds")
    alma.learn("agent-1", f"fix the checkout page flake {{i}}", "success", "explicit waits")
    alma.add_preference("user-1", "style", f"short answers, variant {{i}}")
for query in ("login timeouts", "checkout flakes", "ERR_42 unknown words"):
    alma.retrieve(query, agent="agent-1", top_k=5)
    alma.retrieve(query, agent="agent-1", top_k=5, user_id="user-1")
alma.search("login form", agent="agent-1", mode="lexical")
alma.close()
print("done")
"""


def run_quietly(tmp_path: Path, storage: str, embedding: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    script = SCRIPT.format(storage=storage, embedding=embedding)
    return subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "store")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.parametrize("storage", ["lancedb", "memory"])
def test_writes_and_retrieves_print_nothing_on_stderr(tmp_path, storage):
    proc = run_quietly(tmp_path, storage, "hashing")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "done"
    assert proc.stderr == ""


@pytest.mark.model
def test_the_real_model_prints_nothing_on_stderr_either(tmp_path, minilm):
    proc = run_quietly(tmp_path, "lancedb", "minilm")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
