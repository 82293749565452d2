from __future__ import annotations

import datetime as dt

from amtflow.batch import Message
from amtflow.joblog import JobLogHeader
from amtflow.task import AmtTask, TaskType

START = dt.datetime(2026, 3, 1, 2, 0, 0, tzinfo=dt.timezone.utc)
END = START + dt.timedelta(seconds=30.229)


def header(**changes: object) -> JobLogHeader:
    fields: dict[str, object] = dict(
        server="http://10.1.29.5:9001",
        agent="amt-demo",
        task=AmtTask(TaskType.BATCH_JOB, "DEMO2", "REPORTTEST01"),
        run_id="20260301-020000-ab12",
        schedule="NIGHTLY",
        job="REPORTTEST01",
        attempt=1,
    )
    fields.update(changes)
    return JobLogHeader(**fields)  # type: ignore[arg-type]


def messages(*texts: str, request: int = 4280, first_seq: int = 1) -> list[Message]:
    return [Message(first_seq + i, request, "2026-03-01T02:00:00", t) for i, t in enumerate(texts)]
