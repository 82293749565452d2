"""A misbehaving AMT Batch Server on loopback, in a thread, for tests that drive the real CLI.

Every endpoint answers as the contract says unless the test replaces it; a ``Trap`` is a second
listener that records whatever reaches it (a redirect target that must receive nothing).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.reliability.hostile import job_status, messages

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATUS, LOGON, ACTION = "/api/status", "/api/logon", "/api/OpConJobAction"
MONITOR, MESSAGES = "/api/MonitorJob/{id}", "/api/GetMessages/{id}"
ENDPOINTS: Mapping[str, str] = {
    STATUS: "GET",
    LOGON: "POST",
    ACTION: "POST",
    MONITOR: "GET",
    MESSAGES: "GET",
}


def reply(payload: Any, status: int = 200, **headers: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.json_response(payload, status=status, headers=headers)

    return handle


def raw(body: bytes, status: int = 200, **headers: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=body, status=status, headers=headers, content_type="application/json"
        )

    return handle


CONTRACT: Mapping[str, Handler] = {
    STATUS: reply({"version": "8.0.24223.0", "batchServer": "RUNNING"}),
    LOGON: reply({"amtLogonToken": "t-hostile-1", "expiresIn": 3600}),
    ACTION: reply(job_status(1)),
    MONITOR: reply(job_status(4)),
    MESSAGES: reply(messages("done")),
}


@dataclass
class Received:
    """What a server was sent: method, path and query, headers, body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Listener:
    url: str
    received: list[Received] = field(default_factory=list)

    def count(self, path: str) -> int:
        prefix = path.split("{", maxsplit=1)[0]
        return sum(1 for r in self.received if r.path.split("?")[0].startswith(prefix))


def _app(routes: Mapping[str, Handler] | None, listener: Listener) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        listener.received.append(
            Received(request.method, request.path_qs, dict(request.headers), body)
        )
        response: web.StreamResponse = await handler(request)
        return response

    app = web.Application(middlewares=[record])
    if routes is None:  # a trap: answers 404 to anything, after recording it
        return app
    for path, method in ENDPOINTS.items():
        app.router.add_route(method, path, routes.get(path, CONTRACT[path]))
    return app


@contextmanager
def serving(routes: Mapping[str, Handler] | None = None) -> Iterator[Listener]:
    """Serve ``routes`` (over the contract's answers) on a free loopback port; ``None``: a trap."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        box["stop"] = stop = asyncio.Event()
        box["loop"] = asyncio.get_running_loop()
        listener = box["listener"] = Listener("")
        runner = web.AppRunner(_app(routes, listener), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        listener.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        ready.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(10), "hostile server did not start"
    try:
        yield box["listener"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)
