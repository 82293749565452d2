"""An in-memory AMT Batch Server behind the ``BatchClient`` protocol, for engine tests."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from amtflow.batch import JobStatus, Message, MessagePage, ServerStatus, StartRequest
from amtflow.errors import Conflict, NotFound, ServerUnavailable


@dataclass
class Behaviour:
    """How a fake job behaves: how long it runs, how it ends, what it writes."""

    duration: float = 0.02
    end_code: int = 4
    messages: tuple[str, ...] = ("started", "done")
    ignores_kill: bool = False


@dataclass
class FakeJob:
    request: StartRequest
    behaviour: Behaviour
    batch_request_id: int
    started: float
    killed: bool = False

    def status(self) -> JobStatus:
        if self.killed:
            return JobStatus(self.batch_request_id, 3, "KILLED")
        if time.monotonic() - self.started >= self.behaviour.duration:
            code = self.behaviour.end_code
            return JobStatus(self.batch_request_id, code, "ENDED")
        return JobStatus(self.batch_request_id, 2, "RUNNING")


@dataclass
class FakeServer:
    """Jobs by AMT job or script name; unknown names end DONE quickly."""

    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    jobs: dict[int, FakeJob] = field(default_factory=dict)
    by_task: dict[str, int] = field(default_factory=dict)
    starts: Counter[str] = field(default_factory=Counter)
    kills: list[int] = field(default_factory=list)
    fail_starts: set[str] = field(default_factory=set)
    running_now: int = 0
    peak_running: int = 0
    next_id: int = 4280
    # the jobs not yet seen ended: an ended job never runs again, so ``running()`` looks only at
    # these and drops those that ended (it looked at every job ever started: O(n²) in a big run)
    live: dict[int, FakeJob] = field(default_factory=dict)

    def client(self) -> FakeClient:
        return FakeClient(self)

    def start(self, request: StartRequest) -> JobStatus:
        if request.task_id in self.by_task:
            return self.jobs[self.by_task[request.task_id]].status()
        name = request.task.name
        if name in self.fail_starts:
            raise ServerUnavailable("server down", agent="fake")
        self.starts[name] += 1
        self.next_id += 1
        job = FakeJob(
            request, self.behaviours.get(name, Behaviour()), self.next_id, time.monotonic()
        )
        self.jobs[job.batch_request_id] = job
        self.live[job.batch_request_id] = job
        self.by_task[request.task_id] = job.batch_request_id
        return JobStatus(job.batch_request_id, 1, "QUEUED")

    def running(self) -> int:
        """How many started jobs have not ended yet."""
        ended = [rid for rid, job in self.live.items() if job.status().terminal]
        for rid in ended:
            del self.live[rid]
        return len(self.live)


class FakeClient:
    """The ``BatchClient`` protocol over a ``FakeServer``."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server

    async def status(self) -> ServerStatus:
        return ServerStatus("8.0.24223.0", "RUNNING")

    async def logon(self) -> None:
        return None

    async def start(self, request: StartRequest) -> JobStatus:
        await asyncio.sleep(0)
        answer = self.server.start(request)
        self.server.peak_running = max(self.server.peak_running, self.server.running())
        return answer

    async def monitor(self, batch_request_id: int) -> JobStatus:
        await asyncio.sleep(0)
        job = self.server.jobs.get(batch_request_id)
        if job is None:
            raise NotFound(f"unknown batch request id {batch_request_id}")
        self.server.peak_running = max(self.server.peak_running, self.server.running())
        return job.status()

    async def messages(self, batch_request_id: int, after: int = 0) -> MessagePage:
        job = self.server.jobs.get(batch_request_id)
        if job is None:
            raise NotFound(f"unknown batch request id {batch_request_id}")
        texts = job.behaviour.messages
        shown = texts if job.status().terminal else texts[:1]
        messages = tuple(
            Message(seq, batch_request_id, "2026-11-24T06:00:00+00:00", text)
            for seq, text in enumerate(shown, start=1)
            if seq > after
        )
        return MessagePage(messages, more=False)

    async def kill(self, batch_request_id: int) -> JobStatus:
        job = self.server.jobs[batch_request_id]
        self.server.kills.append(batch_request_id)
        if job.status().terminal:
            raise Conflict(f"job {batch_request_id} already ended")
        if not job.behaviour.ignores_kill:
            job.killed = True
        return JobStatus(batch_request_id, 2 if job.behaviour.ignores_kill else 3, "KILLING")
