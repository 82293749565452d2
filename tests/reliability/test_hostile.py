"""Hostile server answers: each is bounded (no hang, bounded memory) and ends the job clearly."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from amtflow.batch import WEB_SERVER_ERROR
from amtflow.engine import attempt
from amtflow.runs import JobState
from tests.reliability.hostile import (
    HOSTILE_POLICY,
    RID,
    Handler,
    HostileServer,
    answer,
    job_status,
    messages,
    run_one_job,
)

MONITOR, MESSAGES, START = "/api/MonitorJob/{id}", "/api/GetMessages/{id}", "/api/OpConJobAction"
LIMIT = HOSTILE_POLICY.max_body


def raw(body: bytes, status: int = 200, **headers: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=body, status=status, headers=headers, content_type="application/json"
        )

    return handle


def endless_stream() -> Handler:
    """A 200 whose chunked body never ends."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b'{"messages": [' + b" " * 65536
        for _ in itertools.count():
            await response.write(chunk)

    return handle


def fresh_page_forever() -> Handler:
    """``more: true`` forever, each page with new seqs."""

    async def handle(request: web.Request) -> web.StreamResponse:
        after = int(request.query.get("after", "0"))
        return web.json_response(messages("again", first=after + 1, more=True))

    return handle


# name -> (server, the call that misbehaves, what the job's reason must say, most such calls)
REFUSED: dict[str, tuple[Callable[[], HostileServer], str, str, int]] = {
    "non-JSON status": (
        lambda: HostileServer(monitor=raw(b"<html>Service Unavailable</html>")),
        MONITOR,
        "answer is not valid JSON",
        HOSTILE_POLICY.max_attempts,
    ),
    "wrong types": (
        lambda: HostileServer(monitor=answer({**job_status(), "completionCode": "4"})),
        MONITOR,
        "'completionCode' has the wrong type (str)",
        1,
    ),
    "not an object": (
        lambda: HostileServer(monitor=answer([job_status()])),
        MONITOR,
        "expected a JSON object, got list",
        1,
    ),
    "negative batchRequestId": (
        lambda: HostileServer(start=answer(job_status(1, rid=-5))),
        START,
        "'batchRequestId' is out of range (-5)",
        1,
    ),
    "enormous batchRequestId": (
        lambda: HostileServer(start=answer(job_status(1, rid=10**30))),
        START,
        "'batchRequestId' is out of range",
        1,
    ),
    "negative seq": (
        lambda: HostileServer(messages_=answer(messages("x", first=-3))),
        MESSAGES,
        "'seq' is out of range (-3)",
        1,
    ),
    "page over the size limit": (
        lambda: HostileServer(messages_=raw(b" " * (LIMIT + 1))),
        MESSAGES,
        f"over the {LIMIT}-byte limit",
        1,
    ),
    "endless chunked page": (
        lambda: HostileServer(messages_=endless_stream()),
        MESSAGES,
        f"over the {LIMIT}-byte limit",
        1,
    ),
    "100,000 nested brackets": (
        lambda: HostileServer(monitor=raw(b"[" * 100_000 + b"]" * 100_000)),
        MONITOR,
        "answer is not valid JSON",
        HOSTILE_POLICY.max_attempts,
    ),
    "an answer about another job": (
        lambda: HostileServer(monitor=answer(job_status(4, rid=RID + 1))),
        MONITOR,
        f"the answer is about another job ({RID + 1})",
        1,
    ),
    "Retry-After: 999999": (
        lambda: HostileServer(
            monitor=raw(
                b'{"error": "TOO_MANY_REQUESTS", "message": "x"}', 429, **{"Retry-After": "999999"}
            )
        ),
        MONITOR,
        "unavailable after",
        HOSTILE_POLICY.max_attempts,
    ),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_hostile_answer_fails_the_job_clearly(case: str, tmp_path: Path) -> None:
    make, call, says, most = REFUSED[case]
    server = make()
    outcome, log = await run_one_job(server, tmp_path)
    assert (outcome.state, outcome.completion_code) == (JobState.FAILED, WEB_SERVER_ERROR)
    assert says in outcome.reason and "\n" not in outcome.reason
    assert len(outcome.reason) < 400 and "Traceback" not in log
    assert says in log and "Completion Code : WEB_SERVER_ERROR (23)" in log
    assert 1 <= server.calls[call] <= most  # and it ended: run_one_job's deadline


async def test_a_10_mb_message_is_cut_in_the_log(tmp_path: Path) -> None:
    server = HostileServer(messages_=answer(messages("before", "x" * 10_000_000, "after")))
    outcome, log = await run_one_job(server, tmp_path)
    assert outcome.state is JobState.OK
    assert '"before"' in log and '"after"' in log
    assert "[cut: the message had 10000000 characters]" in log
    assert len(log) < 80_000


async def test_a_huge_page_is_written_once_in_order(tmp_path: Path) -> None:
    texts = [f"line {n}" for n in range(100_000)]
    server = HostileServer(messages_=answer(messages(*texts)))
    # Serving and reading a 100,000-message page takes seconds of CPU on a loaded machine: the
    # short timeouts of the other hostile tests would turn that into a 23 (seen under load).
    patient = dataclasses.replace(HOSTILE_POLICY, request_timeout=60.0, budget=120.0)
    outcome, log = await run_one_job(server, tmp_path, patient)
    assert outcome.state is JobState.OK, outcome.reason
    lines = [line for line in log.splitlines() if line.startswith('"line ')]
    assert lines == [json.dumps(t) for t in texts]
    assert server.calls[MESSAGES] <= 3


async def test_more_true_forever_without_progress_stops_at_once(tmp_path: Path) -> None:
    server = HostileServer(messages_=answer(messages("same", more=True)))
    outcome, log = await run_one_job(server, tmp_path)
    assert outcome.state is JobState.OK and log.count('"same"') == 1
    assert server.calls[MESSAGES] <= 6


async def test_more_true_forever_with_new_messages_is_bounded(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(attempt, "MAX_PAGES_PER_READ", 25)
    server = HostileServer(messages_=fresh_page_forever())
    outcome, log = await run_one_job(server, tmp_path)
    assert outcome.state is JobState.OK  # the server's completion code stays the truth
    assert "stopped reading messages: the server kept saying there were more" in log
    assert server.calls[MESSAGES] <= 2 * 25
