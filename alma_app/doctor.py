"""`alma doctor`: is the configured store reachable and writable, and if not, why?

Runs the checks a person would do by hand when a team's hosts share one store on Azure Blob
Storage, S3 or GCS: the config loads, the secrets it names are set, a probe row can be written,
read back and deleted (in a scratch table, `_alma_probe`), and the memories table opens. Each
failure says what to fix (missing container or bucket, rejected credentials, unreachable
endpoint). Secrets are never printed: option values that look secret show as ***.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

import alma_store as st
from alma_app.config import Settings, load_settings, resolve_config_path
from alma_app.embeddings import MINILM_DIM
from alma_app.errors import AlmaError
from alma_app.tables import TABLES
from alma_store.redact import MASK, secrets_of

BACKENDS = {
    "az": "Azure Blob Storage",
    "abfs": "Azure Blob Storage",
    "s3": "Amazon S3 (or S3-compatible)",
    "s3+ddb": "Amazon S3 with a DynamoDB commit store",
    "gs": "Google Cloud Storage",
    "memory": "in memory (nothing persists)",
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Diagnosis:
    """The checks in the order they ran; `ok` when every one passed."""

    config_path: str
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def render(self) -> str:
        lines = [f"{'ok  ' if c.ok else 'FAIL'}  {c.name:<10} {c.detail}" for c in self.checks]
        lines += [f"note  {n}" for n in self.notes]
        verdict = "the store is reachable and writable" if self.ok else "the store is NOT usable"
        return "\n".join([*lines, verdict])


def backend_of(uri: str) -> str:
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    return BACKENDS.get(scheme, "a local directory" if not scheme else f"{scheme}:// storage")


def masked_options(options: dict[str, str]) -> dict[str, str]:
    """The storage options as they may be shown: secret-looking values replaced by ***."""
    secrets = set(secrets_of(options))
    return {k: MASK if v in secrets else v for k, v in options.items()}


def diagnose(config: str | os.PathLike[str] | None = None) -> Diagnosis:
    """Check the store named by a config file (default: $ALMA_CONFIG or .alma/config.yaml)."""
    path = resolve_config_path(config)
    report = Diagnosis(config_path=str(path))
    try:
        settings = load_settings(path)
    except AlmaError as exc:
        report.add("config", False, str(exc))
        return report
    report.add("config", True, f"{path} (project {settings.project_id})")
    uri = settings.store_uri
    if settings.storage == "lancedb" and "://" not in uri and not Path(uri).exists():
        report.notes.append(f"{uri} did not exist; the probe created it")
    shown = masked_options(settings.storage_options)
    where = f"{uri} on {backend_of(uri)}" + (f", options {shown}" if shown else "")
    report.add("location", True, where)
    _check_store(report, settings)
    if uri.startswith("s3://"):
        report.notes.append(
            "S3: concurrent writers are safe on AWS S3 (conditional writes); for S3-compatible "
            "stores without If-None-Match use s3+ddb:// with a DynamoDB table (docs/scaling.md)"
        )
    return report


def command(args: argparse.Namespace) -> int:
    """`alma doctor`: print the checks; exit status 0 when the store is usable, else 1."""
    report = diagnose(getattr(args, "config", None))
    print(report.render())
    return 0 if report.ok else 1


def _check_store(report: Diagnosis, settings: Settings) -> None:
    try:
        # Both embedders make MINILM_DIM vectors; the model itself is not needed here.
        handle = st.open_store(
            settings.store_uri,
            vector_dim=MINILM_DIM,
            tables=TABLES,
            storage_options=settings.storage_options or None,
            compact_every=settings.compact_every,
        )
    except st.StoreError as exc:
        report.add("connect", False, str(exc))
        return
    try:
        try:
            timings = handle.probe()
        except st.StoreError as exc:
            report.add("write", False, str(exc))
            return
        steps = ", ".join(f"{k.removesuffix('_ms')} {v:.0f} ms" for k, v in timings.items())
        report.add("write", True, f"probe row written, read back and deleted ({steps})")
        try:
            rows = handle.count("memories")
            version = handle.version("memories")
        except st.StoreError as exc:
            report.add("memories", False, str(exc))
            return
        report.add("memories", True, f"{rows} rows, table version {version}")
    finally:
        handle.close()
