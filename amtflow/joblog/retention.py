"""Log retention: remove job logs older than their agent's ``retain_log_files`` days.

Only the layout amtflow writes is visited: ``<log dir>/<schedule>/<YYYY-MM-DD>/*.log``. A file is
removed only if it is a regular file (never a symlink) whose first lines are an amtflow job-log
header; its agent is read from that header. Symlinked folders are never entered. Afterwards
date folders emptied by the purge, and schedule folders emptied by that, are removed (folders
that were empty already are left alone: a running job may have just created one).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from amtflow.joblog import layout
from amtflow.model import Agent
from amtflow.state.files import check_owned

_HEADER_BYTES = 4096
_DATE_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed (or, in a dry run, would remove), and what it kept."""

    removed: tuple[Path, ...] = ()  # log files
    removed_dirs: tuple[Path, ...] = ()  # date and schedule folders left empty
    kept: int = 0  # amtflow logs still within their retention
    problems: tuple[str, ...] = field(default=())  # files or folders that could not be removed


@dataclass
class _Purge:
    retention: Mapping[str, int]
    default_days: int
    now: float
    dry_run: bool
    removed: list[Path] = field(default_factory=list)
    removed_dirs: list[Path] = field(default_factory=list)
    kept: int = 0
    problems: list[str] = field(default_factory=list)

    def result(self) -> PurgeResult:
        return PurgeResult(
            tuple(self.removed), tuple(self.removed_dirs), self.kept, tuple(self.problems)
        )


def purge(
    log_dir: Path,
    retention_days: Mapping[str, int],
    *,
    default_days: int = 30,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> PurgeResult:
    """Remove job logs older (by mtime) than their agent's retention, then empty folders.

    ``retention_days`` maps agent names to days; agents not in it get ``default_days``. A
    missing log dir is nothing to purge. With ``dry_run`` nothing is removed and the result says
    what would have been.
    """
    check_owned(Path(log_dir), "log dir")  # a run's first look at its log dir: refuse it early
    moment = (now or dt.datetime.now(dt.timezone.utc)).timestamp()
    days = {layout.one_line(agent): n for agent, n in retention_days.items()}
    state = _Purge(days, default_days, moment, dry_run)
    for schedule_dir in _real_dirs(Path(log_dir)):
        _purge_schedule(state, schedule_dir)
    return state.result()


def retention_of(agents: Mapping[str, Agent]) -> dict[str, int]:
    """Days of retention per agent name, from the definitions' agents."""
    return {name: agent.retain_log_files for name, agent in agents.items()}


def _purge_schedule(state: _Purge, schedule_dir: Path) -> None:
    emptied = [
        d
        for d in _real_dirs(schedule_dir)
        if _DATE_FOLDER.fullmatch(d.name) and _purge_date(state, d)
    ]
    if emptied and _empty_after(schedule_dir, emptied):
        _remove_dir(state, schedule_dir)


def _purge_date(state: _Purge, date_dir: Path) -> bool:
    """Purge one date folder; True if it was emptied and removed (or would be, in a dry run)."""
    expired = [f for f in _log_files(date_dir) if _expired(state, f)]
    removed = [log for log in expired if _remove_file(state, log)]
    return bool(removed) and _empty_after(date_dir, removed) and _remove_dir(state, date_dir)


def _expired(state: _Purge, path: Path) -> bool:
    agent = _agent_of(path)
    if agent is None:
        return False  # not an amtflow log: never touched, not counted
    days = state.retention.get(agent, state.default_days)
    try:
        age = state.now - path.lstat().st_mtime
    except OSError:
        return False
    expired = age > days * 86_400
    state.kept += not expired
    return expired


def _agent_of(path: Path) -> str | None:
    """The agent named in an amtflow log's header; None if the file is not such a log."""
    try:
        with path.open("rb") as stream:
            head = stream.read(_HEADER_BYTES).decode("utf-8", errors="replace").split("\n")
    except OSError:
        return None
    if not layout.is_amtflow_log(head):
        return None
    return layout.read_field(head, "Agent")


def _log_files(folder: Path) -> Iterator[Path]:
    for entry in _scan(folder):
        if entry.name.endswith(".log") and entry.is_file(follow_symlinks=False):
            yield Path(entry.path)


def _real_dirs(folder: Path) -> Iterator[Path]:
    for entry in _scan(folder):
        if entry.is_dir(follow_symlinks=False):
            yield Path(entry.path)


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError:  # missing, not a folder, unreadable: nothing to purge there
        return []


def _empty_after(folder: Path, going: list[Path]) -> bool:
    """Whether ``folder`` is (or, once ``going`` is gone, will be) empty."""
    names = {p.name for p in going}
    return all(entry.name in names for entry in _scan(folder))


def _remove_file(state: _Purge, path: Path) -> bool:
    try:
        if not state.dry_run:
            path.unlink()
    except FileNotFoundError:
        return True  # gone already (another purge): the folder may still be emptied
    except OSError as exc:
        state.problems.append(f"cannot remove {path}: {exc.strerror}")
        return False
    state.removed.append(path)
    return True


def _remove_dir(state: _Purge, folder: Path) -> bool:
    try:
        if not state.dry_run:
            folder.rmdir()
        state.removed_dirs.append(folder)
        return True
    except OSError as exc:  # e.g. a file appeared meanwhile: keep the folder
        state.problems.append(f"cannot remove {folder}: {exc.strerror}")
        return False
