from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import pytest

from amtflow.batch import JobStatus, StartRequest
from amtflow.client import AmtClient, RetryPolicy, new_session
from amtflow.model import Agent, BatchUser, SecretRef
from amtflow.simulator import Scenario, Simulator
from amtflow.task import AmtTask, TaskType

FAST = RetryPolicy(
    max_attempts=8,
    budget=10.0,
    base_delay=0.005,
    max_delay=0.02,
    retry_after_cap=0.05,
    request_timeout=2.0,
    connect_timeout=1.0,
)
USERS = {"OPCONAPI": "pw"}
SCENARIO = Scenario.from_mapping(
    {
        "default": {"duration": 0.05},
        "jobs": {
            "LONG": {"duration": 30, "messages": ["step 1", "step 2", "step 3"]},
            "STUBBORN": {"duration": 30, "ignores_kill": True},
            "WAITER": {"queued": 30, "duration": 1},
            "FAILS": {"duration": 0, "end_code": 12},
            "PARENT": {"duration": 0, "children": [{"name": "CHILD", "messages": ["child says"]}]},
            "F:\\Amt\\GONE.ps1": {"missing": True},
        },
        "invalid_users": ["NOBODY"],
    }
)


@dataclass
class Server:
    simulator: Simulator
    url: str
    client: AmtClient
    session: aiohttp.ClientSession

    def new_client(self, policy: RetryPolicy = FAST, password: str = "pw") -> AmtClient:
        agent = Agent(name="sim", batch_server_url=self.url, batch_user="u")
        user = BatchUser(name="u", identifier="OPCONAPI", password=SecretRef(env="NOPE"))
        return AmtClient(self.session, agent, user, password=lambda: password, policy=policy)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    simulator = Simulator(SCENARIO, users=USERS, seed=7)
    # an answer a test left pending (a 30 s slow fault) is dropped when the test ends, not waited for
    async with simulator.running(shutdown_timeout=0.5) as url, new_session() as session:
        server = Server(simulator, url, None, session)  # type: ignore[arg-type]
        server.client = server.new_client()
        yield server


def client_for(session: aiohttp.ClientSession, url: str, policy: RetryPolicy = FAST) -> AmtClient:
    agent = Agent(name="sim", batch_server_url=url, batch_user="u")
    user = BatchUser(name="u", identifier="OPCONAPI", password=SecretRef(env="NOPE"))
    return AmtClient(session, agent, user, password=lambda: "pw", policy=policy)


def job(name: str, **kwargs: object) -> StartRequest:
    task = AmtTask(TaskType.BATCH_JOB, "DEMO2", name, **kwargs)  # type: ignore[arg-type]
    return StartRequest(str(uuid.uuid4()), task)


def script(name: str, **kwargs: object) -> StartRequest:
    task = AmtTask(TaskType.SCRIPT, "DEMO2", name, **kwargs)  # type: ignore[arg-type]
    return StartRequest(str(uuid.uuid4()), task)


async def until_ended(client: AmtClient, batch_request_id: int) -> JobStatus:
    import asyncio

    for _ in range(400):
        status = await client.monitor(batch_request_id)
        if status.terminal:
            return status
        await asyncio.sleep(0.01)
    raise AssertionError("job did not end")


async def until_recorded(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Wait until ``condition`` holds (the simulator's record shows it): a loaded machine may take
    long to get there, and a test waits for the event rather than a fixed time."""
    import asyncio

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not recorded within {timeout} s")
        await asyncio.sleep(0.005)
