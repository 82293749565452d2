"""Tokens that die during a call's transient retries are renewed, not taken for a refusal."""

from __future__ import annotations

import pytest
from aioresponses import aioresponses

from amtflow.client import AmtClient, RetryPolicy
from amtflow.errors import AuthenticationError
from tests.client.conftest import BASE, calls, logon_ok, status_body

MONITOR = f"{BASE}/api/MonitorJob/4280"
EXPIRED = {"error": "AUTHENTICATION_ERROR", "message": "token expired"}


def tokens_sent(mocked: aioresponses) -> list[str]:
    return [c.kwargs["headers"]["X-AMT-LogonToken"] for c in calls(mocked, "GET", MONITOR)]


async def test_token_expiring_during_retries_is_renewed(
    client: AmtClient,
    mocked: aioresponses,
) -> None:
    for token in ("t1", "t2", "t3"):
        logon_ok(mocked, token=token)
    mocked.get(MONITOR, status=401, payload=EXPIRED)  # t1 expired
    mocked.get(MONITOR, status=503)  # t2: a transient fault, then a wait...
    mocked.get(MONITOR, status=401, payload=EXPIRED)  # ...during which t2 expired
    mocked.get(MONITOR, payload=status_body())
    assert (await client.monitor(4280)).status == "RUNNING"
    assert tokens_sent(mocked) == ["t1", "t2", "t2", "t3"] and client.logons == 3


async def test_a_retry_uses_the_token_another_call_renewed(
    client: AmtClient,
    mocked: aioresponses,
) -> None:
    logon_ok(mocked, token="t1")
    mocked.get(MONITOR, status=503)
    mocked.get(MONITOR, payload=status_body())
    original = client._tokens.get
    seen: list[str] = []

    async def renewed_meanwhile() -> str:  # another job's call renews the token
        token = await original()
        seen.append(token)
        if len(seen) == 2:
            client._tokens._token = "t-renewed"
            return "t-renewed"
        return token

    client._tokens.get = renewed_meanwhile  # type: ignore[method-assign]
    await client.monitor(4280)
    assert tokens_sent(mocked) == ["t1", "t-renewed"]


async def test_tokens_refused_after_every_retry_give_up_after_three_renewals(
    client: AmtClient,
    mocked: aioresponses,
) -> None:
    logon_ok(mocked, times=4)
    for _ in range(4):
        mocked.get(MONITOR, status=503)
        mocked.get(MONITOR, status=401, payload=EXPIRED)
    with pytest.raises(AuthenticationError, match="token refused 4 times") as caught:
        await client.monitor(4280)
    assert caught.value.completion_code == 24 and client.logons == 4
    assert len(tokens_sent(mocked)) == 8


def test_equal_jitter_spans_at_least_half_the_ceilings() -> None:
    import random

    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=4.0, budget=100.0)
    rng = random.Random(1)
    waits = [[policy.backoff(n, rng) for n in range(1, 5)] for _ in range(200)]
    assert min(sum(w) for w in waits) >= policy.least_span() == (1 + 2 + 4 + 4) / 2
    assert RetryPolicy().least_span() >= 30  # the default survives a 30 s restart
