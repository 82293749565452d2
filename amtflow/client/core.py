"""``AmtClient``: the ``BatchClient`` of one agent, over one shared ``aiohttp.ClientSession``.

``_call`` is the one choke point: it adds the token, retries transient faults within the policy's
budget, logs on again once after a 401, and maps HTTP statuses to amtflow's errors.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from amtflow.batch import JobStatus, MessagePage, ServerStatus, StartRequest
from amtflow.client import wire
from amtflow.client.http import Answer, Transient, exchange
from amtflow.client.lag import LoopLag
from amtflow.client.policy import RetryPolicy, Spent
from amtflow.client.tls import tls_context
from amtflow.client.token import TokenKeeper
from amtflow.errors import (
    AmtError,
    AuthenticationError,
    Conflict,
    NotFound,
    ProtocolError,
    RequestRejected,
    ServerUnavailable,
)
from amtflow.model import Agent, BatchUser
from amtflow.secrets import masking, read_secret

MAX_RELOGONS = 3  # per call: tokens that expired during its retries (never a loop)


@dataclass(frozen=True)
class _Sent:
    """A call's answer, the token it carried, and on which attempt it came."""

    answer: Answer
    token: str | None = field(repr=False)
    attempts: int


class AmtClient:
    """Talks to one agent's AMT Batch Server as its batch user (implements ``BatchClient``)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        agent: Agent,
        batch_user: BatchUser,
        *,
        password: Callable[[], str] | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._session = session
        self.agent = agent
        self.batch_user = batch_user
        self._password = password or self._read_password
        self.policy = policy or RetryPolicy()
        self._base = agent.batch_server_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(
            total=self.policy.request_timeout, sock_connect=self.policy.connect_timeout
        )
        self._rng = random.Random()
        self._ssl: ssl.SSLContext | bool | None = None
        self._tokens = TokenKeeper(self._logon)
        self._lag = LoopLag()
        self._token_headers: tuple[str, dict[str, str]] | None = None
        self.requests = 0  # HTTP requests sent, retries and logons included

    def __repr__(self) -> str:
        return (
            f"AmtClient(agent={self.agent.name!r}, url={self._base!r}, "
            f"api_user={self.batch_user.identifier!r})"
        )

    @property
    def logons(self) -> int:
        """How many logons this client has made."""
        return self._tokens.logons

    async def status(self) -> ServerStatus:
        """Reachability and version (``/api/status``); needs no token."""
        answer = await self._call("GET", wire.STATUS_PATH, "status", auth=False)
        return wire.parse_status(answer)

    async def logon(self) -> None:
        """Get a token now (preflight); later calls log on by themselves when needed."""
        await self._tokens.renew()

    async def start(self, request: StartRequest) -> JobStatus:
        """Start a job; a repeat carries the same ``taskId`` so it never starts a second job."""
        what = f"Start {request.task.name}"
        answer = await self._call("POST", wire.ACTION_PATH, what, wire.start_body(request))
        return wire.parse_job_status(answer, what)

    async def monitor(self, batch_request_id: int) -> JobStatus:
        """The job's current status (MonitorJob)."""
        what = f"MonitorJob {batch_request_id}"
        answer = await self._call("GET", wire.monitor_path(batch_request_id), what)
        return wire.parse_job_status(answer, what, batch_request_id)

    async def messages(self, batch_request_id: int, after: int = 0) -> MessagePage:
        """One page of the job's messages with ``seq > after`` (GetMessages)."""
        what = f"GetMessages {batch_request_id}"
        path = f"{wire.messages_path(batch_request_id)}?after={int(after)}"
        return wire.parse_messages(await self._call("GET", path, what), what)

    async def kill(self, batch_request_id: int) -> JobStatus:
        """Ask the server to kill the job; 409 (already ended) raises ``Conflict``."""
        return await self._action("Kill", batch_request_id)

    async def stop(self, batch_request_id: int) -> JobStatus:
        """Ask the server for a graceful stop; 409 raises ``Conflict``."""
        return await self._action("Stop", batch_request_id)

    async def _action(self, action: str, batch_request_id: int) -> JobStatus:
        what = f"{action} {batch_request_id}"
        body = wire.action_body(action, batch_request_id)
        answer = await self._call("POST", wire.ACTION_PATH, what, body)
        return wire.parse_job_status(answer, what, batch_request_id)

    async def _logon(self) -> tuple[str, float]:
        password = self._password()
        body = wire.logon_body(self.batch_user.identifier, password)
        answer = (await self._send("POST", wire.LOGON_PATH, "logon", body, False)).answer
        if answer.status in (401, 403):
            raise AuthenticationError(
                f"batch user '{self.batch_user.name}' ({self.batch_user.identifier}): the server "
                f"refused its credentials; check the password in {self.batch_user.password}",
                agent=self.agent.name,
            )
        try:
            return wire.parse_logon(self._checked(answer, "logon"))
        except AmtError as exc:  # the server's message may echo what it was sent
            masked = type(exc)(masking([password], "********")(str(exc)))  # names the agent
            masked.agent = exc.agent
            raise masked from None

    def _read_password(self) -> str:
        return read_secret(self.batch_user.password, f"batch user '{self.batch_user.name}'")

    async def _call(
        self,
        method: str,
        path: str,
        what: str,
        body: dict[str, Any] | None = None,
        *,
        auth: bool = True,
    ) -> Any:
        if not auth:
            return self._checked((await self._send(method, path, what, body, False)).answer, what)
        sent = await self._send(method, path, what, body, True)
        relogons = 0
        while sent.answer.status == 401:
            # A token refused right after a logon is a refusal; one refused after transient
            # retries may simply have expired meanwhile (tokens can die before expiresIn).
            # A read (GET) changes nothing on the server: rather than give up on a job that is
            # still running there, it logs on again, after a back-off, up to MAX_RELOGONS times.
            read = method == "GET"
            if relogons == MAX_RELOGONS or (relogons and sent.attempts == 1 and not read):
                raise AuthenticationError(
                    f"{what}: token refused {relogons + 1} times", agent=self.agent.name
                )
            self._tokens.invalidate(sent.token)
            relogons += 1
            if read and relogons > 1:
                await asyncio.sleep(self.policy.delay(relogons, None, self._rng))
            sent = await self._send(method, path, what, body, True)
        return self._checked(sent.answer, what)

    async def _send(
        self,
        method: str,
        path: str,
        what: str,
        body: dict[str, Any] | None,
        auth: bool,
    ) -> _Sent:
        """One call, repeated on transient faults within the retry budget.

        The token is taken afresh for each attempt: one renewed meanwhile (by any call) is used.
        The budget is charged what the server cost (see ``RetryPolicy``), not time this process
        spent waiting for a busy CPU.
        """
        policy, spent = self.policy, None  # a call's cost is kept from its first fault on
        url, tls = self._base + path, self._tls()
        attempt = 0
        while True:
            token = await self._tokens.get() if auth else None
            self.requests += 1
            began, lag = time.monotonic(), self._lag.seconds()
            try:
                with self._lag:
                    answer = await exchange(
                        self._session,
                        method,
                        url,
                        body=body,
                        headers=self._headers(token),
                        ssl=tls,
                        timeout=self._timeout,
                        max_body=policy.max_body,
                    )
                return _Sent(answer, token, spent.tries + 1 if spent else 1)
            except ProtocolError as exc:
                raise self._named(exc, what) from None
            except Transient as fault:
                elapsed, lag = time.monotonic() - began, self._lag.seconds() - lag
                spent = spent or Spent(policy)
                attempt += spent.failed(elapsed, lag, timed_out=fault.timed_out)
                wait = policy.delay(max(1, attempt), fault.retry_after, self._rng)
                if attempt >= policy.max_attempts or not spent.allows(wait):
                    raise self._unavailable(what, spent, fault) from None
                await asyncio.sleep(wait)

    def _headers(self, token: str | None) -> dict[str, str] | None:
        """The token's header, built once per token (every call of every job sends it)."""
        if token is None:
            return None
        if self._token_headers is None or self._token_headers[0] != token:
            self._token_headers = (token, {wire.TOKEN_HEADER: token})
        return self._token_headers[1]

    def _named(self, exc: ProtocolError, what: str) -> ProtocolError:
        """``exc`` saying which call of which agent it broke (it came without either)."""
        if exc.agent is not None:
            return exc
        return type(exc)(f"{what}: {exc}", agent=self.agent.name)

    def _unavailable(self, what: str, spent: Spent, fault: Transient) -> ServerUnavailable:
        """Says how many attempts the call made, as ``max_attempts`` counts them, and apart the
        tries that timed out while this process was starved of CPU (``Spent``: not counted;
        such a try may never have reached the server)."""
        attempts = spent.tries - spent.excused
        made = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        if spent.excused:
            made += (
                f", and {spent.excused} {'tries' if spent.excused != 1 else 'try'} not counted "
                "(timed out while this machine was too busy)"
            )
        return ServerUnavailable(
            f"{what}: {self._base} unavailable after {made} ({fault.reason})",
            agent=self.agent.name,
        )

    def _checked(self, answer: Answer, what: str) -> Any:
        """The answer's JSON if it is a success; else the error its status means."""
        if 200 <= answer.status < 300:
            return answer.data
        raise self._http_error(answer, what)

    def _http_error(self, answer: Answer, what: str) -> AmtError:
        detail = wire.error_text(answer.data) or f"HTTP {answer.status}"
        name = self.agent.name
        if 300 <= answer.status < 400:
            return ProtocolError(
                f"{what}: the server answered HTTP {answer.status}, a redirect to "
                f"{wire.redirect_host(answer.location)}; amtflow never follows redirects "
                "(they would carry the password or token elsewhere): set batch_server_url to "
                "the server's own address",
                agent=name,
            )
        if answer.status == 400:
            return RequestRejected(f"{what}: rejected as malformed: {detail}", agent=name)
        if answer.status in (401, 403):
            return AuthenticationError(f"{what}: not authorised: {detail}", agent=name)
        if answer.status == 404:
            hint = "" if answer.data is not None else f" (is {self._base} an AMT Batch Server?)"
            return NotFound(f"{what}: not found: {detail}{hint}", agent=name)
        if answer.status == 409:
            return Conflict(f"{what}: {detail}", agent=name)
        return ProtocolError(f"{what}: unexpected HTTP {answer.status}: {detail}", agent=name)

    def _tls(self) -> ssl.SSLContext | bool:
        if self._ssl is None:
            self._ssl = tls_context(self.agent, self._base)
        return self._ssl
