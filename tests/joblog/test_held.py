"""Held logs (``JobLog.held``): nothing on disk until begun; finished while held, the log is
created and written once, in its final layout, never over another log; a crash in that write
leaves an empty or unfinished log (never a finished one cut short) that resume begins again."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from amtflow.errors import StateError
from amtflow.joblog import JobLog, JobLogHeader, layout, log_path
from amtflow.joblog.files import AppendOnly
from amtflow.joblog.layout import Ending
from amtflow.joblog.writer import HOLD_BYTES, text_bytes
from amtflow.task import AmtTask, TaskType
from amtflow.wording import code_text
from tests.joblog.conftest import END, START, header, messages


def path_in(tmp_path: Path) -> Path:
    return log_path(tmp_path / "logs", "NIGHTLY", START.date(), "REPORTTEST01", 4280)


def held_log(tmp_path: Path) -> JobLog:
    return JobLog.held(path_in(tmp_path), header(), batch_request_id=4280, started_at=START)


def created_log(tmp_path: Path) -> JobLog:
    return JobLog.create(path_in(tmp_path), header(), batch_request_id=4280, started_at=START)


def test_a_held_log_is_not_on_disk_and_its_folder_not_made(tmp_path: Path) -> None:
    log = held_log(tmp_path)
    log.append(messages("one"))
    log.note("amtflow: kill requested")
    assert not log.on_disk and not log.finished
    assert not (tmp_path / "logs").exists()


def test_finished_while_held_it_is_the_same_file_as_a_log_written_as_it_ran(
    tmp_path: Path,
) -> None:
    written = created_log(tmp_path / "a")
    held = held_log(tmp_path / "b")
    for log in (written, held):
        log.append(messages("started", "child", request=4281))
        log.note("amtflow: ended ERROR (11)")
        log.append(messages("done", first_seq=3))
        log.finish(11, ended_at=END)
    assert held.on_disk and held.finished
    assert held.path.read_bytes() == written.path.read_bytes()
    assert oct(held.path.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in held.path.parent.iterdir()) == [held.path.name]  # no temp


def test_begun_it_is_a_running_log_that_goes_on_on_disk(tmp_path: Path) -> None:
    log = held_log(tmp_path)
    log.append(messages("before it was seen running"))
    log.begin()
    log.append(messages("while it runs", first_seq=2))
    lines = log.path.read_text().splitlines()
    assert "Completion Code : RUNNING (2)" in lines
    assert lines[-2:] == ['"before it was seen running"', '"while it runs"']
    log.finish(4, ended_at=END)
    assert log.path.read_text().splitlines()[-2:] == ['"while it runs"', "-" * 75]
    again = JobLog.reopen(log.path)  # resume reads it as any finished log
    assert again.finished and again.messages_written == 2


def test_a_held_log_never_replaces_a_log_already_written(tmp_path: Path) -> None:
    first = created_log(tmp_path)
    first.append(messages("first run"))
    second = held_log(tmp_path)
    second.append(messages("second run"))
    second.finish(4, ended_at=END)
    assert second.path.name == "REPORTTEST01.4280~2.log"
    assert '"first run"' in first.path.read_text()
    assert '"second run"' in second.path.read_text()
    third = held_log(tmp_path)
    third.begin()
    assert third.path.name == "REPORTTEST01.4280~3.log"


def test_a_held_log_past_its_hold_is_begun_on_disk_by_itself(tmp_path: Path) -> None:
    log = held_log(tmp_path)
    text = "x" * 1000
    log.append(messages(*[text] * (HOLD_BYTES // 1000 - 5)))
    assert not log.on_disk
    log.append(messages(*[text] * 10, first_seq=1000))
    assert log.on_disk and log.path.read_text().count(f'"{text}"') == HOLD_BYTES // 1000 + 5


def test_a_held_log_honours_the_byte_cap(tmp_path: Path) -> None:
    log = JobLog.held(
        path_in(tmp_path), header(), batch_request_id=4280, started_at=START, max_bytes=4096
    )
    log.append(messages(*[f"message {i} " + "y" * 50 for i in range(200)]))
    log.finish(4, ended_at=END)
    text = log.path.read_text()
    assert "amtflow: the log is cut here" in text and len(text.encode()) <= 4096
    assert "message(s) after the cut not written" in text


def test_a_failed_write_of_a_held_log_leaves_no_file_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = held_log(tmp_path)
    log.append(messages("kept in memory"))

    def full_disk(self: object, text: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(AppendOnly, "write", full_disk)
    with pytest.raises(StateError, match="cannot write job log .*No space left"):
        log.finish(4, ended_at=END)
    assert list(log.path.parent.iterdir()) == []  # the file it created is removed


def test_a_finished_held_log_is_one_file_created_and_one_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = held_log(tmp_path)
    log.append(messages("one", "two"))
    calls: list[str] = []
    real_open, real_write = os.open, AppendOnly.write

    def counted_open(path: object, *args: object, **kwargs: object) -> int:
        calls.append(f"open {Path(str(path)).name}")
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    def counted_write(self: AppendOnly, text: str) -> None:
        calls.append("write")
        real_write(self, text)

    monkeypatch.setattr(os, "open", counted_open)
    monkeypatch.setattr(AppendOnly, "write", counted_write)
    monkeypatch.setattr(os, "link", lambda *a: pytest.fail("no link: no temporary file"))
    monkeypatch.setattr(os, "replace", lambda *a: pytest.fail("no rename: no temporary file"))
    log.finish(4, ended_at=END)
    assert calls == ["open REPORTTEST01.4280.log", "write"]
    assert log.path.read_text().splitlines()[-3:] == ['"one"', '"two"', "-" * 75]


def test_an_empty_log_left_by_a_crash_is_begun_again_on_resume(tmp_path: Path) -> None:
    path = path_in(tmp_path)
    path.parent.mkdir(parents=True)
    path.touch()  # the runner died between the log's create and its write
    log = JobLog.continued(path, header(), batch_request_id=4280, started_at=START)
    log.append(messages("read again from the server"))
    log.finish(4, ended_at=END)
    assert log.path == path and sorted(path.parent.iterdir()) == [path]
    lines = path.read_text().splitlines()
    assert lines[:2] == ["-" * 75, "amtflow ".ljust(75, "-")]
    assert lines[-2:] == ['"read again from the server"', "-" * 75]


def test_a_log_with_text_is_continued_not_begun_again(tmp_path: Path) -> None:
    first = created_log(tmp_path)
    first.append(messages("written before the crash"))
    first.close()
    again = JobLog.continued(first.path, header(), batch_request_id=4280, started_at=START)
    assert again.messages_written == 1 and again.path == first.path


# Finishes held logs forever, each under a new name, printing each name once finish returned.
_WRITER = """
import datetime as dt, sys
from pathlib import Path
from amtflow.joblog import JobLog
from amtflow.task import AmtTask, TaskType
from tests.joblog.conftest import END, START, header, messages
folder = Path(sys.argv[1])
n = 0
while True:
    n += 1
    log = JobLog.held(folder / f"J{n}.{n}.log", header(), batch_request_id=n, started_at=START)
    log.append(messages(*[f"message {i}" for i in range(50)], request=n))
    log.finish(4, ended_at=END)
    print(log.path.name, flush=True)
"""


def test_a_crash_leaves_each_held_log_finished_whole_or_not_finished(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    ) as writer:
        assert writer.stdout is not None
        reported = [writer.stdout.readline().strip() for _ in range(40)]
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
    logs = list(folder.iterdir())
    assert set(reported) <= {p.name for p in logs}
    unfinished = []
    for path in logs:  # a log that ends with its closing rule is whole
        lines = path.read_text().splitlines()
        if lines and lines[-1] == "-" * 75:
            assert lines.count('"message 49"') == 1, path
            assert "Completion Code : DONE (4)" in lines
        else:
            unfinished.append(path.name)
    assert len(unfinished) <= 1 and not set(unfinished) & set(reported)  # the one cut by the kill


SCRIPT = AmtTask(
    TaskType.SCRIPT,
    "DEMO2",
    "F:\\Amt\\Scripts\\RUN.ps1",
    parameters=("INPUT=daily.csv", "MODE=full", "NOTE=two\nlines"),
    user="NIGHTOPS",
    queue="LOW",
)


@pytest.mark.parametrize("shown", [header(), header(task=SCRIPT, attempt=3)])
def test_a_held_log_ends_with_the_header_a_finished_job_is_given(shown: JobLogHeader) -> None:
    ending = Ending(code_text(11), END)
    running = layout.header_lines(shown, 4280, START)
    assert layout.ended(running, START, ending) == layout.header_lines(shown, 4280, START, ending)


@pytest.mark.parametrize("lines", [[], ["plain"], ["a", "", "b"], ["é", "日本", "🙂 x"]])
def test_the_bytes_of_lines_are_those_they_take_in_the_file(lines: list[str]) -> None:
    assert text_bytes(lines) == sum(len(line.encode("utf-8")) + 1 for line in lines)


@pytest.mark.parametrize("begun", [False, True])
def test_a_log_folder_removed_during_a_run_is_made_again(tmp_path: Path, begun: bool) -> None:
    first = held_log(tmp_path)
    first.finish(4, ended_at=END)
    shutil.rmtree(tmp_path / "logs")  # e.g. an operator tidying up while the run goes on
    second = JobLog.held(path_in(tmp_path), header(), batch_request_id=4281, started_at=START)
    if begun:
        second.begin()
    second.finish(4, ended_at=END)
    assert second.path.read_text().endswith(layout.RULE + "\n")
    assert oct(second.path.parent.stat().st_mode & 0o777) == "0o700"
