"""The store/ folder is imported as `alma_store`, so a user's own `store/` folder cannot shadow it.

Before, `python -m alma_app.mcp --config config.yaml` run from a directory holding a `store/`
package failed with `AttributeError: module 'store' has no attribute 'StoreError'`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import AGENTS, ROOT

USES_THE_STORE = """
from alma_app import ALMA
alma = ALMA(project_id="p", storage="memory", embedding="hashing",
            agents={"helena": {"can_learn": ["testing"]}})
alma.add_domain_knowledge("helena", "testing", "the login form locks after five tries")
print(alma.stats()["total"])
alma.close()
"""


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    """A working directory with the user's own `store` package in it."""
    package = tmp_path / "store"
    package.mkdir()
    (package / "__init__.py").write_text('"""The user\'s own store package."""\nMINE = True\n')
    return tmp_path


@pytest.fixture
def mcp_config_in() -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        body = {"project_id": "p", "storage_dir": "data", "embedding": "hashing", "agents": AGENTS}
        path = folder / "config.yaml"
        path.write_text(yaml.safe_dump({"alma": body}))
        return path

    return write


def run_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run this Python in `cwd` (first on sys.path, as for any script), stdin closed."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    # This checkout's alma_app comes after the user's directory, as with an installed package.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_mcp_server_serves_beside_a_users_store_folder(user_dir, mcp_config_in):
    # The stdio server opens the store, serves until stdin closes, then exits cleanly.
    result = run_in(user_dir, "-m", "alma_app.mcp", "--config", str(mcp_config_in(user_dir)))
    assert result.returncode == 0, result.stderr
    assert (user_dir / "data").is_dir(), "the server did not open its store"


def test_alma_works_beside_a_users_store_folder(user_dir):
    result = run_in(user_dir, "-c", USES_THE_STORE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1"]


def test_the_wheel_maps_alma_store_to_the_store_folder():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"alma_store": "store"}
    folders = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "alma_app").rglob("__init__.py")
    }
    # Discovery cannot rename a folder, so packages are listed: a new one must be added there.
    assert set(config["packages"]) == folders | {"alma_store"}
