"""The simulator against docs/amt-api.md, field by field, with raw HTTP (not amtflow's client)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.simulator.conftest import Server

NULLABLE_STR = (str, type(None))


def assert_shape(data: dict[str, Any], shape: dict[str, Any]) -> None:
    assert set(data) == set(shape), f"fields {sorted(data)} != {sorted(shape)}"
    for name, kind in shape.items():
        value = data[name]
        assert isinstance(value, kind) and not (kind is int and isinstance(value, bool)), name


async def call(
    server: Server, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    headers = {"X-AMT-LogonToken": token} if token else {}
    async with server.session.request(
        method, server.url + path, json=body, headers=headers
    ) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def logon(server: Server) -> str:
    status, data = await call(
        server, "POST", "/api/logon", {"apiUser": "OPCONAPI", "apiUserPassword": "pw"}
    )
    assert status == 200
    assert_shape(data, {"amtLogonToken": str, "expiresIn": (int, float)})
    return str(data["amtLogonToken"])


def start_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "action": "Start",
        "taskId": "t-1",
        "taskType": "BatchJob",
        "applicationName": "DEMO2",
        "amtSubmitUser": "BATCH",
        "amtUser": None,
        "amtStation": "OPCON",
        "amtQueueName": None,
        "jobName": "LONG",
        "taskValues": ["PERIOD=2026-11"],
    }
    return {**body, **overrides}


def assert_error(data: Any, code: str) -> None:
    assert_shape(data, {"error": str, "message": str})
    assert data["error"] == code and data["message"]


async def test_status_needs_no_token(server: Server) -> None:
    status, data = await call(server, "GET", "/api/status")
    assert status == 200
    assert_shape(data, {"version": str, "batchServer": str})


async def test_bad_credentials_are_401(server: Server) -> None:
    status, data = await call(
        server, "POST", "/api/logon", {"apiUser": "OPCONAPI", "apiUserPassword": "wrong"}
    )
    assert status == 401
    assert_error(data, "AUTHENTICATION_ERROR")
    assert "wrong" not in str(server.simulator.record.requests[-1])


@pytest.mark.parametrize(
    "path, method",
    [
        ("/api/MonitorJob/1", "GET"),
        ("/api/GetMessages/1", "GET"),
        ("/api/OpConJobAction", "POST"),
    ],
)
async def test_calls_without_a_token_are_401(server: Server, path: str, method: str) -> None:
    status, data = await call(server, method, path, {"action": "Kill", "batchRequestId": 1})
    assert status == 401
    assert_error(data, "AUTHENTICATION_ERROR")


async def test_start_monitor_messages_kill_answers(server: Server) -> None:
    token = await logon(server)
    status, started = await call(server, "POST", "/api/OpConJobAction", start_body(), token)
    assert status == 200
    assert_shape(started, {"batchRequestId": int, "completionCode": int, "status": str})
    rid = started["batchRequestId"]
    status, monitored = await call(server, "GET", f"/api/MonitorJob/{rid}", token=token)
    assert status == 200
    assert_shape(
        monitored,
        {
            "batchRequestId": int,
            "completionCode": int,
            "status": str,
            "description": str,
            "startTime": NULLABLE_STR,
            "endTime": NULLABLE_STR,
        },
    )
    status, page = await call(server, "GET", f"/api/GetMessages/{rid}?after=0", token=token)
    assert status == 200
    assert_shape(page, {"batchRequestId": int, "messages": list, "more": bool})
    for message in page["messages"]:
        assert_shape(message, {"seq": int, "batchRequestId": int, "time": str, "text": str})
        assert "+00:00" in message["time"]  # ISO-8601 with a zone
    status, killed = await call(
        server, "POST", "/api/OpConJobAction", {"action": "Kill", "batchRequestId": rid}, token
    )
    assert (status, killed) == (
        200,
        {"batchRequestId": rid, "completionCode": 3, "status": "KILLED"},
    )
    status, again = await call(
        server, "POST", "/api/OpConJobAction", {"action": "Kill", "batchRequestId": rid}, token
    )
    assert status == 409
    assert_error(again, "CONFLICT")


async def test_same_task_id_answers_the_first_answer(server: Server) -> None:
    token = await logon(server)
    _, first = await call(server, "POST", "/api/OpConJobAction", start_body(), token)
    _, second = await call(server, "POST", "/api/OpConJobAction", start_body(), token)
    assert first == second


@pytest.mark.parametrize(
    "body",
    [
        start_body(taskValues=[f"V{n}=1" for n in range(21)]),
        start_body(taskType="Batch"),
        start_body(taskId=""),
        start_body(taskType="Script", scriptName="x.ps1", scriptParameters=["NOEQUALS"]),
        {"action": "Explode", "batchRequestId": 1},
        {"action": "Kill", "batchRequestId": "1"},
        {k: v for k, v in start_body().items() if k != "amtUser"},
    ],
)
async def test_malformed_requests_are_400(server: Server, body: dict[str, Any]) -> None:
    token = await logon(server)
    status, data = await call(server, "POST", "/api/OpConJobAction", body, token)
    assert status == 400
    assert_error(data, "BAD_REQUEST")
    assert server.simulator.jobs == {}


@pytest.mark.parametrize(
    "path",
    [
        "/api/MonitorJob/77777",
        "/api/GetMessages/77777",
        "/api/MonitorJob/abc",
        "/api/GetMessages/1?after=x",
        "/api/nothing",
    ],
)
async def test_unknown_things_have_the_error_body(server: Server, path: str) -> None:
    token = await logon(server)
    status, data = await call(server, "GET", path, token=token)
    assert status in (400, 404)
    assert_shape(data, {"error": str, "message": str})


async def test_unknown_application_is_404() -> None:
    from amtflow.client import new_session
    from amtflow.simulator import Scenario, Simulator

    simulator = Simulator(Scenario.from_mapping({"applications": ["DEMO2"]}))
    async with simulator.running() as url, new_session() as session:
        server = Server(simulator, url, None, session)  # type: ignore[arg-type]
        token = await logon(server)
        status, data = await call(
            server, "POST", "/api/OpConJobAction", start_body(applicationName="OTHER"), token
        )
    assert status == 404
    assert_error(data, "NOT_FOUND")


async def test_session_is_reused(server: Server) -> None:
    assert isinstance(server.session.connector, aiohttp.TCPConnector)
    assert server.session.connector.limit >= 200
