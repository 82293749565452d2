"""Real receivers on loopback: a JSON webhook (aiohttp), an SMTP server (aiosmtpd), a dead port.

Each runs in a thread of its own so that the amtflow under test (a subprocess, or the test's
own event loop) talks to it over real sockets.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiosmtpd.controller import Controller

from tests.ports import free_port
from tests.run.conftest import amtflow

DATE = "2026-11-24"
TOKEN = "tok-9f8e7d6c5b4a-SECRET"


@dataclass
class Received:
    path: str
    title: str
    message: str
    type: str


@dataclass
class Webhook:
    """A JSON webhook receiver: every POST kept; answers ``status`` (200 unless told)."""

    url: str = ""
    port: int = 0
    status: int = 200
    hang: bool = False  # accept, then never answer
    posts: list[Received] = field(default_factory=list)

    def apprise_url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path.strip('/')}"

    def at(self, path: str) -> list[Received]:
        return [post for post in self.posts if post.path == "/" + path.strip("/")]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    ready, box = threading.Event(), {}

    async def receive(request: web.Request) -> web.Response:
        data = await request.json()
        hook.posts.append(
            Received(
                request.path, data.get("title", ""), data.get("message", ""), data.get("type", "")
            )
        )
        if hook.hang:
            await asyncio.sleep(3600)
        return web.json_response({}, status=hook.status)

    async def serve() -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", receive)
        # a hanging answer (``hang``) is dropped when the test ends: aiohttp's graceful shutdown
        # would wait 60 s for it, and the join below gave up after 10
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        hook.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        box["stop"], box["loop"] = asyncio.Event(), asyncio.get_running_loop()
        ready.set()
        await box["stop"].wait()
        await runner.cleanup()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield hook
    box["loop"].call_soon_threadsafe(box["stop"].set)
    thread.join(10)


class _Mailbox:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope)
        return "250 OK"


@dataclass
class Smtp:
    port: int
    mailbox: _Mailbox

    def apprise_url(self, to: str = "ops@example.com") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=amtflow@example.com&to={to}&mode=insecure"


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    mailbox = _Mailbox()
    for attempt in range(5):  # aiosmtpd needs a port number: another worker may take it first
        port = free_port()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port)
        try:
            controller.start()
            break
        except OSError:
            if attempt == 4:
                raise
    yield Smtp(port, mailbox)
    controller.stop()


def write_schedule(
    folder: Path,
    jobs: list[dict[str, Any]],
    notifications: list[dict[str, Any]],
    notify: list[str],
) -> Path:
    """A schedule file run with --simulate: one agent, the jobs, notifications by env var."""
    document = {
        "version": 1,
        "batch_users": [{"name": "api", "identifier": "OPCONAPI", "password": {"env": "AMT_PW"}}],
        "agents": [{"name": "amt", "batch_server_url": "http://127.0.0.1:9", "batch_user": "api"}],
        "notifications": notifications,
        "schedules": [
            {
                "name": "NIGHTLY",
                "notify": notify,
                "defaults": {"agent": "amt", "application": "DEMO2"},
                "jobs": jobs,
            }
        ],
    }
    path = folder / "nightly.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def batch_jobs(*names: str) -> list[dict[str, Any]]:
    return [{"name": name, "task": "batch_job", "job_name": name} for name in names]


def run_simulated(
    folder: Path, schedule: Path, scenario: dict[str, Any], env: dict[str, str], *extra: str
) -> Any:
    """``amtflow run --simulate`` in a subprocess, state and logs under ``folder``."""
    scenario_path = folder / "scenario.yaml"
    scenario_path.write_text(yaml.safe_dump(scenario), encoding="utf-8")
    return amtflow(
        "run",
        schedule,
        "--date",
        DATE,
        "--simulate",
        "--scenario",
        scenario_path,
        "--plain",
        "--log-dir",
        folder / "logs",
        "--state-dir",
        folder / "state",
        *extra,
        cwd=folder,
        env=env,
    )


def notices(folder: Path) -> list[tuple[Any, ...]]:
    """Every delivery the journal recorded: (notification, url_index, event, delivered, tries, reason)."""
    with sqlite3.connect(folder / "state" / "journal.db") as conn:
        return conn.execute(
            "SELECT notification, url_index, event, delivered, tries, reason FROM notices ORDER BY rowid"
        ).fetchall()


from tests.run.conftest import start_simulator  # noqa: E402, F401  (the fixture, for resume tests)
