"""Browser tests: `streamlit run` on a free loopback port over a temporary store, driven by
Debian's Chromium through Playwright. With CI=true a missing Chromium fails the run."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from alma_app import ALMA
from alma_app.sample import load_sample_board, load_sample_memories

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (Path(CHROMIUM).exists() and shutil.which("chromedriver")):
        message = "Debian's chromium and chromium-driver are not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: browser tests must run)")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def store_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary store with the sample data (hashing embedder keeps start-up fast)."""
    folder = tmp_path_factory.mktemp("e2e") / ".alma"
    folder.mkdir()
    sample = yaml.safe_load((ROOT / "sample_data" / "config.yaml").read_text())
    sample["alma"]["embedding"] = "hashing"
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(sample))
    alma = ALMA.from_config(path)
    load_sample_memories(alma)
    load_sample_board(alma)
    alma.close()
    return path


@pytest.fixture(scope="session")
def server(store_config: Path) -> Iterator[str]:
    """`streamlit run streamlit_app.py` on 127.0.0.1 and a free port; yields its URL."""
    port = free_port()
    env = dict(os.environ, ALMA_CONFIG=str(store_config), PYTHONUNBUFFERED="1")
    log = (store_config.parent / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "streamlit_app.py"),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            raise RuntimeError((store_config.parent / "streamlit.log").read_text())
    else:
        proc.kill()
        raise RuntimeError("streamlit did not start within 90 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser(chromium_path: str):
    """One Chromium per test module: Playwright's sync API runs an event loop in this thread
    while it is open, so it must be closed before other tests (the MCP client) use asyncio."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


@pytest.fixture
def alma_of(store_config: Path):
    """Open the test store from the test's side, to check what the browser changed."""
    handles: list[ALMA] = []

    def open_store() -> ALMA:
        handles.append(ALMA.from_config(store_config))
        return handles[-1]

    yield open_store
    for handle in handles:
        handle.close()


@pytest.fixture
def settle():
    """Wait until Streamlit has finished running the page's script."""

    def wait(page) -> None:
        page.wait_for_selector('[data-testid="stApp"]')
        page.wait_for_timeout(300)
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
            timeout=60_000,
        )

    return wait


# Screenshots go to docs/ only when asked (`make screenshots`), so test runs leave the tree clean.
DOCS = Path(os.environ.get("ALMA_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "alma-shots")


@pytest.fixture
def open_app_page(server: str, settle):
    """Open a page of the app by its URL path. The entry runs first: until streamlit_app.py has
    run once, Streamlit serves pages/ as a classic multipage app and skips st.navigation."""

    def go(page, path: str = "", query: str = "") -> None:
        page.goto(server)
        settle(page)
        if path or query:
            page.goto(f"{server}/{path}{'?' + query if query else ''}")
            settle(page)

    return go


@pytest.fixture
def screenshot():
    """Save a screenshot of the whole page (under docs/ with `make screenshots`). Streamlit
    scrolls inside its main area, so the viewport grows to the content's height first."""

    def take(page, name: str) -> Path:
        DOCS.mkdir(parents=True, exist_ok=True)
        height = page.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
        )
        page.set_viewport_size({"width": 1400, "height": min(max(height, 1000), 3200)})
        page.wait_for_timeout(1500)  # widgets and charts finish drawing after the script ends
        path = DOCS / name
        page.screenshot(path=str(path))
        page.set_viewport_size({"width": 1400, "height": 1000})
        return path

    return take
