"""A real simulator on loopback in a thread of its own, and helpers to drive the CLI at it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from amtflow.cli import cli
from amtflow.simulator import Scenario, Simulator

PASSWORD = "s3cr3t-Pa55word-for-tests"
ROOT = Path(__file__).resolve().parents[2]
DATE = "2026-11-24"  # the schedule date of the runs started in the background


@dataclass
class LiveSimulator:
    url: str
    simulator: Simulator


def serve_in_thread(simulator: Simulator) -> Iterator[LiveSimulator]:
    """Run ``simulator`` on a free loopback port in a background thread until the caller ends."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        box["stop"] = stop = asyncio.Event()
        box["loop"] = asyncio.get_running_loop()
        # an answer still pending when the test ends (a slow fault's) is dropped, not waited for
        async with simulator.running(host="127.0.0.1", port=0, shutdown_timeout=0.5) as url:
            box["url"] = url
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(10), "simulator did not start"
    try:
        yield LiveSimulator(box["url"], simulator)
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)


@pytest.fixture
def start_simulator() -> Iterator[Callable[..., LiveSimulator]]:
    """Start simulators with a scenario mapping; all are stopped at the end of the test."""
    running: list[Iterator[LiveSimulator]] = []

    def start(scenario: Mapping[str, Any] | None = None, **kwargs: Any) -> LiveSimulator:
        sim = Simulator(scenario=Scenario.from_mapping(dict(scenario or {})), **kwargs)
        gen = serve_in_thread(sim)
        running.append(gen)
        return next(gen)

    yield start
    for gen in running:
        next(gen, None)


def write_definitions(folder: Path, url: str, jobs: list[dict[str, Any]], **agent: Any) -> Path:
    """A schedule file with one agent at ``url`` and the given jobs; returns its path."""
    document = {
        "version": 1,
        "batch_users": [
            {"name": "api", "identifier": "OPCONAPI", "password": {"env": "AMT_TEST_PASSWORD"}}
        ],
        "agents": [
            {
                "name": "amt",
                "type": "AsyscoAMT",
                "batch_server_url": url,
                "batch_user": "api",
                **agent,
            }
        ],
        "schedules": [
            {"name": "NIGHTLY", "defaults": {"agent": "amt", "application": "DEMO2"}, "jobs": jobs}
        ],
    }
    path = folder / "nightly.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def amtflow(
    *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would."""
    environment = {
        **os.environ,
        "AMT_TEST_PASSWORD": PASSWORD,
        "AMTFLOW_STATE_DIR": "",
        "AMTFLOW_LOG_DIR": "",
        **(env or {}),
    }
    environment = {k: v for k, v in environment.items() if v != ""}
    return subprocess.run(
        [sys.executable, "-m", "amtflow", *map(str, args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def status_here(state_dir: Path, *args: str) -> Result:
    """``amtflow status [RUN] ... --state-dir STATE_DIR`` run in this process by click's CliRunner:
    the same command and output as in a subprocess, without a Python start-up (a third of a
    second of CPU) each time a test looks at a run or polls one until something happened."""
    arguments = ["status", *args, "--state-dir", str(state_dir)]
    return CliRunner().invoke(cli, arguments, env={"AMTFLOW_STATE_DIR": None})


def status_json(state_dir: Path, *run_id: str) -> dict[str, Any]:
    """What ``amtflow status [RUN] --format json`` shows of ``state_dir`` (``status_here``)."""
    shown = status_here(state_dir, *run_id, "--format", "json")
    assert shown.exit_code == 0, shown.output
    return dict(json.loads(shown.output))


def background_run(
    folder: Path, schedule: Path, *extra: str | Path, stdout: int = subprocess.PIPE
) -> subprocess.Popen[str]:
    """``amtflow run SCHEDULE --date DATE --plain`` started in the background, as a user's other
    terminal would: its job logs in ``folder/logs``, its journal in ``folder/state``, ``extra``
    arguments after; stderr is piped, stdout goes to ``stdout``."""
    dirs = ("--log-dir", folder / "logs", "--state-dir", folder / "state")
    arguments = ("run", schedule, "--date", DATE, "--plain", *dirs, *extra)
    return subprocess.Popen(
        [sys.executable, "-m", "amtflow", *map(str, arguments)],
        cwd=folder,
        env={**os.environ, "AMT_TEST_PASSWORD": PASSWORD},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )
