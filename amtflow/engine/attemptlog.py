"""The log side of one attempt (``Attempt``): its log file, what the journal knows of it, the
messages written to it, and a write that failed.

The order of writes is what makes a run recoverable (docs/architecture.md, "Crash safety"): the
batch request id is recorded with the log's path as soon as the Start is answered; the log is
begun ``held`` (``JobLog.held``) and written on disk once the job is seen running, or once,
finished, when it ends; the journal's last seq is always that of messages on disk. A write that
fails (a full disk) gives the log up: the AMT job is still watched to its end, then fails with
that reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from amtflow import batch
from amtflow.engine.context import RunContext
from amtflow.engine.forms import log_header
from amtflow.errors import StateError
from amtflow.joblog import JobLog, log_path
from amtflow.model import Agent
from amtflow.plan import PlannedJob
from amtflow.properties import MASK
from amtflow.secrets import masking


class AttemptLog:
    """The job log of one attempt, and the journal's record of it."""

    def __init__(self, ctx: RunContext, planned: PlannedJob, agent: Agent, number: int) -> None:
        self.ctx, self.planned, self.agent, self.number = ctx, planned, agent, number
        self.log: JobLog | None = None  # None too once writing it failed
        self.file: Path | None = None
        self.recorded = ""  # the log path the journal has for this attempt
        self.error = ""  # why the log could not be written: the job then fails
        self.last_seq = 0
        self.seq_held = False  # messages read into a log not yet on disk
        self.skip = 0  # messages already in the log when re-attaching
        self._request: int | None = None  # the batch request id the journal has

    @property
    def job(self) -> str:
        return self.planned.name

    @property
    def path_text(self) -> str | None:
        """The log's path as an attempt's result gives it (None: none was ever named)."""
        return str(self.file) if self.file else None

    @property
    def unwritable(self) -> bool:
        """Nowhere to write messages (a full disk, or the log's cap): the job is still watched."""
        return self.log is None or self.log.cut

    def open(self, batch_request_id: int | None, *, repeated: bool) -> None:
        """Begin the log, held: named by its batch request id, or, for a Start the server never
        answered, ``unstarted-N`` (N the attempt); the journal learns the id and the path."""
        label = f"unstarted-{self.number}" if batch_request_id is None else batch_request_id
        try:
            path = log_path(self.ctx.log_dir, self.ctx.schedule, self.ctx.date, self.job, label)
            self.file = path
            if repeated:
                # The runner died after a Start and before recording its answer: a log it may
                # have begun holds at most part of a header (messages are read only once the
                # answer is recorded), so it is begun again rather than continued.
                path.unlink(missing_ok=True)
            # held: begun on disk once the job is seen running (``seen_running``)
            self.log = JobLog.held(
                path,
                log_header(self.ctx, self.planned, self.agent, self.number),
                batch_request_id=batch_request_id or 0,
                started_at=now(),
                max_bytes=self.ctx.max_log_bytes,
            )
        except (StateError, OSError) as exc:  # a full disk fails this job at its end, not the run
            self.error = str(exc) if isinstance(exc, StateError) else exc.strerror or str(exc)
        if batch_request_id is not None:
            self._record_path(batch_request_id, str(self.file or ""))

    def continued(self, batch_request_id: int, path: Path) -> None:
        """Carry on the log of a job re-attached after the runner died: its messages already on
        disk are skipped when the job's messages are read again from the start."""
        self._request, self.file, self.recorded = batch_request_id, path, str(path)
        self.log = JobLog.continued(
            path,
            log_header(self.ctx, self.planned, self.agent, self.number),
            batch_request_id=batch_request_id,
            started_at=now(),
            max_bytes=self.ctx.max_log_bytes,
        )
        self.skip = self.log.messages_written

    def seen_running(self) -> None:
        """The job goes on: its log is begun on disk now, and written as messages arrive."""
        if self.log is not None and not self.log.on_disk:
            self.write(JobLog.begin)
            if self.log is None or self._request is None:
                return
            if str(self.log.path) != self.recorded:  # the name was taken (``~2``)
                self._record_path(self._request, str(self.log.path))

    def take(self, messages: Sequence[batch.Message]) -> None:
        """Write a page of the job's messages (those not already in the log), secrets masked."""
        self.last_seq = max((m.seq for m in messages), default=self.last_seq)
        fresh = list(messages[self.skip :])
        self.skip -= len(messages) - len(fresh)
        if fresh:
            masked = self._masked(fresh)
            self.write(lambda log: log.append(masked))
            self._record_seq()

    def note(self, text: str) -> None:
        self.write(lambda log: log.note(f"amtflow: {text}"))

    def finish(self, code: int | None, reason: str) -> int | None:
        """Finish the log of an attempt that ended (``code``), or keep the log of one that may go
        on on the server running; the last seq to record, if the log held messages until now."""
        if code is None:
            self.seen_running()  # it may go on on the server: its log stays, running
            return None
        if reason:
            self.note(reason)
        self.write(lambda log: log.finish(code, ended_at=now()))
        if not self.seq_held or self.log is None:
            self.seq_held = False  # nothing held, or a log given up (``write``)
            return None
        self.seq_held = not self.log.on_disk
        return None if self.seq_held else self.last_seq

    def unrecorded_path(self) -> str | None:
        """The log's path where the journal does not have it yet: a refused Start's log (no
        batch request id) or one that had to take another name (``~2``) when it was written."""
        if self.log is None:
            return None
        self.file = self.log.path
        return str(self.log.path) if str(self.log.path) != self.recorded else None

    def write(self, write: Callable[[JobLog], None]) -> None:
        """One write to the log; one that fails is remembered and the log given up."""
        if self.log is None:
            return
        try:
            write(self.log)
        except StateError as exc:
            self.error = self.error or str(exc)
            with contextlib.suppress(OSError):
                self.log.close()
            self.log = None

    def _record_path(self, batch_request_id: int, path: str) -> None:
        self._request, self.recorded = batch_request_id, path
        if self.log is not None:
            self.file = self.log.path
        self.ctx.recorder.set_batch_request_id(
            self.ctx.run_id, self.job, self.number, batch_request_id, path
        )

    def _record_seq(self) -> None:
        """The journal's last seq is of messages on disk: a held log's, once it is written."""
        self.seq_held = self.log is not None and not self.log.on_disk
        if self.log is not None and not self.seq_held:
            self.ctx.recorder.set_last_seq(self.ctx.run_id, self.job, self.number, self.last_seq)

    def _masked(self, messages: list[batch.Message]) -> list[batch.Message]:
        """The messages with the job's secrets masked, should the server echo them."""
        secrets = self.planned.request.secrets
        if not secrets:
            return messages
        mask = masking(secrets, MASK)
        return [m._replace(text=mask(m.text)) for m in messages]


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
