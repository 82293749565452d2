"""The simulated AMT Batch Server: an ``aiohttp.web`` application speaking docs/amt-api.md.

sim = Simulator(Scenario.from_mapping({...}), users={"OPCONAPI": "secret"})
async with sim.running() as url:          # a free loopback port
    ...                                   # point an agent at url
sim.record.starts_by_job()                # what the server received
"""

from __future__ import annotations

import itertools
import secrets
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from amtflow.simulator import validate
from amtflow.simulator.exchange import (
    BODY_KEY,
    RECORD_KEY,
    ApiError,
    drop,
    error_answer,
    injected_fault,
    read_body,
    recorded,
)
from amtflow.simulator.faults import Faults
from amtflow.simulator.jobs import Launch, SimJob
from amtflow.simulator.record import Record, RecordedRequest
from amtflow.simulator.scenario import Scenario

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FIRST_BATCH_REQUEST_ID = 4280


class Simulator:
    """An in-process AMT Batch Server with scripted jobs, faults and a request record."""

    def __init__(
        self,
        scenario: Scenario | None = None,
        users: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        seed: int = 0,
        page_size: int = 1000,
        ssl_context: ssl.SSLContext | None = None,
        first_request_id: int = FIRST_BATCH_REQUEST_ID,
    ) -> None:
        self.scenario = scenario or Scenario()
        self.users = users if users is not None else self.scenario.users
        self.clock = clock
        self.page_size = page_size
        self.ssl_context = ssl_context  # serve HTTPS with this certificate
        self.faults = Faults(seed=seed)
        self.record = Record()
        self.jobs: dict[int, SimJob] = {}
        self.tasks: dict[str, dict[str, Any]] = {}  # taskId -> first Start answer
        self.tokens: dict[str, float] = {}  # token -> time.monotonic() it dies
        self._ids = itertools.count(first_request_id)
        self.app = self._build_app()

    def __repr__(self) -> str:
        return f"Simulator(jobs={len(self.jobs)}, requests={len(self.record)})"

    @asynccontextmanager
    async def running(
        self, host: str = "127.0.0.1", port: int = 0, *, shutdown_timeout: float = 60.0
    ) -> AsyncIterator[str]:
        """Serve on ``host:port`` (0 = a free port) and yield the base URL.

        On the way out, answers still in the making (a slow fault's) get ``shutdown_timeout``
        seconds before their connections are closed: tests that leave one pending set it short.
        """
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=shutdown_timeout
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port, ssl_context=self.ssl_context)
            await site.start()
            bound = runner.addresses[0]
            scheme = "https" if self.ssl_context else "http"
            yield f"{scheme}://{_host(host)}:{bound[1]}"
        finally:
            await runner.cleanup()

    def restart(
        self, down_for: float = 0.0, *, forget_jobs: bool = False, forget_tokens: bool = False
    ) -> None:
        """Simulate a restart: down (every call dropped) for ``down_for`` seconds.

        ``forget_jobs`` loses every job and taskId (MonitorJob then answers 404 for known ids).
        """
        self.faults.go_down(down_for)
        if forget_jobs:
            self.jobs.clear()
            self.tasks.clear()
        if forget_tokens:
            self.tokens.clear()

    def job(self, batch_request_id: int) -> SimJob:
        return self.jobs[batch_request_id]

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024 * 1024)
        app.router.add_get("/api/status", self._status)
        app.router.add_post("/api/logon", self._logon)
        app.router.add_post("/api/OpConJobAction", self._action)
        app.router.add_get("/api/MonitorJob/{id}", self._monitor)
        app.router.add_get("/api/GetMessages/{id}", self._messages)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await read_body(request)
        entry = self.record.add(recorded(request, body))
        request[RECORD_KEY], request[BODY_KEY] = entry, body
        fault = await injected_fault(self.faults, request, entry)
        if fault is not None:
            return fault
        try:
            routed = request.match_info.http_exception is None
            if routed and request.path not in ("/api/status", "/api/logon"):
                self._authorise(entry)
            response = await handler(request)
        except validate.BadRequest as exc:
            response = error_answer(400, "BAD_REQUEST", str(exc))
        except ApiError as exc:
            response = error_answer(exc.status, exc.code, exc.message)
        except web.HTTPException as exc:
            response = error_answer(exc.status, exc.reason.upper().replace(" ", "_"), exc.reason)
        if entry.answer is None:
            entry.answer = response.status
        return response

    def _authorise(self, entry: RecordedRequest) -> None:
        dies = self.tokens.get(entry.token or "")
        if dies is None:
            raise ApiError(401, "AUTHENTICATION_ERROR", "token missing or revoked")
        if time.monotonic() >= dies:
            del self.tokens[entry.token or ""]
            raise ApiError(401, "AUTHENTICATION_ERROR", "token expired")

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({"version": self.scenario.version, "batchServer": "RUNNING"})

    async def _logon(self, request: web.Request) -> web.Response:
        user, password = validate.logon(request[BODY_KEY])
        if not self._credentials_ok(user, password):
            raise ApiError(401, "AUTHENTICATION_ERROR", "invalid credentials")
        token = secrets.token_urlsafe(24)
        lifetime = self.scenario.token_lifetime
        actual = self.faults.token_lifetime if self.faults.token_lifetime is not None else lifetime
        self.tokens[token] = time.monotonic() + actual
        return web.json_response({"amtLogonToken": token, "expiresIn": lifetime})

    def _credentials_ok(self, user: str, password: str) -> bool:
        if self.users is None:
            return bool(password)
        expected = self.users.get(user)
        return expected is not None and secrets.compare_digest(expected, password)

    async def _action(self, request: web.Request) -> web.Response:
        entry, body = request[RECORD_KEY], request[BODY_KEY]
        name = validate.action(body)
        assert isinstance(body, dict)
        if name == "Start":
            return self._start(request, entry, body)
        job = self._known(validate.batch_request_id(body.get("batchRequestId")))
        return web.json_response(self._end(job, name))

    def _start(
        self, request: web.Request, entry: RecordedRequest, body: dict[str, Any]
    ) -> web.Response:
        name = validate.start(body)
        first = self.tasks.get(body["taskId"])
        if first is not None:
            return web.json_response(first)
        apps = self.scenario.applications
        if apps is not None and body["applicationName"] not in apps:
            raise ApiError(404, "NOT_FOUND", f"unknown application {body['applicationName']}")
        job = self._launch(name, body)
        entry.created = job.batch_request_id
        answer = {"batchRequestId": job.batch_request_id, "completionCode": 1, "status": "QUEUED"}
        self.tasks[body["taskId"]] = answer
        if self.faults.applies(request.path) and self.faults.roll(
            self.faults.drop_after_start_rate
        ):
            return drop(request, entry, "drop_after_start")
        return web.json_response(answer)

    def _launch(self, name: str, body: dict[str, Any]) -> SimJob:
        run_as = body.get("amtUser") or body["amtSubmitUser"]
        launch = Launch(
            name=name,
            label=_label(name),
            run_as=run_as,
            parameters=tuple(body.get("taskValues") or body.get("scriptParameters") or ()),
            invalid_user=body.get("amtUser") in self.scenario.invalid_users,
        )
        rid = next(self._ids)
        job = SimJob(
            rid,
            launch,
            self.scenario.script_for(name),
            started=self.clock(),
            version=self.scenario.version,
            child_ids=self._ids,
        )
        self.jobs[rid] = job
        return job

    def _end(self, job: SimJob, action: str) -> dict[str, Any]:
        now = self.clock()
        if job.ended(now):
            code = job.status(now)["status"]
            raise ApiError(409, "CONFLICT", f"job {job.batch_request_id} already ended with {code}")
        if not job.script.ignores_kill:
            job.kill(now, "Job killed" if action == "Kill" else "Job stopped")
        status = job.status(now)
        return {key: status[key] for key in ("batchRequestId", "completionCode", "status")}

    def _known(self, batch_request_id: int) -> SimJob:
        job = self.jobs.get(batch_request_id)
        if job is None:
            raise ApiError(404, "NOT_FOUND", f"unknown batch request id {batch_request_id}")
        return job

    async def _monitor(self, request: web.Request) -> web.Response:
        job = self._known(validate.path_id(request.match_info["id"]))
        return web.json_response(job.status(self.clock()))

    async def _messages(self, request: web.Request) -> web.Response:
        job = self._known(validate.path_id(request.match_info["id"]))
        after = validate.after(request.query.get("after"))
        page, more = job.messages(self.clock(), after, self.page_size)
        return web.json_response(
            {"batchRequestId": job.batch_request_id, "messages": page, "more": more}
        )


def _label(name: str) -> str:
    """A short name for default log lines: a script's file name without folders."""
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
