"""The journal's SQLite database: opening it safely, and its schema as ordered migration steps.

The schema version is SQLite's ``PRAGMA user_version``: the number of steps of ``MIGRATIONS``
applied. Opening an older database applies the missing steps, each in the same transaction as
the version bump (SQLite DDL is transactional), so a crash mid-migration leaves the old version.
A database from a newer amtflow is refused rather than guessed at.

Durability: WAL mode. The one write that guards "never start a job twice" runs at
``synchronous=FULL``: the taskId committed before its Start is sent is on disk, not only in the
OS cache, before the Start goes out; the Starts of one loop tick share one such commit
(``engine/launch.py``: group commit, one fsync for the lot). Every other write (the
batchRequestId, state changes, the last message seq) runs at NORMAL: in WAL mode that is safe against a crash of amtflow (SIGKILL),
and what a power cut may lose of them is rebuilt by ``resume``, which repeats a Start with its
recorded taskId (the server answers the same batchRequestId) or re-monitors the job. FULL costs an
fsync per commit (about 0.2-0.5 ms here), NORMAL almost nothing (bench/run.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import stat
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from amtflow.errors import StateError
from amtflow.state.busy import BUSY_TIMEOUT_S, busy_message, is_busy
from amtflow.state.files import NOFOLLOW

_V1 = (
    """CREATE TABLE runs (
        run_id      TEXT PRIMARY KEY,
        schedule    TEXT NOT NULL,
        date        TEXT NOT NULL,
        state       TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        definitions TEXT NOT NULL DEFAULT '',
        digest      TEXT NOT NULL DEFAULT '',
        pid         INTEGER,
        options     TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX runs_by_start ON runs (started_at)",
    """CREATE TABLE job_runs (
        run_id           TEXT NOT NULL REFERENCES runs (run_id),
        job              TEXT NOT NULL,
        attempt          INTEGER NOT NULL,
        task_id          TEXT,
        state            TEXT NOT NULL,
        batch_request_id INTEGER,
        completion_code  INTEGER,
        started_at       TEXT,
        ended_at         TEXT,
        log_path         TEXT,
        last_seq         INTEGER NOT NULL DEFAULT 0,
        reason           TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (run_id, job, attempt)
    )""",
)

# Moments of a job's time window (waiting for its start time, late, missed its latest start),
# one row each, so that status and reports can show them beside the attempts.
_V2 = (
    """CREATE TABLE job_marks (
        run_id  TEXT NOT NULL REFERENCES runs (run_id),
        job     TEXT NOT NULL,
        mark    TEXT NOT NULL,
        at      TEXT NOT NULL,
        detail  TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX job_marks_by_run ON job_marks (run_id)",
)

# A run's resolved plan (``amtflow.orchestration.record.RecordedPlan`` as JSON); '' for runs recorded before.
_V3 = (
    "ALTER TABLE runs ADD COLUMN plan TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX runs_by_schedule_date ON runs (schedule, date)",
)

# Notification deliveries, made or not (no URL: they hold tokens; reasons are masked).
_NOTICES = (
    """CREATE TABLE notices (
        run_id       TEXT NOT NULL REFERENCES runs (run_id),
        notification TEXT NOT NULL,
        url_index    INTEGER NOT NULL,
        event        TEXT NOT NULL,
        delivered    INTEGER NOT NULL,
        tries        INTEGER NOT NULL,
        reason       TEXT NOT NULL DEFAULT '',
        at           TEXT NOT NULL
    )""",
    "CREATE INDEX notices_by_run ON notices (run_id)",
)

# What operators did to jobs of a run from any terminal (hold, release, skip, mark_ok), who and
# when, in order: the runner of the run reads the new ones on each scheduling tick.
_OPERATOR_ACTIONS = (
    """CREATE TABLE operator_actions (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id  TEXT NOT NULL REFERENCES runs (run_id),
        job     TEXT NOT NULL,
        action  TEXT NOT NULL,
        user    TEXT NOT NULL,
        at      TEXT NOT NULL
    )""",
    "CREATE INDEX operator_actions_by_run ON operator_actions (run_id, seq)",
)

# Step i brings a database from version i to version i + 1. Append only; never edit a step.
MIGRATIONS: tuple[Sequence[str], ...] = (_V1, _V2, _V3, _NOTICES, _OPERATOR_ACTIONS)


_TEMPORARY_PREFIX, _TEMPORARY_SUFFIX = ".journal-", ".tmp"
# A journal is made whole in its temporary file in well under a second (15 fsyncs); one untouched
# for an hour was left by a creator that died (SIGKILL, power cut). Judged by age, not by the
# creator's pid: a state dir on shared storage (an NFS or Kubernetes volume) is written from
# machines whose pids mean nothing here, and a pid may be reused.
STALE_TEMPORARY_S = 3600.0


def connect(db_path: Path, *, existing: bool = False) -> sqlite3.Connection:
    """Open the journal database in WAL mode at the current schema version (``existing``: only
    if the file is there, never a new empty one)."""
    target = f"{db_path.absolute().as_uri()}?mode=rw" if existing else str(db_path)
    try:
        conn = sqlite3.connect(target, uri=existing, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise StateError(f"state db {db_path}: cannot open it: {exc}") from exc
    try:
        _configure(conn)
        migrate(conn, db_path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if is_busy(exc):  # migrating: another process holds the write lock
            raise StateError(busy_message(db_path, "cannot bring it up to date")) from exc
        raise StateError(f"state db {db_path}: not a usable amtflow journal: {exc}") from exc
    except StateError:
        conn.close()
        raise
    return conn


def create(db_path: Path) -> None:
    """Make a new journal at ``db_path`` whole: in WAL mode, at the current schema, private.

    It is made under a temporary name and linked into place, so that a reader polling the state
    dir (status, logs, completion) finds no journal or a whole one: never an empty file to fail
    on ("no such table"), nor one still in rollback mode, where its reads hold off the switch to
    WAL. A journal another process linked first is kept (and this one dropped).
    """
    try:
        fd, name = tempfile.mkstemp(
            prefix=_TEMPORARY_PREFIX, suffix=_TEMPORARY_SUFFIX, dir=db_path.parent
        )
    except OSError as exc:
        raise StateError(
            f"state file {db_path}: cannot open it for writing: {exc.strerror}"
        ) from exc
    os.close(fd)  # 0600; nothing else has it open
    made = Path(name)
    try:
        connect(made).close()  # the last connection's close folds its -wal into the file
        _link(made, db_path)
    finally:
        for path in (made, made.with_name(made.name + "-wal"), made.with_name(made.name + "-shm")):
            path.unlink(missing_ok=True)


def remove_stale_temporaries(state_dir: Path) -> None:
    """Remove what ``create`` left in ``state_dir`` when it was killed: its own temporary files
    (``.journal-*.tmp`` and their ``-wal``/``-shm``) untouched for ``STALE_TEMPORARY_S``.

    Only regular files of this user, by name, never followed; one being made now is recent and
    kept. A courtesy, never a failure: what cannot be removed stays for the next time.
    """
    oldest = time.time() - STALE_TEMPORARY_S
    with contextlib.suppress(OSError), os.scandir(state_dir) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if _is_stale_temporary(entry, oldest):
                    os.unlink(entry.path)


def _is_stale_temporary(entry: os.DirEntry[str], oldest: float) -> bool:
    name = entry.name
    for companion in ("-wal", "-shm"):
        name = name.removesuffix(companion)
    if not (name.startswith(_TEMPORARY_PREFIX) and name.endswith(_TEMPORARY_SUFFIX)):
        return False
    info = entry.stat(follow_symlinks=False)
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return stat.S_ISREG(info.st_mode) and mine and info.st_mtime < oldest


def _link(made: Path, db_path: Path) -> None:
    """``made`` under the name ``db_path`` unless that exists; the name made durable."""
    try:
        os.link(made, db_path)
    except FileExistsError:
        return
    except OSError as exc:  # a file system without hard links: made in place, as it was before
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise StateError(f"state db {db_path}: cannot create it: {exc.strerror}") from exc
        with contextlib.suppress(FileExistsError):
            os.close(os.open(db_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | NOFOLLOW, 0o600))
        return
    with contextlib.suppress(OSError):  # some file systems cannot sync a folder
        folder = os.open(db_path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _configure(conn: sqlite3.Connection) -> None:
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.DatabaseError(f"cannot switch to WAL mode (got {mode})")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")


def schema_version(conn: sqlite3.Connection) -> int:
    """The number of migration steps applied to this database."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, db_path: Path) -> None:
    """Apply the missing migration steps; StateError if the database is newer than this code."""
    if schema_version(conn) == len(MIGRATIONS):
        return
    conn.execute("BEGIN IMMEDIATE")  # re-read under the write lock: another process may migrate
    try:
        version = schema_version(conn)
        refuse_newer(version, db_path)
        for steps in MIGRATIONS[version:]:
            for statement in steps:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def refuse_newer(version: int, db_path: Path) -> None:
    if version > len(MIGRATIONS):
        raise StateError(
            f"state db {db_path} has schema version {version}, newer than this amtflow knows "
            f"({len(MIGRATIONS)}): upgrade amtflow or use another --state-dir"
        )
