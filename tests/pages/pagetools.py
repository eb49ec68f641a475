"""Helpers for page tests: run a page, select table rows, read what a download button delivers."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def page(name: str) -> AppTest:
    """A page of the dashboard, ready to run."""
    return AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)


def select_rows(app: AppTest, rows: list[int], table: int = 0) -> AppTest:
    """Select rows of a table as a user's clicks would, and rerun."""
    app.session_state[app.dataframe[table].key] = {"selection": {"rows": rows, "columns": []}}
    return app.run()


def table_ids(app: AppTest, table: int = 0) -> list[str]:
    return list(app.dataframe[table].value["id"])


def downloaded(
    app: AppTest, files: dict[str, tuple[bytes, str | None]], label: str
) -> tuple[bytes, str | None]:
    """The content and file name of the download button whose label starts with `label`."""
    button = next(b for b in app.download_button if b.label.startswith(label))
    assert not button.disabled, f"download {label!r} is disabled"
    return files[button.proto.url.rsplit("/", 1)[-1].split(".")[0]]


def widget(widgets, label: str):  # type: ignore[no-untyped-def]
    """The widget of a kind (app.text_area, app.button, ...) with this label."""
    return next(w for w in widgets if w.label == label)


def in_the_sidebar(app: AppTest, agent: str, reviewer: str) -> AppTest:
    """Pick an agent and type a reviewer's name in the shared sidebar, as a user would."""
    app.selectbox(key="alma_agent").set_value(agent).run()
    app.text_input(key="alma_reviewer").input(reviewer).run()
    assert not app.exception
    return app
