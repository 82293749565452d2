"""Group commit of taskIds: the Starts ready in one loop tick share one durable transaction.

The journal's promise is that a job's taskId is on disk before its Start is sent (so ``resume``
repeats that Start with the same taskId instead of starting a second job). That costs one fsync
per commit. When many jobs become ready at once (a wave, or the slots freed by jobs that ended
in the same tick), each ``record`` call of that tick adds its row to one batch, the batch is
committed once, at ``synchronous=FULL``, in the next tick, and only then is any of their Starts
sent: one fsync for the lot instead of one each (bench/run.py reports the fsyncs per job).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from amtflow.engine.context import Recorder
from amtflow.runs import OperatorRecord, StartWithheld

TaskIdRow = tuple[str, str, int, str]  # run id, job, attempt, taskId


class TaskIdCommit:
    """Commits the taskIds of one run's new attempts, a loop tick's worth at a time."""

    def __init__(self, recorder: Recorder, run_id: str) -> None:
        self.recorder, self.run_id = recorder, run_id
        self._rows: list[TaskIdRow] = []
        self._committed: asyncio.Future[Mapping[tuple[str, int], OperatorRecord]] | None = None
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
            asyncio.get_running_loop().call_soon(self._commit)
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

    def _commit(self) -> None:
        rows, committed = self._rows, self._committed
        self._rows, self._committed = [], None
        assert committed is not None
        try:
            withheld = self.recorder.new_attempts(rows)
        except Exception as exc:  # StateError: every attempt of the batch fails with it
            committed.set_exception(exc)
        else:
            committed.set_result(withheld)
        self.commits += 1
