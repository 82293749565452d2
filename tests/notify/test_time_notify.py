"""``job_late`` and ``job_missed_start`` from a real run's time windows (deadline, latest start)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.notify.conftest import Webhook, run_simulated, write_schedule

UTC = dt.timezone.utc


def _clock(date: dt.date, when: dt.datetime) -> str:
    days = (when.date() - date).days
    return f"+{days} {when:%H:%M:%S}" if days else f"{when:%H:%M:%S}"


def test_a_late_job_and_a_missed_start_are_told(tmp_path: Path, webhook: Webhook) -> None:
    now = dt.datetime.now(UTC)
    date = (now - dt.timedelta(hours=2)).date()
    passed = (now - dt.timedelta(hours=1)).replace(microsecond=0)
    deadline = (now + dt.timedelta(seconds=4)).replace(microsecond=0)
    jobs = [
        {
            "name": "SLOW",
            "task": "batch_job",
            "job_name": "SLOW",
            "deadline": _clock(date, deadline),
        },
        {
            "name": "LATESTART",
            "task": "batch_job",
            "job_name": "LATESTART",
            "latest_start": _clock(date, passed),
        },
    ]
    notifications = [
        {"name": "ops", "urls": [{"env": "OPS"}], "events": ["job_late", "job_missed_start"]}
    ]
    schedule = write_schedule(tmp_path, jobs, notifications, ["ops"])
    scenario = {"default": {"duration": 0.05}, "jobs": {"SLOW": {"duration": 9.0}}}
    result = run_simulated(
        tmp_path,
        schedule,
        scenario,
        {"OPS": webhook.apprise_url("ops")},
        "--date",
        date.isoformat(),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    titles = sorted(post.title.split(": ", 1)[1] for post in webhook.posts)
    assert titles == ["LATESTART missed its start", "SLOW late"], titles
    late = next(post for post in webhook.posts if "SLOW late" in post.title)
    assert f"not ended by its deadline {deadline:%H:%M}" in late.message
    missed = next(post for post in webhook.posts if "missed" in post.title)
    assert f"missed its latest start {passed:%H:%M}" in missed.message
