from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tests.run.conftest import start_simulator

__all__ = ["UTC", "PastLatestStart", "clock", "start_simulator"]

UTC = dt.timezone.utc


def clock(when: dt.datetime) -> str:
    """A time of day as a definition writes it (HH:MM:SS)."""
    return when.strftime("%H:%M:%S")


@dataclass(frozen=True)
class PastLatestStart:
    """A run date two hours ago whose job LATESTART had to start one hour ago (``passed``): a run
    now misses it. AFTER depends on LATESTART; OTHER on nothing."""

    date: dt.date
    passed: dt.datetime

    @classmethod
    def now(cls) -> PastLatestStart:
        now = dt.datetime.now(UTC)
        # on second 30, whenever the test runs: amtflow shows a time on a whole minute as HH:MM
        passed = (now - dt.timedelta(hours=1)).replace(second=30, microsecond=0)
        return cls((now - dt.timedelta(hours=2)).date(), passed)

    @property
    def days(self) -> int:
        """Days from the run date to the latest start (1 when the hour ago is after midnight)."""
        return (self.passed.date() - self.date).days

    @property
    def shown(self) -> str:
        """The latest start as amtflow writes it: ``23:38:30 (+1d)`` after the run date."""
        return f"{clock(self.passed)} (+{self.days}d)" if self.days else clock(self.passed)

    @property
    def jobs(self) -> list[dict[str, Any]]:
        latest = f"+{self.days} {clock(self.passed)}" if self.days else clock(self.passed)
        return [
            {
                "name": "LATESTART",
                "task": "batch_job",
                "job_name": "LATESTART",
                "latest_start": latest,
            },
            {
                "name": "AFTER",
                "task": "batch_job",
                "job_name": "AFTER",
                "depends_on": ["LATESTART"],
            },
            {"name": "OTHER", "task": "batch_job", "job_name": "OTHER"},
        ]
