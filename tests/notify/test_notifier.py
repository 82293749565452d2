"""The notifier in-process against a real webhook: batching bounds and every event's emission
point (job_late, job_missed_start and run_recovered are called by the deadline and rerun code)."""

from __future__ import annotations

import asyncio
import datetime as dt

from amtflow.model import MasterJob, Notification, NotifyEvent, Schedule, SecretRef
from amtflow.notify import JobFact, RunFacts, RunNotices
from amtflow.notify.notifier import Batching, Notifier, targets_of
from amtflow.notify.send import Policy
from amtflow.runs import JobState, RunState
from amtflow.task import AmtTask, TaskType
from tests.notify.conftest import DATE, Webhook

RUN = RunFacts("NIGHTLY", dt.date.fromisoformat(DATE), "20261124T020000-NIGHTLY-ab12", 3)


def setup(
    webhook: Webhook, events: list[NotifyEvent], monkeypatch, batching: Batching = Batching()
) -> tuple[Schedule, dict[str, Notification]]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPS_URL", webhook.apprise_url("ops"))
    notifications = {"ops": Notification("ops", (SecretRef(env="OPS_URL"),), frozenset(events))}
    jobs = tuple(
        MasterJob(name, AmtTask(TaskType.BATCH_JOB, "DEMO2", name), "amt")
        for name in ("A", "B", "C")
    )
    return Schedule("NIGHTLY", jobs, notify=("ops",)), notifications


def test_job_events_are_batched_and_bounded(webhook: Webhook, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    schedule, notifications = setup(webhook, [NotifyEvent.JOB_FAILED], monkeypatch)

    async def scenario() -> None:
        notifier = Notifier(
            notifications,
            schedule,
            RUN,
            targets=targets_of(notifications, ["ops"], print),
            policy=Policy(timeout=5, tries=1),
            batching=Batching(window=0.05, early_messages=2),
        )
        for wave in range(6):
            for n in range(10):
                notifier.job_event(
                    NotifyEvent.JOB_FAILED, JobFact(f"J{wave}{n}", JobState.FAILED, 11)
                )
            await asyncio.sleep(0.3)
        await notifier.close(10)

    asyncio.run(scenario())
    # two early messages of 10 jobs each, then everything else in one message at the end
    assert [post.title for post in webhook.posts] == [
        f"NIGHTLY {DATE}: 10 jobs failed",
        f"NIGHTLY {DATE}: 10 jobs failed",
        f"NIGHTLY {DATE}: 40 jobs failed",
    ]


def test_every_emission_point_sends_its_event(webhook: Webhook, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    schedule, notifications = setup(webhook, list(NotifyEvent), monkeypatch)

    async def scenario() -> None:
        notices = RunNotices.start(
            notifications, schedule, RUN, recorder=None, warn=print, environ={}
        )
        notices.job_late("A", "past its deadline 02:30 by 12 minutes")
        notices.job_missed_start("B", "not started by its latest start 03:00")
        outcome = JobFact("C", JobState.KILLED, 3, "killed: max_run_time 2h", 1, None)
        notices.job_ended(outcome)
        notices.job_ended(JobFact("A", JobState.OK, 4, "", 1, None))  # OK: no message
        notices.run_ended(RunState.FAILED, [outcome])
        notices.run_recovered([JobFact("C", JobState.OK, 4, "", 2, None)])
        await notices.close()

    asyncio.run(scenario())
    titles = sorted(post.title.split(": ", 1)[1] for post in webhook.posts)
    assert titles == sorted(
        [
            "Started: 3 jobs to run",
            "A late",
            "B missed its start",
            "C failed, KILLED (3)",
            "Failed: 0 failed, 1 killed, 0 not run, of 1 jobs",  # C was KILLED (3)
            "Recovered: after a rerun all 1 jobs ended OK",
        ]
    )
    late = next(post for post in webhook.posts if post.title.endswith("A late"))
    assert "- A: running: past its deadline 02:30 by 12 minutes" in late.message
    assert late.type == "info"
    missed = next(post for post in webhook.posts if post.title.endswith("missed its start"))
    assert "- B: not run: not started by its latest start 03:00" in missed.message
    assert missed.type == "failure"


def test_a_schedule_without_notify_sends_nothing_and_needs_no_apprise(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    schedule = Schedule(
        "NIGHTLY", (MasterJob("A", AmtTask(TaskType.BATCH_JOB, "DEMO2", "A"), "amt"),)
    )
    notices = RunNotices.start({}, schedule, RUN, recorder=None, warn=print, environ={})
    notices.run_ended(RunState.OK, [])
    asyncio.run(notices.close())
    assert notices._notifier is None


def test_the_send_policy_takes_its_timeout_and_pause_from_the_environment() -> None:
    from amtflow.notify import policy_from

    assert policy_from({}) == Policy()
    chosen = {"AMTFLOW_NOTIFY_TIMEOUT": "2", "AMTFLOW_NOTIFY_PAUSE": "0.05"}
    assert policy_from(chosen) == Policy(timeout=2, tries=3, pause=0.05)
    for bad in ("0", "-1", "soon", "3601"):  # no pause at all, or an absurd one: the default
        assert policy_from({"AMTFLOW_NOTIFY_PAUSE": bad}).pause == Policy.pause == 1.0
