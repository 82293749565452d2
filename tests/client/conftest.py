from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from aioresponses import core as aioresponses_core

from amtflow.client import AmtClient, RetryPolicy, new_session
from amtflow.model import Agent, BatchUser, SecretRef

BASE = "http://amt.test:42000"
PASSWORD = "s3cr3t-Pa55"
TOKEN = "tok-ABCDEF-123456"

FAST = RetryPolicy(
    max_attempts=4,
    budget=5.0,
    base_delay=0.001,
    max_delay=0.005,
    retry_after_cap=0.05,
    request_timeout=2.0,
    connect_timeout=1.0,
)


def make_agent(url: str = BASE, **kwargs: Any) -> Agent:
    return Agent(name="amt-demo", batch_server_url=url, batch_user="amt-api", **kwargs)


BATCH_USER = BatchUser(
    name="amt-api", identifier="OPCONAPI", password=SecretRef(env="AMT_TEST_PASSWORD")
)


class _CompatResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 (the newest) predates aiohttp's ``stream_writer`` argument (3.12)."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


# Patched only while needed: with an older aiohttp, or an aioresponses that passes the argument
# itself, the patch stands aside by itself.
NEEDS_PATCH = "stream_writer" in inspect.signature(
    aiohttp.ClientResponse.__init__
).parameters and "stream_writer" not in inspect.getsource(aioresponses_core)


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    if NEEDS_PATCH:
        monkeypatch.setattr(aioresponses_core, "ClientResponse", _CompatResponse)
    with aioresponses() as mock:
        yield mock


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with new_session() as session:
        yield session


@pytest.fixture
def client(session: aiohttp.ClientSession) -> AmtClient:
    return AmtClient(session, make_agent(), BATCH_USER, password=lambda: PASSWORD, policy=FAST)


def logon_ok(
    mock: aioresponses, token: str = TOKEN, expires: float = 3600, times: int = 1, base: str = BASE
) -> None:
    for _ in range(times):
        mock.post(f"{base}/api/logon", payload={"amtLogonToken": token, "expiresIn": expires})


def status_body(rid: int = 4280, code: int = 2, status: str = "RUNNING") -> dict[str, Any]:
    return {
        "batchRequestId": rid,
        "completionCode": code,
        "status": status,
        "description": "Job was started",
        "startTime": "2026-11-24T06:00:01+00:00",
        "endTime": None,
    }


def calls(mock: aioresponses, method: str, url: str) -> list[Any]:
    from yarl import URL

    return mock.requests.get((method, URL(url)), [])
