"""A real Chromium driven by Playwright, and real runs against the simulator to report on.

The browser is Debian's ``chromium`` (``.ci/install-browser`` installs it), launched through
Playwright's ``executable_path``: Playwright's own browser download is not reachable here. Tests
that need it skip, saying why, only where no Chromium can be found.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from amtflow.state import Journal
from tests.run.conftest import start_simulator  # noqa: F401  (a fixture used here)

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """``$AMTFLOW_TEST_CHROMIUM``, else the first Chromium on PATH."""
    named = os.environ.get("AMTFLOW_TEST_CHROMIUM")
    if named:
        return named
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for one test module.

    Not for the session: Playwright's sync API keeps an event loop running in this thread while
    it is open, and the asyncio tests of later modules need the thread free of one.
    """
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found (install Debian's chromium: .ci/install-browser)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


class Opened:
    """A report opened in a fresh page, with every request and console message it made."""

    def __init__(self, page: Any, requests: list[str], console: list[str]) -> None:
        self.page = page
        self.requests = requests
        self.console = console


@pytest.fixture
def open_report(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """Open an HTML file in a new browser context; each page's screenshot is kept in tmp_path."""
    contexts: list[Any] = []

    def open_(path: Path, *, scripts: bool = True, shot: str = "") -> Opened:
        context = browser.new_context(
            java_script_enabled=scripts, viewport={"width": 1300, "height": 900}
        )
        contexts.append(context)
        page = context.new_page()
        requests: list[str] = []
        console: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
        page.goto(path.resolve().as_uri())
        if scripts:
            page.wait_for_selector("html[data-ready]")
        page.screenshot(path=str(tmp_path / f"{shot or path.stem}.png"), full_page=True)
        return Opened(page, requests, console)

    yield open_
    for context in contexts:
        context.close()


def two_agent_definitions(folder: Path, url: str, jobs: list[dict[str, Any]]) -> Path:
    """A schedule on two agents (``amt1`` allows kill, ``amt2`` does not) at ``url``."""
    agent = {"type": "AsyscoAMT", "batch_server_url": url, "batch_user": "api"}
    document = {
        "version": 1,
        "batch_users": [
            {"name": "api", "identifier": "OPCONAPI", "password": {"env": "AMT_TEST_PASSWORD"}}
        ],
        "agents": [
            {"name": "amt1", **agent, "allow_kill_job": True},
            {"name": "amt2", **agent},
        ],
        "schedules": [
            {"name": "NIGHTLY", "defaults": {"agent": "amt1", "application": "DEMO2"}, "jobs": jobs}
        ],
    }
    path = folder / "nightly.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def synthetic_run(state_dir: Path, logs: Path, jobs: int, log_size: int = 100) -> str:
    """A finished run of ``jobs`` jobs recorded straight into a journal (fast for thousands):
    job i starts at i % 100 s and lasts 3 + i % 9 s; every 7th fails. Returns the run id."""
    logs.mkdir(parents=True, exist_ok=True)
    with Journal.open(state_dir) as journal:
        run = journal.begin_run("BIG", dt.date(2026, 11, 24), definitions="", digest="")
        journal.finish_run(run.run_id, run.state.FAILED)
    start = dt.datetime.fromisoformat(run.started_at)
    rows = []
    for index in range(jobs):
        name = f"JOB{index:05d}"
        log = logs / f"{name}.log"
        log.write_text(f"{name}\n" + "x" * log_size + "\nthe end\n")
        began = start + dt.timedelta(seconds=index % 100)
        ended = began + dt.timedelta(seconds=3 + index % 9)
        failed = index % 7 == 0
        rows.append(
            (run.run_id, name, 1, f"t{index}", "failed" if failed else "ok", 1000 + index,
             11 if failed else 4, began.isoformat(), ended.isoformat(), str(log), 3, "")
        )  # fmt: skip
    with sqlite3.connect(state_dir / "journal.db") as conn:
        conn.executemany(f"INSERT INTO job_runs VALUES ({', '.join('?' * 12)})", rows)
    return run.run_id
