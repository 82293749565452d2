"""Each error class of the contract, retries, Retry-After, re-logon, limits."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses

from amtflow.client import AmtClient, RetryPolicy
from amtflow.client.core import MAX_RELOGONS
from amtflow.errors import (
    AuthenticationError,
    Conflict,
    NotFound,
    ProtocolError,
    RequestRejected,
    ServerUnavailable,
)
from tests.client.conftest import (
    BASE,
    BATCH_USER,
    FAST,
    PASSWORD,
    TOKEN,
    calls,
    logon_ok,
    make_agent,
    status_body,
)
from tests.client.test_calls import BATCH_JOB

MONITOR = f"{BASE}/api/MonitorJob/4280"
ACTION = f"{BASE}/api/OpConJobAction"


def error(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every back-off delay the client waits (without waiting)."""
    waited: list[float] = []

    async def fake_sleep(delay: float) -> None:
        waited.append(delay)

    monkeypatch.setattr("amtflow.client.core.asyncio.sleep", fake_sleep)
    return waited


async def test_400_is_rejected_and_never_retried(client: AmtClient, mocked: aioresponses) -> None:
    logon_ok(mocked)
    mocked.post(ACTION, status=400, payload=error("BAD_REQUEST", "'taskValues' has 21 items"))
    with pytest.raises(RequestRejected, match="'taskValues' has 21 items"):
        await client.start(BATCH_JOB)
    assert len(calls(mocked, "POST", ACTION)) == 1


async def test_404_is_not_found(client: AmtClient, mocked: aioresponses) -> None:
    logon_ok(mocked)
    mocked.get(MONITOR, status=404, payload=error("NOT_FOUND", "unknown batch request id 4280"))
    with pytest.raises(NotFound, match="unknown batch request id 4280") as caught:
        await client.monitor(4280)
    assert caught.value.agent == "amt-demo"


async def test_404_without_json_hints_at_a_wrong_url(
    client: AmtClient, mocked: aioresponses
) -> None:
    mocked.get(f"{BASE}/api/status", status=404, body="<html>nope</html>", content_type="text/html")
    with pytest.raises(NotFound, match="an AMT Batch Server"):
        await client.status()


async def test_kill_of_an_ended_job_is_a_conflict(client: AmtClient, mocked: aioresponses) -> None:
    logon_ok(mocked)
    mocked.post(ACTION, status=409, payload=error("CONFLICT", "job 4280 already ended with DONE"))
    with pytest.raises(Conflict, match="already ended with DONE"):
        await client.kill(4280)
    assert len(calls(mocked, "POST", ACTION)) == 1


async def test_401_logs_on_again_once_and_repeats_the_call(
    client: AmtClient, mocked: aioresponses
) -> None:
    logon_ok(mocked, token="old")
    logon_ok(mocked, token="new")
    mocked.get(MONITOR, status=401, payload=error("AUTHENTICATION_ERROR", "token expired"))
    mocked.get(MONITOR, payload=status_body())
    assert (await client.monitor(4280)).status == "RUNNING"
    tokens = [c.kwargs["headers"]["X-AMT-LogonToken"] for c in calls(mocked, "GET", MONITOR)]
    assert tokens == ["old", "new"] and client.logons == 2


async def test_second_401_on_a_start_is_an_authentication_error_code_24(
    client: AmtClient, mocked: aioresponses
) -> None:
    logon_ok(mocked, times=2)
    mocked.post(ACTION, status=401, payload=error("AUTHENTICATION_ERROR", "revoked"), repeat=True)
    with pytest.raises(AuthenticationError) as caught:
        await client.start(BATCH_JOB)
    assert caught.value.completion_code == 24
    assert len(calls(mocked, "POST", ACTION)) == 2 and client.logons == 2


async def test_a_read_refused_twice_logs_on_again_within_bounds_then_fails_24(
    client: AmtClient, mocked: aioresponses, sleeps: list[float]
) -> None:
    """A MonitorJob poll does not give up on a running job at the second 401 (finding 12)."""
    logon_ok(mocked, times=MAX_RELOGONS + 1)
    mocked.get(MONITOR, status=401, payload=error("AUTHENTICATION_ERROR", "revoked"), repeat=True)
    with pytest.raises(AuthenticationError, match="token refused 4 times") as caught:
        await client.monitor(4280)
    assert caught.value.completion_code == 24
    assert len(calls(mocked, "GET", MONITOR)) == MAX_RELOGONS + 1
    assert client.logons == MAX_RELOGONS + 1 and len(sleeps) == MAX_RELOGONS - 1


async def test_a_read_refused_twice_then_accepted_goes_on(
    client: AmtClient, mocked: aioresponses, sleeps: list[float]
) -> None:
    logon_ok(mocked, times=3)
    mocked.get(MONITOR, status=401, payload=error("AUTHENTICATION_ERROR", "flaky"))
    mocked.get(MONITOR, status=401, payload=error("AUTHENTICATION_ERROR", "flaky"))
    mocked.get(MONITOR, payload=status_body())
    assert (await client.monitor(4280)).completion_code == 2


async def test_refused_logon_says_what_to_fix_and_never_shows_the_password(
    client: AmtClient, mocked: aioresponses
) -> None:
    mocked.post(
        f"{BASE}/api/logon",
        status=401,
        payload=error("AUTHENTICATION_ERROR", "invalid credentials"),
    )
    with pytest.raises(AuthenticationError) as caught:
        await client.monitor(1)
    message = str(caught.value)
    assert "batch user 'amt-api' (OPCONAPI)" in message
    assert "env var AMT_TEST_PASSWORD" in message
    assert PASSWORD not in message and PASSWORD not in repr(caught.value)


async def test_5xx_is_retried_until_it_succeeds(
    client: AmtClient, mocked: aioresponses, sleeps: list[float]
) -> None:
    logon_ok(mocked)
    mocked.get(MONITOR, status=500, payload=error("SERVER_ERROR", "boom"))
    mocked.get(MONITOR, status=503, payload=error("SERVER_ERROR", "boom"))
    mocked.get(MONITOR, payload=status_body())
    assert (await client.monitor(4280)).batch_request_id == 4280
    assert len(sleeps) == 2 and all(0 <= s <= FAST.max_delay for s in sleeps)


async def test_spent_retry_budget_raises_server_unavailable_code_23(
    client: AmtClient, mocked: aioresponses, sleeps: list[float]
) -> None:
    logon_ok(mocked)
    mocked.get(MONITOR, status=502, body="bad gateway", repeat=True)
    with pytest.raises(ServerUnavailable, match=r"after 4 attempts \(HTTP 502\)") as caught:
        await client.monitor(4280)
    assert caught.value.completion_code == 23
    assert len(calls(mocked, "GET", MONITOR)) == FAST.max_attempts


@pytest.mark.parametrize(
    "fault",
    [
        asyncio.TimeoutError(),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("Response payload is not completed"),
        aiohttp.ClientOSError(104, "Connection reset by peer"),
    ],
)
async def test_connection_faults_are_retried(
    client: AmtClient, mocked: aioresponses, sleeps: list[float], fault: Exception
) -> None:
    logon_ok(mocked)
    mocked.get(MONITOR, exception=fault)
    mocked.get(MONITOR, payload=status_body())
    assert (await client.monitor(4280)).status == "RUNNING"
    assert len(sleeps) == 1


async def test_truncated_json_is_retried(
    client: AmtClient, mocked: aioresponses, sleeps: list[float]
) -> None:
    logon_ok(mocked)
    mocked.get(MONITOR, body='{"batchRequestId": 4280, "compl')
    mocked.get(MONITOR, payload=status_body())
    assert (await client.monitor(4280)).completion_code == 2


async def test_retry_after_is_honoured(
    client: AmtClient, mocked: aioresponses, sleeps: list[float]
) -> None:
    logon_ok(mocked)
    mocked.get(
        MONITOR,
        status=429,
        payload=error("TOO_MANY_REQUESTS", "slow down"),
        headers={"Retry-After": "0.04"},
    )
    mocked.get(MONITOR, payload=status_body())
    await client.monitor(4280)
    assert sleeps == [pytest.approx(0.04)] or sleeps[0] >= 0.04


async def test_hostile_retry_after_is_capped(
    client: AmtClient, mocked: aioresponses, sleeps: list[float]
) -> None:
    logon_ok(mocked)
    mocked.get(
        MONITOR,
        status=429,
        payload=error("TOO_MANY_REQUESTS", "go away"),
        headers={"Retry-After": "999999"},
    )
    mocked.get(MONITOR, payload=status_body())
    await client.monitor(4280)
    assert sleeps == [FAST.retry_after_cap]


async def test_retry_after_beyond_the_budget_gives_up_at_once(
    session: aiohttp.ClientSession, mocked: aioresponses, sleeps: list[float]
) -> None:
    policy = RetryPolicy(max_attempts=5, budget=1.0, retry_after_cap=60.0)
    client = AmtClient(session, make_agent(), BATCH_USER, password=lambda: "x", policy=policy)
    logon_ok(mocked)
    mocked.get(MONITOR, status=503, headers={"Retry-After": "30"}, repeat=True)
    with pytest.raises(ServerUnavailable):
        await client.monitor(4280)
    assert sleeps == [] and len(calls(mocked, "GET", MONITOR)) == 1


async def test_start_is_repeated_with_the_same_task_id(
    client: AmtClient, mocked: aioresponses, sleeps: list[float]
) -> None:
    logon_ok(mocked)
    mocked.post(ACTION, exception=aiohttp.ServerDisconnectedError())
    mocked.post(ACTION, payload={"batchRequestId": 1, "completionCode": 1, "status": "QUEUED"})
    await client.start(BATCH_JOB)
    task_ids = [c.kwargs["json"]["taskId"] for c in calls(mocked, "POST", ACTION)]
    assert task_ids == ["task-1", "task-1"]


@pytest.mark.parametrize(
    "body",
    [
        {"batchRequestId": "4280", "completionCode": 2, "status": "RUNNING"},
        {"batchRequestId": 4280, "completionCode": True, "status": "RUNNING"},
        {"batchRequestId": 4280, "status": "RUNNING"},
        {"batchRequestId": 4280, "completionCode": 2, "status": "RUNNING", "startTime": 5},
        [1, 2, 3],
    ],
)
async def test_answers_that_break_the_contract_are_protocol_errors(
    client: AmtClient, mocked: aioresponses, body: Any
) -> None:
    logon_ok(mocked)
    mocked.get(MONITOR, payload=body)
    with pytest.raises(ProtocolError, match="MonitorJob 4280"):
        await client.monitor(4280)


async def test_message_with_wrong_types_is_a_protocol_error(
    client: AmtClient, mocked: aioresponses
) -> None:
    logon_ok(mocked)
    mocked.get(
        f"{BASE}/api/GetMessages/1?after=0",
        payload={
            "batchRequestId": 1,
            "more": False,
            "messages": [{"seq": 1, "batchRequestId": 1, "time": "t", "text": None}],
        },
    )
    with pytest.raises(ProtocolError, match="'text'"):
        await client.messages(1)


async def test_oversized_body_is_an_error_not_unbounded_memory(
    session: aiohttp.ClientSession, mocked: aioresponses
) -> None:
    policy = RetryPolicy(max_body=1000, base_delay=0.001, max_delay=0.001)
    client = AmtClient(session, make_agent(), BATCH_USER, password=lambda: "x", policy=policy)
    logon_ok(mocked)
    mocked.get(f"{BASE}/api/GetMessages/1?after=0", body="x" * 5000)
    with pytest.raises(ProtocolError, match="limit"):
        await client.messages(1)


async def test_single_flight_logon_under_50_concurrent_calls(
    client: AmtClient, mocked: aioresponses
) -> None:
    async def slow_logon(url: Any, **kwargs: Any) -> CallbackResult:
        await asyncio.sleep(0.02)
        return CallbackResult(payload={"amtLogonToken": TOKEN, "expiresIn": 3600})

    mocked.post(f"{BASE}/api/logon", callback=slow_logon, repeat=True)
    mocked.get(MONITOR, payload=status_body(), repeat=True)
    await asyncio.gather(*(client.monitor(4280) for _ in range(50)))
    assert len(calls(mocked, "POST", f"{BASE}/api/logon")) == 1
    assert len(calls(mocked, "GET", MONITOR)) == 50


async def test_concurrent_401s_trigger_one_relogon(client: AmtClient, mocked: aioresponses) -> None:
    logon_ok(mocked, token="old")
    await client.logon()

    def by_token(url: Any, **kwargs: Any) -> CallbackResult:
        if kwargs["headers"]["X-AMT-LogonToken"] == "old":
            return CallbackResult(status=401, payload=error("AUTHENTICATION_ERROR", "expired"))
        return CallbackResult(payload=status_body())

    mocked.post(
        f"{BASE}/api/logon", payload={"amtLogonToken": "new", "expiresIn": 3600}, repeat=True
    )
    mocked.get(MONITOR, callback=by_token, repeat=True)
    await asyncio.gather(*(client.monitor(4280) for _ in range(20)))
    assert client.logons == 2


async def test_failed_logon_is_shared_by_all_waiters(
    client: AmtClient, mocked: aioresponses
) -> None:
    mocked.post(
        f"{BASE}/api/logon", status=401, payload=error("AUTHENTICATION_ERROR", "no"), repeat=True
    )
    results = await asyncio.gather(*(client.monitor(1) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, AuthenticationError) for r in results)
    assert len(calls(mocked, "POST", f"{BASE}/api/logon")) == 1
