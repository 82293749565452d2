"""The durable state of amtflow runs: the SQLite journal, the run lock, the status view.

What the journal promises: docs/architecture.md, "The journal's promise".

    Journal      runs and job attempts, each write committed as it happens (``journal``)
    RunLock      one run per schedule and date at a time (``lock``)
    read_status  what ``amtflow status`` shows (``status``)

Files are private to the user: the state dir and ``locks/`` 0700, the database (and its ``-wal``
and ``-shm``) and lock files 0600. Nothing here stores a secret.
"""

from __future__ import annotations

from amtflow.state.files import default_state_dir, safe_name
from amtflow.state.journal import Journal, journal_path, new_run_id, utc_now
from amtflow.state.lock import RunLock, lock_path
from amtflow.state.status import RunDetail, RunSummary, StatusReport, duration_seconds, read_status

__all__ = [
    "Journal",
    "RunDetail",
    "RunLock",
    "RunSummary",
    "StatusReport",
    "default_state_dir",
    "duration_seconds",
    "journal_path",
    "lock_path",
    "new_run_id",
    "read_status",
    "safe_name",
    "utc_now",
]
