"""The journal's ``notices`` table: added to older journals, kept apart from run rows."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from amtflow.state import Journal, schema


def test_a_journal_from_before_notifications_gets_the_table_and_keeps_its_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_dir = tmp_path / "state"
    before = schema.MIGRATIONS[: schema.MIGRATIONS.index(schema._NOTICES)]
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", before)
        with Journal.open(state_dir) as journal:
            run = journal.begin_run("NIGHTLY", dt.date(2026, 11, 24), definitions="", digest="")
    with sqlite3.connect(state_dir / "journal.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "notices" not in tables
    with Journal.open(state_dir) as journal:
        assert journal.run(run.run_id).schedule == "NIGHTLY"
        journal.record_notice(run.run_id, "ops", 1, "run_failed", False, 3, "HTTP 500")
        assert journal.notices(run.run_id) == [
            ("ops", 1, "run_failed", 0, 3, "HTTP 500", journal.notices(run.run_id)[0][6])
        ]


def test_a_notice_for_an_unknown_run_is_refused(tmp_path: Path) -> None:
    from amtflow.errors import StateError

    with Journal.open(tmp_path / "state") as journal:
        with pytest.raises(StateError, match="cannot record a notification"):
            journal.record_notice("nope", "ops", 1, "run_ok", True, 1, "")
