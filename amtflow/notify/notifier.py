"""The notifier of one run: which notifications hear of which event, batching, sending, records.

Run events (started, ok, failed, resumed, recovered) are sent at once to the schedule's
notifications that want them. Job events (failed, late, missed start) are collected per
notification and event, and sent as one message a little later (``Batching.window``) or at the
run's end: a run where a hundred jobs fail sends a handful of messages, not a hundred. A job's own
``notify`` adds its notifications, for that job's events only.

Every message goes to each URL of a notification as its own background task (``send.Target``);
a URL that cannot be reached gets one warning line for the run, and every delivery, made or
not, is recorded in the journal. ``close()`` waits a bounded time for what is still pending.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from amtflow.errors import SecretError
from amtflow.model import Notification, NotifyEvent, Schedule, SecretRef
from amtflow.secrets import read_secret

from .message import JobFact, Message, RunFacts, compose
from .send import Policy, Target

JOB_EVENTS = frozenset((NotifyEvent.JOB_FAILED, NotifyEvent.JOB_LATE, NotifyEvent.JOB_MISSED_START))
_WHAT = {
    NotifyEvent.JOB_FAILED: "Jobs failed (after their last attempt).",
    NotifyEvent.JOB_LATE: "Jobs are past their deadline.",
    NotifyEvent.JOB_MISSED_START: "Jobs did not start by their latest start time.",
}


class NoticeRecorder(Protocol):
    """Where deliveries are recorded (``amtflow.state.Journal`` fits)."""

    def record_notice(
        self,
        run_id: str,
        notification: str,
        url_index: int,
        event: str,
        delivered: bool,
        tries: int,
        reason: str,
    ) -> None: ...


@dataclass(frozen=True)
class Batching:
    """How job events are gathered: seconds to wait for more, and most messages sent early."""

    window: float = 10.0
    early_messages: int = 5  # per notification and event; the rest wait for the run's end


DEFAULT_POLICY = Policy()
DEFAULT_BATCHING = Batching()


@dataclass
class _Pending:
    facts: list[JobFact] = field(default_factory=list)
    sent: int = 0
    timer: asyncio.TimerHandle | None = None


class Notifier:
    """Tells a run's notifications what happens; never raises into the run."""

    def __init__(
        self,
        notifications: Mapping[str, Notification],
        schedule: Schedule,
        run: RunFacts,
        *,
        targets: Mapping[str, Sequence[Target]],
        recorder: NoticeRecorder | None = None,
        warn: Callable[[str], None] = lambda line: None,
        policy: Policy = DEFAULT_POLICY,
        batching: Batching = DEFAULT_BATCHING,
    ) -> None:
        self.notifications, self.schedule, self.run = notifications, schedule, run
        self.targets, self.recorder, self.warn = targets, recorder, warn
        self.policy, self.batching = policy, batching
        self.pending: dict[tuple[str, NotifyEvent], _Pending] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.warned: set[tuple[str, int]] = set()

    def run_event(self, event: NotifyEvent, what: str, jobs: Sequence[JobFact] = ()) -> None:
        """Tell the schedule's notifications that want ``event``: ``what`` happened."""
        if event in (NotifyEvent.RUN_OK, NotifyEvent.RUN_FAILED, NotifyEvent.RUN_RECOVERED):
            self._flush_all()  # job messages first, then how the run ended
        message = compose(event, self.run, what, jobs)
        for name in self._wanting(self.schedule.notify, event):
            self._send(name, event, message)

    def job_event(self, event: NotifyEvent, fact: JobFact) -> None:
        """Collect a job event for the notifications of the schedule and of the job."""
        job = self.schedule.job(fact.name)
        names = (*self.schedule.notify, *(job.notify if job else ()))
        for name in self._wanting(names, event):
            pending = self.pending.setdefault((name, event), _Pending())
            pending.facts.append(fact)
            if pending.timer is None and pending.sent < self.batching.early_messages:
                loop = asyncio.get_running_loop()
                pending.timer = loop.call_later(self.batching.window, self._flush, name, event)

    def _wanting(self, names: Sequence[str], event: NotifyEvent) -> list[str]:
        unique = dict.fromkeys(names)
        return [
            n for n in unique if n in self.notifications and event in self.notifications[n].events
        ]

    def _flush(self, name: str, event: NotifyEvent) -> None:
        pending = self.pending[(name, event)]
        if pending.timer is not None:
            pending.timer.cancel()
            pending.timer = None
        if pending.facts:
            facts, pending.facts = pending.facts, []
            pending.sent += 1
            self._send(name, event, compose(event, self.run, _WHAT[event], facts))

    def _flush_all(self) -> None:
        for name, event in list(self.pending):
            self._flush(name, event)

    def _send(self, name: str, event: NotifyEvent, message: Message) -> None:
        for target in self.targets.get(name, ()):
            task = asyncio.ensure_future(self._deliver(target, event, message))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _deliver(self, target: Target, event: NotifyEvent, message: Message) -> None:
        outcome = await target.send(message, self.policy)
        if self.recorder is not None:
            with contextlib.suppress(Exception):  # a notice is never worth failing a run
                self.recorder.record_notice(
                    self.run.run_id,
                    target.notification,
                    target.index,
                    event.value,
                    outcome.delivered,
                    outcome.tries,
                    outcome.reason,
                )
        key = (target.notification, target.index)
        if not outcome.delivered and key not in self.warned:
            self.warned.add(key)
            self.warn(
                f"{target.label}: {event.value} message not delivered after "
                f"{outcome.tries} {'try' if outcome.tries == 1 else 'tries'} ({outcome.reason}); "
                "the run goes on"
            )

    async def close(self, wait: float) -> None:
        """Send what is collected, then wait at most ``wait`` seconds for pending messages."""
        self._flush_all()
        if not self.tasks:
            return
        _, late = await asyncio.wait(set(self.tasks), timeout=wait)
        if late:
            self.warn(
                f"{len(late)} notification message(s) still pending after {wait:g}s: given up"
            )
            for task in late:
                task.cancel()


def targets_of(
    notifications: Mapping[str, Notification], names: Sequence[str], warn: Callable[[str], None]
) -> dict[str, list[Target]]:
    """Ready-to-send targets of the notifications ``names``; an unusable URL is warned about."""
    found: dict[str, list[Target]] = {}
    for name in dict.fromkeys(names):
        notification = notifications.get(name)
        if notification is not None:
            found[name] = usable_targets(notification, warn)
    return found


def usable_targets(notification: Notification, warn: Callable[[str], None]) -> list[Target]:
    """The targets of one notification whose URL can be read and is understood by Apprise."""
    targets = []
    for index, ref in enumerate(notification.urls, 1):
        problem, target = _target(notification.name, index, ref)
        if target is not None:
            targets.append(target)
        else:
            warn(problem)
    return targets


def _target(name: str, index: int, ref: SecretRef) -> tuple[str, Target | None]:
    try:
        url = read_secret(ref, f"notification '{name}' URL {index}")
    except SecretError as exc:
        return str(exc), None
    target = Target(name, index, url)
    if not target.usable:
        return f"{target.label}: not an Apprise URL amtflow can use (read from {ref})", None
    return "", target
