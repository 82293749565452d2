"""A tiny AMT Batch Server that answers one call in a hostile way, and otherwise like the contract.

server = HostileServer(monitor=lambda request: web.Response(text="<html>"))
async with server.running() as url: ...
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from amtflow.client import AmtClient, RetryPolicy, new_session
from amtflow.engine import Engine
from amtflow.engine.context import RunContext
from amtflow.plan import make_plan
from amtflow.runs import JobOutcome
from tests.reliability.rig import DATE, FAST_POLL, PASSWORD, LoadRig
from tests.waits import PATIENCE_S

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RID = 4280

HOSTILE_POLICY = RetryPolicy(
    max_attempts=4,
    budget=3.0,
    base_delay=0.05,
    max_delay=0.2,
    retry_after_cap=1.0,
    request_timeout=3.0,
    connect_timeout=1.0,
)


def job_status(code: int = 4, rid: Any = RID) -> dict[str, Any]:
    return {
        "batchRequestId": rid,
        "completionCode": code,
        "status": "DONE" if code == 4 else "RUNNING",
        "description": "",
        "startTime": "2026-11-24T06:00:01+00:00",
        "endTime": None,
    }


def messages(*texts: str, first: int = 1, more: bool = False) -> dict[str, Any]:
    return {
        "batchRequestId": RID,
        "more": more,
        "messages": [
            {
                "seq": first + n,
                "batchRequestId": RID,
                "time": "2026-11-24T06:00:02+00:00",
                "text": text,
            }
            for n, text in enumerate(texts)
        ],
    }


def answer(payload: Any) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.json_response(payload)

    return handle


class HostileServer:
    """Logon, Start, MonitorJob and GetMessages; any of them may be replaced."""

    def __init__(
        self,
        *,
        start: Handler | None = None,
        monitor: Handler | None = None,
        messages_: Handler | None = None,
    ) -> None:
        self.calls: dict[str, int] = {}
        self.app = web.Application()
        routes = (
            ("POST", "/api/logon", answer({"amtLogonToken": "t-1", "expiresIn": 3600})),
            ("POST", "/api/OpConJobAction", start or answer(job_status(1))),
            ("GET", "/api/MonitorJob/{id}", monitor or answer(job_status(4))),
            ("GET", "/api/GetMessages/{id}", messages_ or answer(messages("done"))),
        )
        for method, path, handler in routes:
            self.app.router.add_route(method, path, self._counted(path, handler))

    def _counted(self, path: str, handler: Handler) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.calls[path] = self.calls.get(path, 0) + 1
            return await handler(request)

        return handle

    @property
    def requests(self) -> int:
        return sum(self.calls.values())

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            yield f"http://127.0.0.1:{runner.addresses[0][1]}"
        finally:
            await runner.cleanup()


async def run_one_job(
    server: HostileServer, tmp: Path, policy: RetryPolicy = HOSTILE_POLICY
) -> tuple[JobOutcome, str]:
    """One job through the real engine and client; its outcome and log text.

    A run that never ends (an answer waited for forever, a Retry-After honoured) fails at a
    deadline far past any run's time on a loaded machine: no assertion on the time it took.
    """
    rig = LoadRig(jobs=1, waves=1, failing_every=0)
    async with server.running() as url, new_session() as session:
        defs = rig.definitions(url)
        plan = make_plan(defs, defs.schedules["LOAD"], DATE)
        client = AmtClient(
            session,
            defs.agents["sim"],
            defs.batch_users["api"],
            password=lambda: PASSWORD,
            policy=policy,
        )
        ctx = RunContext(
            run_id="hostile",
            schedule="LOAD",
            date=DATE,
            log_dir=tmp,
            poll=FAST_POLL,
            messages_every=0.0,
            kill_grace=0.5,
        )
        engine = Engine(ctx, plan, defs.agents, {"sim": client})
        outcome = (await asyncio.wait_for(engine.run(), PATIENCE_S))["J0000"]
    logs = list(tmp.rglob("*.log"))
    assert len(logs) == 1, logs
    return outcome, logs[0].read_text(encoding="utf-8")
