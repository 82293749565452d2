"""The real simulator on loopback: start -> monitor -> messages -> end, kill, de-duplication."""

from __future__ import annotations

import asyncio

import pytest

from amtflow.client import iter_messages, new_session
from amtflow.errors import Conflict, NotFound
from amtflow.simulator import Scenario, Simulator
from tests.simulator.conftest import Server, client_for, job, script, until_ended


async def test_default_job_runs_to_done_with_a_vendor_like_log(server: Server) -> None:
    started = await server.client.start(job("ANYTHING", parameters=("PERIOD=2026-11",)))
    assert (started.completion_code, started.status) == (1, "QUEUED")
    ended = await until_ended(server.client, started.batch_request_id)
    assert (ended.completion_code, ended.status, ended.ok) == (4, "DONE", True)
    assert ended.start_time and ended.end_time
    texts = [m.text async for m in iter_messages(server.client, started.batch_request_id)]
    assert texts[0] == (
        f"Started Rev: 1.3 AMT: 8.0.24223.0. Params: LOADINBATCHCONTROLLER "
        f"/R:{started.batch_request_id} /USEWORKINGDIR"
    )
    assert "ANYTHING Value param [PERIOD=2026-11]" in texts
    assert texts[-1] == "Done"


async def test_messages_stream_while_the_job_runs() -> None:
    now = [0.0]
    simulator = Simulator(
        Scenario.from_mapping({"jobs": {"LONG": {"duration": 30}}}), clock=lambda: now[0]
    )
    async with simulator.running() as url, new_session() as session:
        client = client_for(session, url)
        rid = (await client.start(job("LONG"))).batch_request_id
        first = [m.seq async for m in iter_messages(client, rid)]
        now[0] = 15.0
        assert (await client.monitor(rid)).status == "RUNNING"
        second = [m.seq async for m in iter_messages(client, rid, after=first[-1])]
        now[0] = 31.0
        assert (await client.monitor(rid)).status == "DONE"
        third = [m.seq async for m in iter_messages(client, rid, after=second[-1])]
    assert first and second and third  # each phase brought new lines
    assert first + second + third == list(range(1, len(first + second + third) + 1))


async def test_queued_phase(server: Server) -> None:
    rid = (await server.client.start(job("WAITER"))).batch_request_id
    status = await server.client.monitor(rid)
    assert (status.completion_code, status.status, status.start_time) == (1, "QUEUED", None)


async def test_end_code_from_the_scenario(server: Server) -> None:
    rid = (await server.client.start(job("FAILS"))).batch_request_id
    status = await until_ended(server.client, rid)
    assert (status.completion_code, status.status, status.ok) == (12, "ABORTED", False)


async def test_missing_script_ends_11_file_not_found(server: Server) -> None:
    rid = (await server.client.start(script("F:\\Amt\\GONE.ps1"))).batch_request_id
    status = await until_ended(server.client, rid)
    assert (status.completion_code, status.description) == (11, "File not found")
    texts = [m.text async for m in iter_messages(server.client, rid)]
    assert "File not found" in texts


async def test_invalid_run_as_user_ends_99(server: Server) -> None:
    rid = (await server.client.start(job("ANY", user="NOBODY"))).batch_request_id
    status = await until_ended(server.client, rid)
    assert (status.completion_code, status.status) == (99, "INVALID AMT USER")


async def test_children_write_with_their_own_batch_request_ids(server: Server) -> None:
    rid = (await server.client.start(job("PARENT"))).batch_request_id
    await until_ended(server.client, rid)
    messages = [m async for m in iter_messages(server.client, rid)]
    child = [m for m in messages if m.text == "child says"][0]
    assert child.batch_request_id != rid
    assert [m.seq for m in messages] == list(range(1, len(messages) + 1))


async def test_kill_a_running_job_then_kill_again_is_a_conflict(server: Server) -> None:
    rid = (await server.client.start(job("LONG"))).batch_request_id
    killed = await server.client.kill(rid)
    assert (killed.completion_code, killed.status) == (3, "KILLED")
    assert (await server.client.monitor(rid)).status == "KILLED"
    with pytest.raises(Conflict, match="already ended with KILLED"):
        await server.client.kill(rid)
    texts = [m.text async for m in iter_messages(server.client, rid)]
    assert texts[-1] == "Job killed"


async def test_a_job_that_ignores_kill_keeps_running(server: Server) -> None:
    rid = (await server.client.start(job("STUBBORN"))).batch_request_id
    answer = await server.client.kill(rid)
    assert answer.status == "RUNNING"
    assert (await server.client.monitor(rid)).status == "RUNNING"


async def test_repeated_task_id_starts_one_job(server: Server) -> None:
    request = job("ONCE")
    first, second = await asyncio.gather(server.client.start(request), server.client.start(request))
    assert first.batch_request_id == second.batch_request_id
    record = server.simulator.record
    assert record.starts_by_task_id()[request.task_id] == 2
    assert record.starts_by_job()["ONCE"] == 1


async def test_unknown_batch_request_id_is_not_found(server: Server) -> None:
    with pytest.raises(NotFound, match="unknown batch request id 999999"):
        await server.client.monitor(999999)


async def test_paging_follows_more() -> None:
    simulator = Simulator(
        Scenario.from_mapping(
            {"default": {"duration": 0, "messages": [f"line {n}" for n in range(25)]}}
        ),
        page_size=10,
    )
    async with simulator.running() as url, new_session() as session:
        client = client_for(session, url)
        rid = (await client.start(job("PAGED"))).batch_request_id
        page = await client.messages(rid)
        assert len(page.messages) == 10 and page.more
        seqs = [m.seq async for m in iter_messages(client, rid)]
    assert seqs == list(range(1, 28))  # Started line + 25 + Done
    assert simulator.record.count("/api/GetMessages") == 4
