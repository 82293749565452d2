"""Beside the attempts in the journal: a job's marks (late, waiting, missed), operator actions
(hold, release, skip, mark-ok) and notification deliveries."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from amtflow.operator import OperatorAction, OperatorRecord
from amtflow.state import actions
from amtflow.state.connection import JournalBase, utc_now


class JournalMarks(JournalBase):
    """The ``job_marks``, ``operator_actions`` and ``notices`` tables."""

    def flag_job(self, run_id: str, job: str, flag: str, detail: str = "") -> None:
        """Record a moment of the job's time window (``JobFlag`` value), e.g. it became late."""
        row = (run_id, job, flag, utc_now(), detail)

        def write() -> None:
            try:
                self._conn.execute(
                    "INSERT INTO job_marks (run_id, job, mark, at, detail) VALUES (?, ?, ?, ?, ?)",
                    row,
                )
            except sqlite3.Error as exc:
                raise self._error(f"cannot record that job '{job}' is {flag}", exc) from exc

        self._grouped(write)

    def job_marks(self, run_id: str) -> dict[str, dict[str, tuple[str, str]]]:
        """Each job's marks (``JobFlag`` value -> (when, detail)), the latest of each kind."""
        rows = self._query(
            "SELECT job, mark, at, detail FROM job_marks WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        )
        marks: dict[str, dict[str, tuple[str, str]]] = {}
        for job, mark, at, detail in rows:
            marks.setdefault(job, {})[mark] = (at, detail)
        return marks

    # -- operator actions -------------------------------------------------------------------

    def record_operator_actions(
        self, run_id: str, jobs: Sequence[str], action: OperatorAction, user: str
    ) -> list[OperatorRecord]:
        """Check and record an operator's ``action`` on ``jobs`` (all or none; see ``actions``)."""
        return self._write(lambda: self._record_actions(run_id, jobs, action, user))

    def _record_actions(
        self, run_id: str, jobs: Sequence[str], action: OperatorAction, user: str
    ) -> list[OperatorRecord]:
        self._sync(full=True)  # an acknowledged hold must survive a power cut
        try:
            return actions.record_actions(self._conn, run_id, jobs, action, user=user, at=utc_now)
        except sqlite3.Error as exc:
            raise self._error(f"cannot record {action.value}", exc) from exc

    def operator_actions(self, run_id: str, after: int = 0) -> list[OperatorRecord]:
        """The operator actions on a run after ``after`` (a ``seq``), in order."""
        try:
            return actions.read_actions(self._conn, run_id, after)
        except sqlite3.Error as exc:
            raise self._error("cannot read operator actions", exc) from exc

    # -- notifications ------------------------------------------------------------------------

    def record_notice(
        self,
        run_id: str,
        notification: str,
        url_index: int,
        event: str,
        delivered: bool,
        tries: int,
        reason: str,
    ) -> None:
        """Record one notification delivery, made or not (never a URL; ``reason`` masked)."""
        row = (run_id, notification, url_index, event, int(delivered), tries, reason, utc_now())

        def write() -> None:
            try:
                self._conn.execute("INSERT INTO notices VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            except sqlite3.Error as exc:
                raise self._error("cannot record a notification", exc) from exc

        def at_normal() -> None:
            self._sync(full=False)
            write()

        if self._group.grouping:  # during a run: held, not waited for, if the lock is taken
            self._grouped(write)
        else:
            self._write(at_normal)

    def notices(self, run_id: str) -> list[tuple[Any, ...]]:
        """A run's deliveries: (notification, url_index, event, delivered, tries, reason, at)."""
        return self._query(
            "SELECT notification, url_index, event, delivered, tries, reason, at FROM notices "
            "WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        )
