"""Azurite (Microsoft's Azure Storage emulator) for tests and benchmarks: start, create a
container, stop. Plain module, no pytest, so benchmarks/objectstore.py can use it too.

Azurite comes from npm (`.ci/run` installs it under tools/azurite); ALMA_AZURITE may point at
another `azurite-blob` executable. Containers are created with one shared-key signed REST PUT,
so the tests need no Azure SDK.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "devstoreaccount1"
# The emulator's well-known development key (published in Microsoft's Azurite docs).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
API_VERSION = "2021-08-06"


def executable() -> str | None:
    """The azurite-blob launcher: $ALMA_AZURITE, the project-local install, or PATH."""
    candidates = [
        os.environ.get("ALMA_AZURITE", ""),
        str(ROOT / "tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"),
        shutil.which("azurite-blob") or "",
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Azurite:
    """A running Azurite blob service on a loopback port."""

    port: int
    process: subprocess.Popen
    location: str
    containers: list[str] = field(default_factory=list)
    debug_log: str | None = None

    def requests(self) -> int:
        """Requests served so far (needs start(debug_log=...))."""
        if not self.debug_log or not os.path.exists(self.debug_log):
            return 0
        with open(self.debug_log, encoding="utf-8", errors="replace") as log:
            return sum("BlobStorageContextMiddleware: RequestMethod=" in line for line in log)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def storage_options(self) -> dict[str, str]:
        return {
            "account_name": ACCOUNT,
            "account_key": ACCOUNT_KEY,
            "endpoint": self.endpoint,
            "allow_http": "true",
        }

    def create_container(self, name: str) -> str:
        """Create a container (Lance does not); returns `az://name`."""
        _signed_request("PUT", self.endpoint, name, "restype=container")
        self.containers.append(name)
        return f"az://{name}"

    def stop(self) -> None:
        """Stop the process this object started (by its pid) and remove its data."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.location, ignore_errors=True)


def start(timeout: float = 30.0, debug_log: str | None = None) -> Azurite:
    """Start azurite-blob on a free loopback port; raises RuntimeError saying why it could not.

    debug_log: a file for Azurite's debug log (one line per request; benchmarks count them).
    """
    exe = executable()
    if exe is None:
        raise RuntimeError(
            "azurite-blob not found: run .ci/run (npm install azurite into tools/azurite) "
            "or set ALMA_AZURITE"
        )
    location = tempfile.mkdtemp(prefix="alma-azurite-")
    port = free_port()
    log = open(Path(location) / "azurite.log", "wb")  # noqa: SIM115 - lives with the process
    process = subprocess.Popen(
        [
            exe,
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            location,
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
            *(["--debug", debug_log] if debug_log else []),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so stop() also ends node's children
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = (Path(location) / "azurite.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"azurite-blob exited with {process.returncode}: {text}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return Azurite(port, process, location, debug_log=debug_log)
        except OSError:
            time.sleep(0.1)
    azurite = Azurite(port=port, process=process, location=location)
    azurite.stop()
    raise RuntimeError(f"azurite-blob did not listen on port {port} within {timeout:.0f}s")


def start_or_skip() -> Azurite:
    """Start Azurite for a test session: skip when unavailable, but fail in CI (CI=true)."""
    import pytest

    try:
        return start()
    except (RuntimeError, OSError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Azurite is required in CI: {exc}")
        pytest.skip(f"Azurite unavailable: {exc}")


def _signed_request(method: str, endpoint: str, path: str, query: str) -> None:
    """One Blob REST call authorised with the account's shared key (SharedKey scheme)."""
    date = formatdate(usegmt=True)
    headers = {"x-ms-date": date, "x-ms-version": API_VERSION, "Content-Length": "0"}
    canonical_headers = f"x-ms-date:{date}\nx-ms-version:{API_VERSION}\n"
    params = "".join(
        f"\n{k}:{v}" for k, v in sorted(p.split("=", 1) for p in query.split("&") if p)
    )
    canonical_resource = f"/{ACCOUNT}/{ACCOUNT}/{path}{params}"
    to_sign = "\n".join(
        [method, "", "", "", "", "", "", "", "", "", "", "", canonical_headers + canonical_resource]
    )
    digest = hmac.new(base64.b64decode(ACCOUNT_KEY), to_sign.encode(), hashlib.sha256).digest()
    headers["Authorization"] = f"SharedKey {ACCOUNT}:{base64.b64encode(digest).decode()}"
    request = urllib.request.Request(f"{endpoint}/{path}?{query}", method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # 409: the container already exists
            raise RuntimeError(f"{method} {path}: HTTP {exc.code} {exc.read()[:300]!r}") from exc
