"""Launching jobs: a task only for a job with room to start; the Starts of a tick share a commit.

``ReadyQueue``: the jobs ready to start wait here, as names, until their agent has room; only
then is an asyncio task made for one (a task waiting on the slots costs ~1.9 KB, 190 MB for a
run of 100,000 ready jobs).

``TaskIdCommit``: group commit of taskIds, the Starts ready in one loop tick share one durable
transaction.

The journal's promise is that a job's taskId is on disk before its Start is sent (so ``resume``
repeats that Start with the same taskId instead of starting a second job). That costs one fsync
per commit. When many jobs become ready at once (a wave, or the slots freed by jobs that ended
in the same tick), each ``record`` call of that tick adds its row to one batch, the batch is
committed once, at ``synchronous=FULL``, from the next tick, and only then is any of their Starts
sent: one fsync for the lot instead of one each (bench/run.py reports the fsyncs per job). The
journal makes that commit on a worker thread (``state/aside.py``): the loop goes on meanwhile,
and the Starts that become ready then make the next batch, committed once this one is done.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Mapping

from amtflow.engine.context import Recorder
from amtflow.operator import OperatorRecord, StartWithheld

TaskIdRow = tuple[str, str, int, str]  # run id, job, attempt, taskId


class ReadyQueue:
    """The jobs ready to start, in the order they became ready, until their agent has room.

    A job *seeks* a slot from the moment its task is made for it here (or its task comes back
    from a wait outside the slots) until its task ends or waits outside the slots again (its
    start time, an operator's hold, a retry's wait). ``take`` hands out the waiting jobs for
    which fewer than ``room[agent]`` jobs of the agent seek (its ``max_concurrent_jobs``, at
    most the run's ``max_parallel``): the tasks alive are bounded by the limits, not by the
    size of the run. The slots themselves stay the engine's semaphores: this decides only when
    a task is made. ``on_room`` is called when a seeker leaves (a task may be made now).
    """

    def __init__(self, room: Mapping[str, int], on_room: Callable[[], None]) -> None:
        self.room, self.on_room = dict(room), on_room
        self.seeking = dict.fromkeys(self.room, 0)
        self.seekers: dict[str, str] = {}  # job -> its agent
        self.queues: dict[str, deque[tuple[int, str]]] = {}  # agent -> (turn, job), in order
        self.queued: set[str] = set()
        self.turns = itertools.count()

    def __contains__(self, job: object) -> bool:
        return job in self.queued

    def __len__(self) -> int:
        return len(self.queued)

    def add(self, job: str, agent: str) -> None:
        """``job`` is ready to start on ``agent``: it waits for room."""
        self.queues.setdefault(agent, deque()).append((next(self.turns), job))
        self.queued.add(job)

    def take(self) -> list[str]:
        """The waiting jobs that may have a task now, in the order they became ready (each
        seeks from now on)."""
        heads = [
            (queue[0][0], agent)
            for agent, queue in self.queues.items()
            if self.seeking[agent] < self.room[agent]
        ]
        heapq.heapify(heads)
        taken: list[str] = []
        while heads:
            agent = heapq.heappop(heads)[1]
            queue = self.queues[agent]
            job = queue.popleft()[1]
            taken.append(job)
            self.queued.discard(job)
            self.seek(job, agent)
            if not queue:
                del self.queues[agent]
            elif self.seeking[agent] < self.room[agent]:
                heapq.heappush(heads, (queue[0][0], agent))
        return taken

    def clear(self) -> list[str]:
        """Every waiting job, in the order they became ready; none waits any more."""
        waiting = sorted(itertools.chain.from_iterable(self.queues.values()))
        self.queues.clear()
        self.queued.clear()
        return [job for _, job in waiting]

    def seek(self, job: str, agent: str) -> None:
        """``job``'s task seeks a slot (or holds one)."""
        if job not in self.seekers:
            self.seekers[job] = agent
            self.seeking[agent] += 1

    def leave(self, job: str) -> None:
        """``job``'s task no longer seeks: it ended, or waits outside the slots."""
        agent = self.seekers.pop(job, None)
        if agent is not None:
            self.seeking[agent] -= 1
            self.on_room()


class TaskIdCommit:
    """Commits the taskIds of one run's new attempts, a loop tick's worth at a time, one commit
    under way at a time (the rows that come meanwhile make the next)."""

    def __init__(self, recorder: Recorder, run_id: str) -> None:
        self.recorder, self.run_id = recorder, run_id
        self._rows: list[TaskIdRow] = []
        self._committed: asyncio.Future[Mapping[tuple[str, int], OperatorRecord]] | None = None
        self._committer: asyncio.Task[None] | None = None
        self.commits = 0  # transactions made (one fsync each)

    async def record(self, job: str, attempt: int, task_id: str) -> bool:
        """Return once the attempt's taskId is committed with the others of this tick.

        Returns True when the run was interrupted meanwhile: the Start must still be sent (the
        journal now says it may have been), so that the job can be killed rather than left
        unknown, as an interrupt during the Start itself does. A failed commit (StateError)
        raises here, in every attempt of the batch, before any Start is sent; an attempt an
        operator's action withheld (not recorded: its Start must not be sent) raises
        ``StartWithheld``.
        """
        if self._committed is None:
            self._committed = asyncio.get_running_loop().create_future()
            if self._committer is None:  # it starts in the next tick: this one's rows are in
                self._committer = asyncio.create_task(self._commit_batches())
        committed = self._committed
        self._rows.append((self.run_id, job, attempt, task_id))
        interrupted = False
        while True:
            try:
                withheld = await asyncio.shield(committed)
            except asyncio.CancelledError:
                if committed.done() and committed.cancelled():
                    raise
                interrupted = True
                continue
            blocked = withheld.get((job, attempt))
            if blocked is not None and interrupted:
                raise asyncio.CancelledError  # not recorded, so no Start to send and kill
            if blocked is not None:
                raise StartWithheld(blocked)
            return interrupted

    async def _commit_batches(self) -> None:
        try:
            while self._committed is not None:
                rows, committed = self._rows, self._committed
                self._rows, self._committed = [], None
                await self._commit(rows, committed)
        finally:
            self._committer = None
            if self._committed is not None:  # cancelled: no commit is coming for these
                self._committed.cancel()
                self._rows, self._committed = [], None

    async def _commit(
        self,
        rows: list[TaskIdRow],
        committed: asyncio.Future[Mapping[tuple[str, int], OperatorRecord]],
    ) -> None:
        try:
            withheld = await self.recorder.new_attempts_off_loop(rows)
        except asyncio.CancelledError:
            committed.cancel()
            raise
        except Exception as exc:  # StateError: every attempt of the batch fails with it
            committed.set_exception(exc)
        else:
            committed.set_result(withheld)
        finally:
            self.commits += 1
