"""One HTTP exchange with the simulated server, apart from what the API answers: the request
recorded (its password redacted), a fault injected as ``Faults`` ask, a dropped connection, an
error answer in the contract's shape (docs/amt-api.md).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from amtflow.simulator.faults import Faults
from amtflow.simulator.record import RecordedRequest

# aiohttp 3.14 brought typed request keys and warns on plain strings; older ones take strings.
if hasattr(web, "RequestKey"):
    RECORD_KEY: Any = web.RequestKey("amtflow_record", RecordedRequest)
    BODY_KEY: Any = web.RequestKey("amtflow_body", object)  # the parsed body, password included
else:  # pragma: no cover - aiohttp < 3.14
    RECORD_KEY, BODY_KEY = "amtflow_record", "amtflow_body"
TOKEN_HEADER = "X-AMT-LogonToken"


class ApiError(Exception):
    """An error answer: HTTP status, contract error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


async def injected_fault(
    faults: Faults, request: web.Request, entry: RecordedRequest
) -> web.Response | None:
    """The answer of a fault ``faults`` injects into this exchange, or None: none this time."""
    if faults.down:
        return drop(request, entry, "down")
    if not faults.applies(request.path):
        return None
    if faults.roll(faults.slow_rate):
        entry.fault = "slow"
        await asyncio.sleep(faults.slow_seconds)
    if faults.roll(faults.drop_rate):
        return drop(request, entry, "drop")
    if faults.roll(faults.error_rate):
        return _faulty(faults, entry, faults.rng.choice(faults.error_statuses))
    if faults.roll(faults.throttle_rate):
        return _faulty(faults, entry, 429)
    if faults.roll(faults.garble_rate):
        entry.fault, entry.answer = "garble", 200
        return web.Response(body=b'{"batchRequestId": 42', content_type="application/json")
    return None


def _faulty(faults: Faults, entry: RecordedRequest, status: int) -> web.Response:
    entry.fault, entry.answer = f"http{status}", status
    response = error_answer(
        status, "TOO_MANY_REQUESTS" if status == 429 else "SERVER_ERROR", "simulated fault"
    )
    if faults.retry_after is not None and status in (429, 503):
        response.headers["Retry-After"] = f"{faults.retry_after:g}"
    return response


async def read_body(request: web.Request) -> Any:
    """The request's JSON body; None without one, ``<not JSON>`` for one that is not JSON."""
    if not request.can_read_body:
        return None
    try:
        return json.loads(await request.read())
    except ValueError:
        return _NOT_JSON


def recorded(request: web.Request, body: Any) -> RecordedRequest:
    """The request as the record keeps it: its password never."""
    return RecordedRequest(
        method=request.method,
        path=request.path,
        query=dict(request.query),
        body=_redacted(body),
        time=time.monotonic(),
        token=request.headers.get(TOKEN_HEADER),
    )


_NOT_JSON = "<not JSON>"


def _redacted(body: Any) -> Any:
    if isinstance(body, dict) and "apiUserPassword" in body:
        return {**body, "apiUserPassword": "***"}
    return body


def drop(request: web.Request, entry: RecordedRequest, fault: str) -> web.Response:
    """Close the connection so that the client gets no answer at all."""
    entry.fault, entry.answer = fault, None
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=200)


def error_answer(status: int, code: str, message: str) -> web.Response:
    """An error answer as the contract shapes it: ``{"error": CODE, "message": ...}``."""
    return web.json_response({"error": code, "message": message}, status=status)
