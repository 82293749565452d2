"""One run per schedule and date: a flock the kernel drops when its holder dies."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from amtflow.errors import StateError
from amtflow.state import RunLock, lock_path
from tests.state.conftest import DATE

# Holds the lock, says so, then sleeps until killed.
_HOLDER = """
import datetime, sys, time
from pathlib import Path
from amtflow.state import RunLock
lock = RunLock.acquire(Path(sys.argv[1]), "NIGHTLY", datetime.date(2026, 11, 24), "RUN-HOLDER")
print("held", flush=True)
time.sleep(60)
"""


def _try_acquire_elsewhere(state_dir: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import datetime, sys\nfrom pathlib import Path\nfrom amtflow.state import RunLock\n"
        "from amtflow.errors import StateError\n"
        "try:\n"
        "    RunLock.acquire(Path(sys.argv[1]), 'NIGHTLY', datetime.date(2026, 11, 24), 'RUN-2')\n"
        "except StateError as e:\n    print(e); sys.exit(3)\n"
        "print('acquired')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(state_dir)], capture_output=True, text=True, timeout=30
    )


def test_second_acquire_fails_naming_the_run_then_succeeds_once_the_holder_is_killed(
    state_dir: Path,
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(state_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        refused = _try_acquire_elsewhere(state_dir)
        assert refused.returncode == 3, refused.stderr
        assert refused.stdout.strip() == (
            f"schedule NIGHTLY for 2026-11-24 is already running: run RUN-HOLDER (pid {holder.pid})"
        )
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    after_kill = _try_acquire_elsewhere(state_dir)
    assert after_kill.stdout.strip() == "acquired", after_kill.stderr


def test_the_same_process_cannot_take_it_twice_and_release_frees_it(state_dir: Path) -> None:
    with RunLock.acquire(state_dir, "NIGHTLY", DATE, "RUN-1") as lock:
        with pytest.raises(StateError, match="already running: run RUN-1 \\(pid \\d+\\)"):
            RunLock.acquire(state_dir, "NIGHTLY", DATE, "RUN-2")
        other_date = RunLock.acquire(state_dir, "NIGHTLY", DATE.replace(day=25), "RUN-3")
        other_date.release()
    assert not lock.held
    RunLock.acquire(state_dir, "NIGHTLY", DATE, "RUN-4").release()


def test_lock_file_is_private_and_named_safely(state_dir: Path) -> None:
    with RunLock.acquire(state_dir, "../../etc/NIGHTLY", DATE, "RUN-1") as lock:
        assert lock.path.parent == state_dir / "locks"
        assert lock.path.name.startswith("etc_NIGHTLY-") and lock.path.name.endswith(
            ".2026-11-24.lock"
        )
        assert stat.S_IMODE(os.stat(lock.path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(lock.path.parent).st_mode) == 0o700
        assert b"RUN-1" in lock.path.read_bytes()
    assert lock.path.read_bytes() == b""  # released: no stale holder to report


def test_names_that_sanitise_alike_get_different_locks(state_dir: Path) -> None:
    assert lock_path(state_dir, "A B", DATE) != lock_path(state_dir, "A_B", DATE)
    assert lock_path(state_dir, "A/B", DATE) != lock_path(state_dir, "A B", DATE)
