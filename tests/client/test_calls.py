"""The client's happy paths: what it sends and what it makes of the answers."""

from __future__ import annotations

import aiohttp
from aioresponses import aioresponses

from amtflow.batch import StartRequest
from amtflow.client import AmtClient, iter_messages
from amtflow.task import AmtTask, TaskType
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

BATCH_JOB = StartRequest(
    "task-1", AmtTask(TaskType.BATCH_JOB, "DEMO2", "REPORTTEST01", ("PERIOD=2026-11",))
)
SCRIPT = StartRequest(
    "task-2",
    AmtTask(
        TaskType.SCRIPT,
        "DEMO2",
        "F:\\Amt\\RUN.ps1",
        ("INPUT=daily.csv",),
        user="NIGHTOPS",
        queue="LOW",
    ),
)


async def test_start_batch_job_sends_the_contract_body_with_the_token(
    client: AmtClient, mocked: aioresponses
) -> None:
    logon_ok(mocked)
    mocked.post(
        f"{BASE}/api/OpConJobAction",
        payload={"batchRequestId": 4280, "completionCode": 1, "status": "QUEUED"},
    )
    answer = await client.start(BATCH_JOB)
    assert (answer.batch_request_id, answer.completion_code, answer.terminal) == (4280, 1, False)
    [logon] = calls(mocked, "POST", f"{BASE}/api/logon")
    assert logon.kwargs["json"] == {"apiUser": "OPCONAPI", "apiUserPassword": PASSWORD}
    [start] = calls(mocked, "POST", f"{BASE}/api/OpConJobAction")
    assert start.kwargs["headers"] == {"X-AMT-LogonToken": TOKEN}
    assert start.kwargs["json"] == {
        "action": "Start",
        "taskId": "task-1",
        "taskType": "BatchJob",
        "applicationName": "DEMO2",
        "amtSubmitUser": "BATCH",
        "amtUser": None,
        "amtStation": "OPCON",
        "amtQueueName": None,
        "jobName": "REPORTTEST01",
        "taskValues": ["PERIOD=2026-11"],
    }


async def test_start_script_sends_script_fields(client: AmtClient, mocked: aioresponses) -> None:
    logon_ok(mocked)
    mocked.post(
        f"{BASE}/api/OpConJobAction",
        payload={"batchRequestId": 7, "completionCode": 1, "status": "QUEUED"},
    )
    await client.start(SCRIPT)
    body = calls(mocked, "POST", f"{BASE}/api/OpConJobAction")[0].kwargs["json"]
    assert body["taskType"] == "Script"
    assert body["scriptName"] == "F:\\Amt\\RUN.ps1"
    assert body["scriptParameters"] == ["INPUT=daily.csv"]
    assert (body["amtUser"], body["amtQueueName"]) == ("NIGHTOPS", "LOW")
    assert "jobName" not in body and "taskValues" not in body


async def test_monitor_parses_every_field(client: AmtClient, mocked: aioresponses) -> None:
    logon_ok(mocked)
    mocked.get(f"{BASE}/api/MonitorJob/4280", payload=status_body(code=4, status="DONE"))
    status = await client.monitor(4280)
    assert status.ok and status.terminal
    assert status.start_time == "2026-11-24T06:00:01+00:00" and status.end_time is None


async def test_unknown_completion_code_is_not_terminal(
    client: AmtClient, mocked: aioresponses
) -> None:
    logon_ok(mocked)
    mocked.get(f"{BASE}/api/MonitorJob/1", payload=status_body(rid=1, code=42, status="NEW"))
    status = await client.monitor(1)
    assert not status.terminal and not status.ok


async def test_kill_returns_the_answers_status(client: AmtClient, mocked: aioresponses) -> None:
    logon_ok(mocked)
    mocked.post(
        f"{BASE}/api/OpConJobAction",
        payload={"batchRequestId": 4280, "completionCode": 3, "status": "KILLED"},
    )
    status = await client.kill(4280)
    assert status.completion_code == 3
    body = calls(mocked, "POST", f"{BASE}/api/OpConJobAction")[0].kwargs["json"]
    assert body == {"action": "Kill", "batchRequestId": 4280}


async def test_status_needs_no_token_and_one_logon_serves_many_calls(
    client: AmtClient, mocked: aioresponses
) -> None:
    mocked.get(f"{BASE}/api/status", payload={"version": "8.0.1", "batchServer": "RUNNING"})
    assert (await client.status()).version == "8.0.1"
    assert calls(mocked, "GET", f"{BASE}/api/status")[0].kwargs["headers"] is None
    logon_ok(mocked)
    for _ in range(3):
        mocked.get(f"{BASE}/api/MonitorJob/1", payload=status_body(rid=1))
        await client.monitor(1)
    assert client.logons == 1
    assert client.requests == 5  # status, logon, 3 monitors


async def test_url_path_prefix_is_kept(
    session: aiohttp.ClientSession, mocked: aioresponses
) -> None:
    base = "https://amt.example.com:4004/amt"
    client = AmtClient(
        session, make_agent(base + "/"), BATCH_USER, password=lambda: "x", policy=FAST
    )
    logon_ok(mocked, base=base)
    mocked.get(f"{base}/api/MonitorJob/5", payload=status_body(rid=5))
    assert (await client.monitor(5)).batch_request_id == 5


def _page(seqs: range, more: bool) -> dict[str, object]:
    return {
        "batchRequestId": 9,
        "more": more,
        "messages": [
            {"seq": s, "batchRequestId": 9, "time": "2026-11-24T06:00:01+00:00", "text": f"m{s}"}
            for s in seqs
        ],
    }


async def test_iter_messages_follows_more_without_reading_twice(
    client: AmtClient, mocked: aioresponses
) -> None:
    logon_ok(mocked)
    mocked.get(f"{BASE}/api/GetMessages/9?after=0", payload=_page(range(1, 3), True))
    mocked.get(f"{BASE}/api/GetMessages/9?after=2", payload=_page(range(3, 5), False))
    texts = [m.text async for m in iter_messages(client, 9)]
    assert texts == ["m1", "m2", "m3", "m4"]


async def test_iter_messages_stops_on_endless_more(client: AmtClient, mocked: aioresponses) -> None:
    logon_ok(mocked)
    for after in range(0, 20):
        mocked.get(
            f"{BASE}/api/GetMessages/9?after={after}",
            payload=_page(range(after + 1, after + 2), True),
        )
    seqs = [m.seq async for m in iter_messages(client, 9, max_pages=5)]
    assert seqs == [1, 2, 3, 4, 5]


async def test_iter_messages_stops_on_a_page_without_progress(
    client: AmtClient, mocked: aioresponses
) -> None:
    logon_ok(mocked)
    mocked.get(f"{BASE}/api/GetMessages/9?after=3", payload=_page(range(1, 4), True), repeat=True)
    assert [m async for m in iter_messages(client, 9, after=3)] == []
    assert len(calls(mocked, "GET", f"{BASE}/api/GetMessages/9?after=3")) == 1
