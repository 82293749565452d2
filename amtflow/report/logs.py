"""What ``amtflow logs purge`` shows: each log file and folder removed, then a count."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from amtflow.joblog import PurgeResult
from amtflow.joblog.recorded import JobLogFile
from amtflow.report import plain, safe_lines, shown, stderr, stdout, warning


def show_purge(result: PurgeResult, log_dir: Path, *, dry_run: bool) -> None:
    """Print what a purge removed (or would remove), relative to the log dir, then a summary."""
    verb = "would remove" if dry_run else "removed"
    for path in (*result.removed, *result.removed_dirs):
        suffix = "/" if path in result.removed_dirs else ""
        stdout.print(f"{verb} {shown(_relative(path, log_dir))}{suffix}")
    for problem in result.problems:
        warning(problem)
    stdout.print(_summary(result, log_dir, verb))


def _summary(result: PurgeResult, log_dir: Path, verb: str) -> str:
    files = _count(len(result.removed), "log file")
    folders = ""
    if result.removed_dirs:
        folders = f" and {_count(len(result.removed_dirs), 'empty folder')}"
    kept = f"; kept {_count(result.kept, 'log file')}"
    return shown(f"{verb} {files}{folders} from {log_dir}{kept}")


def _relative(path: Path, log_dir: Path) -> str:
    try:
        return path.relative_to(log_dir).as_posix()
    except ValueError:
        return str(path)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def purged_before_run(result: PurgeResult, log_dir: Path) -> None:
    """The one line a run prints when its start removed expired log files (on stderr)."""
    for problem in result.problems:
        warning(problem)
    if result.removed:
        stderr.print(
            shown(f"removed {_count(len(result.removed), 'expired log file')} from {log_dir}")
        )


def show_job_logs(files: Sequence[JobLogFile]) -> None:
    """Each log file as it is, under a line naming job, attempt and path."""
    for log in files:
        stdout.print(f"[bold]== {shown(log.job)}[/] attempt {log.attempt}: {shown(str(log.path))}")
        if log.text is None and log.running:
            stdout.print("[yellow](not begun yet: the job was started a moment ago)[/]")
        elif log.text is None:
            stdout.print("[yellow](the file is gone: purged or moved)[/]")
        else:
            plain(safe_lines(log.text.rstrip("\n")))
