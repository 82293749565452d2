"""Benchmark: amtflow's AmtClient against a minimal hand-written aiohttp loop.

Both drive the same zero-duration jobs (Start, MonitorJob until terminal, GetMessages) through
the simulator, which runs in a separate process so that its CPU does not count. Prints wall time,
client CPU time per job lifecycle, and the ratios (target: wall ratio <= 1.3).

    python bench/client.py [--jobs 2000] [--concurrency 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from _common import ZERO_DURATION, start_body, start_simulator

from amtflow.batch import StartRequest
from amtflow.client import AmtClient, iter_messages, new_session
from amtflow.model import Agent, BatchUser, SecretRef
from amtflow.task import AmtTask, TaskType

TERMINAL = {3, 4, 6, 10, 11, 12, 19, 22, 23, 24, 99}


async def with_amtflow(url: str, jobs: int, concurrency: int) -> int:
    async with new_session() as session:
        client = AmtClient(
            session,
            Agent("bench", url, "u"),
            BatchUser("u", "OPCONAPI", SecretRef(env="UNUSED")),
            password=lambda: "bench",
        )
        await client.logon()

        async def lifecycle(name: str) -> None:
            task = AmtTask(TaskType.BATCH_JOB, "DEMO2", name)
            request = StartRequest(str(uuid.uuid4()), task)
            rid = (await client.start(request)).batch_request_id
            while not (await client.monitor(rid)).terminal:
                await asyncio.sleep(0)
            async for _ in iter_messages(client, rid):
                pass

        await _fan_out(lifecycle, jobs, concurrency)
        return client.requests


async def with_raw_aiohttp(url: str, jobs: int, concurrency: int) -> int:
    count = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512)) as session:
        async with session.post(
            f"{url}/api/logon", json={"apiUser": "OPCONAPI", "apiUserPassword": "bench"}
        ) as r:
            headers = {"X-AMT-LogonToken": (await r.json())["amtLogonToken"]}

        async def get(path: str) -> Any:
            nonlocal count
            count += 1
            async with session.get(url + path, headers=headers) as response:
                return await response.json()

        async def lifecycle(name: str) -> None:
            nonlocal count
            count += 1
            async with session.post(
                f"{url}/api/OpConJobAction", json=start_body(name), headers=headers
            ) as response:
                rid = (await response.json())["batchRequestId"]
            while (await get(f"/api/MonitorJob/{rid}"))["completionCode"] not in TERMINAL:
                await asyncio.sleep(0)
            after, more = 0, True
            while more:
                page = await get(f"/api/GetMessages/{rid}?after={after}")
                after = page["messages"][-1]["seq"] if page["messages"] else after
                more = page["more"] and bool(page["messages"])

        await _fan_out(lifecycle, jobs, concurrency)
    return count


async def _fan_out(
    lifecycle: Callable[[str], Awaitable[None]], jobs: int, concurrency: int
) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            await lifecycle(f"JOB{index:05d}")

    await asyncio.gather(*(one(i) for i in range(jobs)))


def measure(
    run: Callable[[str, int, int], Awaitable[int]], url: str, jobs: int, concurrency: int
) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    requests = asyncio.run(run(url, jobs, concurrency))
    return time.perf_counter() - wall, time.process_time() - cpu, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        start_simulator(ZERO_DURATION, Path(folder)) as simulator,
    ):
        best: dict[str, tuple[float, float, int]] = {}
        for _ in range(args.rounds):  # interleaved, best of N, to even out noise
            for name, run in (("raw aiohttp", with_raw_aiohttp), ("AmtClient", with_amtflow)):
                figures = measure(run, simulator.url, args.jobs, args.concurrency)
                if name not in best or figures[0] < best[name][0]:
                    best[name] = figures
    report(best, args.jobs, args.concurrency)


def report(best: dict[str, tuple[float, float, int]], jobs: int, concurrency: int) -> None:
    print(f"{jobs} zero-duration jobs, concurrency {concurrency}, simulator in its own process")
    for name, (wall, cpu, requests) in best.items():
        print(
            f"  {name:12s} wall {wall:6.2f} s  client CPU {cpu:6.2f} s  "
            f"= {cpu / jobs * 1e3:5.2f} ms CPU/job  ({requests} requests)"
        )
    (raw_wall, raw_cpu, _), (amt_wall, amt_cpu, _) = best["raw aiohttp"], best["AmtClient"]
    print(
        f"  ratio AmtClient/raw: wall {amt_wall / raw_wall:.2f} (target <= 1.3), "
        f"CPU {amt_cpu / raw_cpu:.2f}"
    )


if __name__ == "__main__":
    main()
