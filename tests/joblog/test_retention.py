from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from amtflow.joblog import JobLog, log_path, purge
from tests.joblog.conftest import START, header

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
DAY = 86_400


def make_log(
    log_dir: Path,
    age_days: float,
    *,
    agent: str = "amt-demo",
    schedule: str = "NIGHTLY",
    date: str = "2026-03-01",
    job: str = "A",
    request: int = 1,
    now: dt.datetime = NOW,
) -> Path:
    """A finished amtflow log last written ``age_days`` before ``now``."""
    path = log_path(log_dir, schedule, dt.date.fromisoformat(date), job, request)
    log = JobLog.create(path, header(agent=agent), batch_request_id=request, started_at=START)
    log.finish(4, ended_at=START)
    set_age(log.path, age_days, now)
    return log.path


def set_age(path: Path, age_days: float, now: dt.datetime = NOW) -> None:
    moment = now.timestamp() - age_days * DAY
    os.utime(path, (moment, moment), follow_symlinks=False)


def files(log_dir: Path) -> set[str]:
    return {p.relative_to(log_dir).as_posix() for p in log_dir.rglob("*")}


def test_logs_older_than_their_agents_retention_are_removed(tmp_path: Path) -> None:
    old = make_log(tmp_path, 31, request=1)
    young = make_log(tmp_path, 29, request=2)
    short_old = make_log(tmp_path, 8, agent="short", request=3)
    short_young = make_log(tmp_path, 6, agent="short", request=4)
    result = purge(tmp_path, {"amt-demo": 30, "short": 7}, now=NOW)
    assert set(result.removed) == {old, short_old}
    assert not old.exists() and not short_old.exists()
    assert young.exists() and short_young.exists()
    assert result.kept == 2 and result.problems == ()


def test_unknown_agents_get_the_default_retention(tmp_path: Path) -> None:
    gone = make_log(tmp_path, 11, agent="retired", request=1)
    kept = make_log(tmp_path, 9, agent="retired", request=2)
    result = purge(tmp_path, {}, default_days=10, now=NOW)
    assert result.removed == (gone,) and kept.exists()


def test_agent_names_with_odd_characters_are_matched(tmp_path: Path) -> None:
    odd = "amt\ndemo"
    make_log(tmp_path, 5, agent=odd)
    assert purge(tmp_path, {odd: 3}, default_days=100, now=NOW).removed != ()


def test_dry_run_removes_nothing_but_says_what_it_would(tmp_path: Path) -> None:
    old = make_log(tmp_path, 40)
    before = files(tmp_path)
    result = purge(tmp_path, {"amt-demo": 30}, now=NOW, dry_run=True)
    assert result.removed == (old,)
    assert set(result.removed_dirs) == {old.parent, old.parent.parent}
    assert files(tmp_path) == before


def test_emptied_date_and_schedule_folders_are_removed(tmp_path: Path) -> None:
    make_log(tmp_path, 40, schedule="NIGHTLY", date="2026-03-01", request=1)
    make_log(tmp_path, 40, schedule="WEEKLY", date="2026-03-01", request=2)
    make_log(tmp_path, 1, schedule="WEEKLY", date="2026-05-31", request=3)
    result = purge(tmp_path, {"amt-demo": 30}, now=NOW)
    assert set(result.removed_dirs) == {
        tmp_path / "NIGHTLY" / "2026-03-01",
        tmp_path / "NIGHTLY",
        tmp_path / "WEEKLY" / "2026-03-01",
    }
    assert files(tmp_path) == {"WEEKLY", "WEEKLY/2026-05-31", "WEEKLY/2026-05-31/A.3.log"}


def test_folders_it_did_not_empty_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "NIGHTLY" / "2026-05-31").mkdir(parents=True)  # a job is about to write here
    (tmp_path / "EMPTY").mkdir()
    result = purge(tmp_path, {"amt-demo": 30}, now=NOW)
    assert result.removed_dirs == ()
    assert files(tmp_path) == {"NIGHTLY", "NIGHTLY/2026-05-31", "EMPTY"}


def test_files_amtflow_did_not_write_are_never_touched(tmp_path: Path) -> None:
    log = make_log(tmp_path, 40)
    others = [
        log.parent / "notes.log",
        log.parent / "data.txt",
        tmp_path / "top.log",
        log.parent.parent / "loose.log",
    ]
    for other in others:
        other.write_text("not an amtflow log\n")
        set_age(other, 400)
    result = purge(tmp_path, {"amt-demo": 1}, now=NOW)
    assert result.removed == (log,) and result.kept == 0
    assert all(other.exists() for other in others)
    assert result.removed_dirs == ()  # the date folder still holds foreign files


def test_symlinks_are_never_followed_nor_removed(tmp_path: Path) -> None:
    log_dir, outside = tmp_path / "logs", tmp_path / "outside"
    target = make_log(outside, 400, request=9)  # an old amtflow log outside the log dir
    kept = make_log(log_dir, 1)
    (kept.parent / "link.log").symlink_to(target)
    (log_dir / "LINKED").symlink_to(outside / "NIGHTLY")
    (kept.parent.parent / "2026-01-01").symlink_to(target.parent)
    result = purge(log_dir, {"amt-demo": 30}, now=NOW)
    assert result.removed == () and result.removed_dirs == ()
    assert target.exists() and (kept.parent / "link.log").is_symlink()
    assert (log_dir / "LINKED").is_symlink() and (kept.parent.parent / "2026-01-01").is_symlink()


def test_a_missing_log_dir_is_nothing_to_purge(tmp_path: Path) -> None:
    result = purge(tmp_path / "missing", {"amt-demo": 30}, now=NOW)
    assert result.removed == () and result.kept == 0 and result.problems == ()


def test_a_file_that_cannot_be_removed_is_a_problem_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck = make_log(tmp_path, 40, request=1)
    other = make_log(tmp_path, 40, date="2026-03-02", request=2)
    real_unlink = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self == stuck:
            raise PermissionError(13, "Permission denied")
        real_unlink(self, missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    result = purge(tmp_path, {"amt-demo": 30}, now=NOW)
    assert result.removed == (other,) and stuck.exists() and not other.exists()
    assert result.problems == (f"cannot remove {stuck}: Permission denied",)
    assert set(result.removed_dirs) == {other.parent}  # the stuck file's folders stay


def test_running_logs_are_judged_by_their_age_too(tmp_path: Path) -> None:
    path = log_path(tmp_path, "NIGHTLY", START.date(), "A", 1)
    JobLog.create(path, header(), batch_request_id=1, started_at=START).close()
    set_age(path, 1)
    assert purge(tmp_path, {"amt-demo": 30}, now=NOW).kept == 1
