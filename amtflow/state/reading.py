"""Reading a journal without writing it (status, logs, report): any version this amtflow knows,
read as the current one; an empty file as a journal with no runs. ``schema`` makes and migrates.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from amtflow.errors import StateError
from amtflow.state.busy import BUSY_TIMEOUT_S
from amtflow.state.schema import MIGRATIONS, refuse_newer, schema_version


def connect_read_only(db_path: Path) -> sqlite3.Connection:
    """Open the journal for reading only (status, logs): nothing is created or written.

    A WAL database needs its ``-shm`` file; in a read-only dir where there is none (the last
    writer closed cleanly, so every commit is in the database file) it is opened immutable.
    """
    base = f"{db_path.absolute().as_uri()}?mode=ro"
    reason = ""
    for uri in (base, f"{base}&immutable=1"):
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            version = schema_version(conn)
        except sqlite3.OperationalError as exc:
            reason = str(exc)
            continue
        except sqlite3.DatabaseError as exc:
            raise StateError(f"state db {db_path}: not a usable amtflow journal: {exc}") from exc
        if version > len(MIGRATIONS):
            conn.close()
            refuse_newer(version, db_path)
        if version == 0:  # an empty file (a journal is made whole aside): it holds no runs yet
            conn.close()
            return _empty_journal()
        _read_as_current(conn, version)
        return conn
    raise StateError(f"state db {db_path}: cannot open it for reading: {reason}")


def _empty_journal() -> sqlite3.Connection:
    """A journal of the current schema with nothing in it, in memory: what an empty file reads as."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for step in MIGRATIONS:
        for sql in step:
            conn.execute(sql)
    return conn


# What a database of an older version lacks, made up in the connection's TEMP schema (which
# shadows the database's own names) so that status and logs read it as it is, unmigrated: step i
# is what migration step i added. Runs recorded then have no plan, and no job marks.
_READ_AS_CURRENT: tuple[Sequence[str], ...] = (
    (),
    ("CREATE TEMP TABLE job_marks (run_id TEXT, job TEXT, mark TEXT, at TEXT, detail TEXT)",),
    ("CREATE TEMP VIEW runs AS SELECT *, '' AS plan FROM main.runs",),
    (
        "CREATE TEMP TABLE notices (run_id TEXT, notification TEXT, url_index INTEGER,"
        " event TEXT, delivered INTEGER, tries INTEGER, reason TEXT, at TEXT)",
    ),
    (
        "CREATE TEMP TABLE operator_actions (seq INTEGER, run_id TEXT, job TEXT, action TEXT,"
        " user TEXT, at TEXT)",
    ),
)


def _read_as_current(conn: sqlite3.Connection, version: int) -> None:
    for step in _READ_AS_CURRENT[max(version, 1) : len(MIGRATIONS)]:
        for sql in step:
            conn.execute(sql)
