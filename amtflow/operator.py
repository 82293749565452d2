"""What an operator does to one job of a run from any terminal (hold, release, skip, mark OK),
as the journal keeps it and as it leaves each job. The action values are stable strings
because they are written to the state database.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class OperatorAction(str, enum.Enum):
    """What an operator did to one job of a run from any terminal (stored: stable values)."""

    HOLD = "hold"  # a job not started yet does not start until released
    RELEASE = "release"  # a held job may start again
    SKIP = "skip"  # a job not started yet never runs; its dependents treat it as ended OK
    MARK_OK = "mark_ok"  # a failed or killed job counts as OK from now on

    @property
    def past(self) -> str:
        """How it reads once done: ``held``, ``released``, ``skipped``, ``marked OK``."""
        return _PAST[self]


_PAST = {
    OperatorAction.HOLD: "held",
    OperatorAction.RELEASE: "released",
    OperatorAction.SKIP: "skipped",
    OperatorAction.MARK_OK: "marked OK",
}


@dataclass(frozen=True)
class OperatorRecord:
    """One operator action as the journal keeps it: what, on which job, who and when."""

    seq: int  # the journal's order of actions
    run_id: str
    job: str
    action: OperatorAction
    user: str  # the OS user who ran the command
    at: str  # ISO-8601 UTC

    @property
    def said(self) -> str:
        """``skipped by alice at 2026-11-24T21:02:03.004+00:00``."""
        return f"{self.action.past} by {self.user} at {self.at}"


@dataclass(frozen=True)
class OperatorView:
    """Where the operator's actions leave each job of a run (the latest action of each kind)."""

    held: Mapping[str, OperatorRecord] = field(default_factory=dict)
    skipped: Mapping[str, OperatorRecord] = field(default_factory=dict)
    marked_ok: Mapping[str, OperatorRecord] = field(default_factory=dict)

    @classmethod
    def of(cls, records: Iterable[OperatorRecord]) -> OperatorView:
        """The view after ``records``, in journal order."""
        held: dict[str, OperatorRecord] = {}
        skipped: dict[str, OperatorRecord] = {}
        marked: dict[str, OperatorRecord] = {}
        for record in records:
            if record.action is OperatorAction.HOLD:
                held[record.job] = record
            elif record.action is OperatorAction.RELEASE:
                held.pop(record.job, None)
            elif record.action is OperatorAction.SKIP:
                held.pop(record.job, None)
                skipped[record.job] = record
            else:
                marked[record.job] = record
        return cls(held, skipped, marked)

    def counted_ok(self, job: str) -> OperatorRecord | None:
        """The action that makes ``job`` count as ended OK (skip or mark-ok), if any."""
        return self.marked_ok.get(job) or self.skipped.get(job)


class StartWithheld(Exception):
    """The journal did not record a job's first attempt: an operator holds or skips it (the
    engine waits for the release, or settles the job skipped). Not an error a user sees."""

    def __init__(self, record: OperatorRecord) -> None:
        super().__init__(record.said)
        self.record = record
