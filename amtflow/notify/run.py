"""What the runner calls: one object per run, one short call per moment worth telling.

    notices = RunNotices.start(...)        run_started or run_resumed
    notices.job_ended(outcome)             job_failed, when it failed or was killed
    notices.watching(observe)              job_late, job_missed_start from the engine's flags
    notices.run_ended(state, outcomes)     run_ok or run_failed
    notices.run_recovered(outcomes)        run_recovered (a rerun turned the date OK)
    notices.run_stopped(why)               run_failed, when the runner stopped mid-run
    await notices.close()                  bounded wait for pending messages

A run whose schedule and jobs name no notification gets a ``RunNotices`` that does nothing
(and Apprise is not even imported).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from amtflow.engine.context import JobEvent, JobFlag
from amtflow.errors import AmtflowError
from amtflow.model import Notification, NotifyEvent, Schedule
from amtflow.runs import JobOutcome, JobState, RunState

from .message import JobFact, RunFacts

if TYPE_CHECKING:
    from .notifier import NoticeRecorder, Notifier
    from .send import Policy

WAIT_AT_END = 30.0  # seconds the run's end waits for pending messages


def fact_of(outcome: JobOutcome) -> JobFact:
    """A job outcome as messages show it."""
    return JobFact(
        outcome.name,
        outcome.state,
        outcome.completion_code,
        outcome.reason,
        outcome.attempts,
        outcome.log_path,
        outcome.operator.said if outcome.operator else "",
    )


class RunNotices:
    """The notifications of one run (see the module docstring)."""

    def __init__(self, notifier: Notifier | None = None, wait: float = WAIT_AT_END) -> None:
        self._notifier = notifier
        self._wait = wait

    @classmethod
    def start(
        cls,
        notifications: Mapping[str, Notification],
        schedule: Schedule,
        run: RunFacts,
        *,
        recorder: NoticeRecorder | None,
        warn: Callable[[str], None],
        environ: Mapping[str, str],
        began: str = "new",
    ) -> RunNotices:
        """The run's notices, with ``run_started`` (or ``run_resumed``) already on its way.

        ``began``: ``new``, ``resumed`` or ``rerun`` (which announces nothing: its end tells).
        """
        names = (*schedule.notify, *(name for job in schedule.jobs for name in job.notify))
        notices = cls.quiet(notifications, schedule, run, names, recorder, warn, environ)
        if began == "resumed":
            notices._run(NotifyEvent.RUN_RESUMED, "Resumed: the run was picked up again.")
        elif began == "new":
            notices._run(NotifyEvent.RUN_STARTED, f"Started: {run.jobs} jobs to run.")
        return notices

    @classmethod
    def quiet(
        cls,
        notifications: Mapping[str, Notification],
        schedule: Schedule,
        run: RunFacts,
        names: Sequence[str],
        recorder: NoticeRecorder | None,
        warn: Callable[[str], None],
        environ: Mapping[str, str],
    ) -> RunNotices:
        """Notices to the notifications ``names``, nothing sent yet (none: Apprise not loaded)."""
        if not names:
            return cls()
        from .notifier import Notifier, targets_of

        notifier = Notifier(
            notifications,
            schedule,
            run,
            targets=targets_of(notifications, names, warn),
            recorder=recorder,
            warn=warn,
            policy=policy_from(environ),
        )
        return cls(notifier, _seconds(environ, "AMTFLOW_NOTIFY_WAIT", WAIT_AT_END))

    def _run(self, event: NotifyEvent, what: str, jobs: Sequence[JobFact] = ()) -> None:
        if self._notifier is not None:
            self._notifier.run_event(event, what, jobs)

    def _job(self, event: NotifyEvent, fact: JobFact) -> None:
        if self._notifier is not None:
            self._notifier.job_event(event, fact)

    def job_ended(self, outcome: JobOutcome) -> None:
        """``job_failed`` when a job ended failed or killed after its last attempt."""
        if outcome.state in (JobState.FAILED, JobState.KILLED):
            self._job(NotifyEvent.JOB_FAILED, fact_of(outcome))

    def watching(self, observe: Callable[[JobEvent], None]) -> Callable[[JobEvent], None]:
        """``observe``, also telling ``job_late``/``job_missed_start`` from the flagged events."""
        if self._notifier is None:
            return observe

        def both(event: JobEvent) -> None:
            observe(event)
            if event.flag is JobFlag.LATE:
                self.job_late(event.job, event.reason)
            elif event.flag is JobFlag.MISSED_START:
                self.job_missed_start(event.job, event.reason)

        return both

    def job_late(self, name: str, what: str) -> None:
        """``job_late``: ``name`` is past its deadline (``what`` says which and by how much)."""
        self._job(NotifyEvent.JOB_LATE, JobFact(name, JobState.RUNNING, reason=what))

    def job_missed_start(self, name: str, what: str) -> None:
        """``job_missed_start``: ``name`` was not started by its latest start time."""
        self._job(NotifyEvent.JOB_MISSED_START, JobFact(name, JobState.NOT_RUN, reason=what))

    def run_ended(
        self,
        state: RunState,
        outcomes: Sequence[JobOutcome],
        signum: int | None = None,
        *,
        rerun_of: RunState | None = None,
    ) -> None:
        """``run_ok`` or ``run_failed`` (an interrupted run counts as failed: it did not end);
        ``run_recovered`` instead of ``run_ok`` when a rerun (of a run ``rerun_of``) ended OK
        what had failed."""
        if rerun_of is RunState.FAILED and state is RunState.OK:
            self.run_recovered(outcomes)
            return
        facts = [fact_of(outcome) for outcome in outcomes]
        troubled = [fact for fact in facts if fact.troubled]
        passed = [fact for fact in facts if fact.operator]
        if state is RunState.OK and passed:
            what = f"OK: all {len(facts)} jobs ended OK, {len(passed)} by an operator's word."
            self._run(NotifyEvent.RUN_OK, what, passed)
        elif state is RunState.OK:
            self._run(NotifyEvent.RUN_OK, f"OK: all {len(facts)} jobs ended OK.")
        else:
            self._run(NotifyEvent.RUN_FAILED, _failed_what(facts, troubled, signum), troubled)

    def run_stopped(self, why: str) -> None:
        """``run_failed``: the runner stopped before the run ended (``why``: its journal could
        not be written, and what to do); the run is left to be carried on."""
        self._run(NotifyEvent.RUN_FAILED, f"Stopped before the run ended: {why}")

    def run_recovered(self, outcomes: Sequence[JobOutcome]) -> None:
        """``run_recovered``: a rerun turned this failed schedule date OK."""
        facts = [fact_of(o) for o in outcomes if o.attempts]
        passed = sum(bool(fact.operator) for fact in facts)
        if passed:  # mark-ok carried it on: those were passed, not started again
            what = f"Recovered: all {len(outcomes)} jobs ended OK, {passed} by an operator's word."
        else:
            what = f"Recovered: after a rerun all {len(outcomes)} jobs ended OK."
        self._run(NotifyEvent.RUN_RECOVERED, what, facts)

    async def close(self) -> None:
        """Send what is collected and wait (bounded) for the messages still on their way."""
        if self._notifier is not None:
            await self._notifier.close(self._wait)


def _failed_what(facts: list[JobFact], troubled: list[JobFact], signum: int | None) -> str:
    failed = sum(fact.state is JobState.FAILED for fact in troubled)
    killed = sum(fact.state is JobState.KILLED for fact in troubled)
    not_run = sum(fact.state is JobState.NOT_RUN for fact in troubled)
    shown_killed = f"{killed} killed, " if killed else ""  # as the summary and status count them
    counts = f"{failed} failed, {shown_killed}{not_run} not run, of {len(facts)} jobs"
    if signum is not None:
        name = signal.Signals(signum).name
        return f"Interrupted by {name}: {counts}; amtflow resume RUN carries it on."
    return f"Failed: {counts}."


@contextlib.asynccontextmanager
async def refusal(
    notifications: Mapping[str, Notification],
    schedule: Schedule,
    run: RunFacts,
    *,
    warn: Callable[[str], None],
    environ: Mapping[str, str],
) -> AsyncIterator[None]:
    """A run refused before it began (preflight: an agent down, credentials refused) is a
    ``run_failed`` too: at 02:00 nobody reads the exit status. Sent, then the error goes on."""
    try:
        yield
    except AmtflowError as exc:
        names = schedule.notify
        notices = RunNotices.quiet(notifications, schedule, run, names, None, warn, environ)
        notices._run(NotifyEvent.RUN_FAILED, f"Failed before any job started: {exc}")
        await notices.close()
        raise


@contextlib.asynccontextmanager
async def closing(notices: RunNotices) -> AsyncIterator[RunNotices]:
    """``notices``, closed (bounded wait) however the block ends."""
    try:
        yield notices
    finally:
        await notices.close()


def policy_from(environ: Mapping[str, str]) -> Policy:
    """The send policy, with ``AMTFLOW_NOTIFY_TIMEOUT`` (seconds per try) and
    ``AMTFLOW_NOTIFY_PAUSE`` (seconds before the second try, twice that before the third) if set."""
    from .send import Policy

    return Policy(
        timeout=_seconds(environ, "AMTFLOW_NOTIFY_TIMEOUT", Policy.timeout),
        pause=_seconds(environ, "AMTFLOW_NOTIFY_PAUSE", Policy.pause),
    )


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(environ.get(name, default))
    except ValueError:
        return default
    return value if 0 < value <= 3600 else default
