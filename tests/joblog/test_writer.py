from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest

from amtflow.batch import Message
from amtflow.errors import StateError
from amtflow.joblog import JobLog, log_path
from amtflow.task import AmtTask, TaskType
from tests.joblog.conftest import END, START, header, messages

# The vendor's REPORTTEST01 example (its AMT connector operation guide, "Job Log"), line for line.
SEED_REPORTTEST01 = """\
---------------------------------------------------------------------------
Job Information -----------------------------------------------------------
Server          : http://10.1.29.5:9001
Application     : DEMO2
Submit User     : BATCH
Station         : OPCON
Queue Name      : 
Batch Job       : REPORTTEST01
Parameters      :
---------------------------------------------------------------------------
Completion Code : DONE
---------------------------------------------------------------------------
Job Log -------------------------------------------------------------------
"Started Rev: 1.3 AMT: 8.0.24223.0. Params: LOADINBATCHCONTROLLER /R:4280 /USEWORKINGDIR"
"Report test 01 is started"
"Report test 01 user BATCH"
"Report test 01 Value param []"
"Report test 01 is running 0 seconds"
"Report test 01 is running 10 seconds"
"Report test 01 is running 20 seconds"
"Report test 01 test is ended"
"Report execution time: 00:00:30:229"
"Done"
---------------------------------------------------------------------------
"""

AMTFLOW_BLOCK = """\
---------------------------------------------------------------------------
amtflow -------------------------------------------------------------------
Run Id          : 20260301-020000-ab12
Schedule        : NIGHTLY
Job             : REPORTTEST01
Agent           : amt-demo
Attempt         : 1
Batch Request Id: 4280
Run As User     : the application user of DEMO2
Start           : 2026-03-01T02:00:00+00:00
End             : 2026-03-01T02:00:30+00:00
Duration        : 00:00:30.229
"""


def new_log(tmp_path: Path, **changes: object) -> JobLog:
    path = log_path(tmp_path / "logs", "NIGHTLY", START.date(), "REPORTTEST01", 4280)
    return JobLog.create(path, header(**changes), batch_request_id=4280, started_at=START)


def codes(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("Completion Code")]


def seed_messages() -> list[Message]:
    lines = SEED_REPORTTEST01.splitlines()
    texts = [line[1:-1] for line in lines if line.startswith('"')]
    return messages(*texts)


def test_finished_log_is_the_vendor_layout_below_the_amtflow_block(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.append(seed_messages())
    log.finish(4, ended_at=END)
    # the vendor's layout line for line, with the number beside the completion code's name
    vendor = SEED_REPORTTEST01.replace("Completion Code : DONE\n", "Completion Code : DONE (4)\n")
    assert log.path.read_text() == AMTFLOW_BLOCK + vendor


def test_script_job_queue_user_and_parameters(tmp_path: Path) -> None:
    log = new_log(
        tmp_path,
        task=AmtTask(
            TaskType.SCRIPT,
            "DEMO2",
            "F:\\Amt\\Scripts\\DEMO2\\RUN.ps1",
            ("INPUT=daily.csv", "MODE=full"),
            user="NIGHTOPS",
            queue="LOW",
        ),
    )
    log.finish(11, ended_at=END)
    lines = log.path.read_text().splitlines()
    assert "Script Job      : F:\\Amt\\Scripts\\DEMO2\\RUN.ps1" in lines
    assert "Queue Name      : LOW" in lines
    assert "Run As User     : NIGHTOPS" in lines
    at = lines.index("Parameters      :")
    assert lines[at + 1 : at + 4] == ["  INPUT=daily.csv", "  MODE=full", "-" * 75]
    assert "Completion Code : ERROR (11)" in lines


def test_run_as_user_names_the_application_user_when_the_job_has_none(tmp_path: Path) -> None:
    log = new_log(tmp_path, task=AmtTask(TaskType.BATCH_JOB, "PAYROLL", "REPORTTEST01"))
    log.finish(4, ended_at=END)
    lines = log.path.read_text().splitlines()
    assert "Run As User     : the application user of PAYROLL" in lines


def test_running_log_shows_running_and_no_closing_rule(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.append(messages("one"))
    lines = log.path.read_text().splitlines()
    assert "Completion Code : RUNNING (2)" in lines
    assert "End             : " in lines and "Duration        : " in lines
    assert lines[-2:] == ["Job Log ".ljust(75, "-"), '"one"']


def test_messages_are_readable_while_the_job_runs_each_once(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    for i in range(3):
        log.append(messages(f"batch {i} a", f"batch {i} b", first_seq=2 * i + 1))
        text = log.path.read_text()  # another process reading mid-run
        for j in range(i + 1):
            assert text.count(f'"batch {j} a"') == 1 and text.count(f'"batch {j} b"') == 1
    log.finish(4, ended_at=END)
    text = log.path.read_text()
    assert all(text.count(f'"batch {i} b"') == 1 for i in range(3))


def test_child_messages_are_marked_with_their_request_id(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.append([*messages("parent"), *messages("child", request=4281)])
    assert log.path.read_text().splitlines()[-2:] == ['"parent"', '"[R:4281] child"']


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('say "hi"', '"say \\"hi\\""'),
        ("F:\\AMT\\SCRIPTS", '"F:\\\\AMT\\\\SCRIPTS"'),
        ("two\nlines\r", '"two\\nlines\\r"'),
        ("bell\x07 nul\x00 sep\u2028", '"bell\\x07 nul\\x00 sep\\u2028"'),
        (
            '"\n---------------------------------------------------------------------------',
            '"\\"\\n---------------------------------------------------------------------------"',
        ),
    ],
)
def test_messages_are_one_quoted_line_each(tmp_path: Path, text: str, line: str) -> None:
    log = new_log(tmp_path)
    log.append(messages(text))
    log.finish(4, ended_at=END)
    lines = log.path.read_text().splitlines()
    assert lines[-2:] == [line, "-" * 75]


def test_notes_are_unquoted_amtflow_lines(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.note("amtflow: kill requested")
    log.note('"forged" message\nCompletion Code : DONE')
    lines = log.path.read_text().splitlines()
    assert lines[-2:] == [
        "amtflow: kill requested",
        'amtflow: "forged" message\\nCompletion Code : DONE',
    ]
    assert lines.count("Completion Code : RUNNING (2)") == 1


def test_header_values_cannot_forge_lines(tmp_path: Path) -> None:
    task = AmtTask(TaskType.BATCH_JOB, "X\nCompletion Code : DONE", "J", ("A=1\nB=2",))
    log = new_log(tmp_path, task=task)
    log.finish(11, ended_at=END)
    lines = log.path.read_text().splitlines()
    assert "Application     : X\\nCompletion Code : DONE" in lines
    assert "  A=1\\nB=2" in lines
    assert codes(lines) == ["Completion Code : ERROR (11)"]


def test_file_is_0600_and_created_dirs_0700_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        log = new_log(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600
    for folder in (log.path.parent, log.path.parent.parent, tmp_path / "logs"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    log.finish(4, ended_at=END)
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600


def test_existing_folders_keep_their_mode(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir(mode=0o755)
    os.chmod(tmp_path / "logs", 0o755)
    new_log(tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / "logs").st_mode) == 0o755


def test_finish_writes_code_end_and_duration(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.finish(3, ended_at=START + dt.timedelta(hours=2, minutes=3, seconds=4.5))
    lines = log.path.read_text().splitlines()
    assert "Completion Code : KILLED (3)" in lines
    assert "End             : 2026-03-01T04:03:04+00:00" in lines
    assert "Duration        : 02:03:04.500" in lines
    assert lines[-2:] == ["Job Log ".ljust(75, "-"), "-" * 75]
    assert log.finished


def test_unknown_completion_code_is_named_as_unknown(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.finish(77, ended_at=END)
    assert "Completion Code : UNKNOWN_77 (77)" in log.path.read_text().splitlines()


def test_finish_twice_rewrites_the_ending_without_duplicating(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.append(messages("one"))
    log.finish(2, ended_at=END)
    log.finish(3, ended_at=END + dt.timedelta(seconds=1))
    lines = log.path.read_text().splitlines()
    assert codes(lines) == ["Completion Code : KILLED (3)"]
    assert "Duration        : 00:00:31.229" in lines
    assert lines.count('"one"') == 1 and lines[-1] == "-" * 75 and lines[-2] == '"one"'


def test_lines_after_finish_go_above_the_closing_rule(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.finish(4, ended_at=END)
    log.note("late note")
    log.append(messages("late message"))
    assert log.path.read_text().splitlines()[-3:] == [
        "amtflow: late note",
        '"late message"',
        "-" * 75,
    ]


def test_finish_is_atomic_a_failed_replace_leaves_the_running_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = new_log(tmp_path)
    log.append(messages("kept"))
    before = log.path.read_text()
    replaced: list[tuple[str, str]] = []

    def failing_replace(src: str, dst: str) -> None:
        replaced.append((str(src), str(dst)))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(StateError, match="cannot finish job log .*No space left"):
        log.finish(4, ended_at=END)
    assert log.path.read_text() == before
    assert Path(replaced[0][0]).parent == log.path.parent  # same folder: a rename, not a copy
    assert sorted(p.name for p in log.path.parent.iterdir()) == [log.path.name]  # no temp left


def test_create_never_overwrites_an_existing_log(tmp_path: Path) -> None:
    first = new_log(tmp_path)
    first.append(messages("first run"))
    second = new_log(tmp_path)
    assert second.path != first.path and second.path.name == "REPORTTEST01.4280~2.log"
    assert '"first run"' in first.path.read_text()


def test_reopen_appends_to_an_unfinished_log(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.append(messages("before crash"))
    log.close()
    again = JobLog.reopen(log.path)
    again.append(messages("after resume", first_seq=2))
    again.append(messages("child", request=4281, first_seq=3))
    again.finish(4, ended_at=END)
    lines = again.path.read_text().splitlines()
    assert lines[-4:] == ['"before crash"', '"after resume"', '"[R:4281] child"', "-" * 75]
    assert "Duration        : 00:00:30.229" in lines


def test_reopen_after_a_line_cut_by_a_crash_starts_a_new_line(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.close()
    with log.path.open("a") as stream:
        stream.write('"half a mess')
    again = JobLog.reopen(log.path)
    again.append(messages("next"))
    again.finish(4, ended_at=END)
    assert log.path.read_text().splitlines()[-3:] == ['"half a mess', '"next"', "-" * 75]


def test_reopen_refuses_a_file_amtflow_did_not_write(tmp_path: Path) -> None:
    other = tmp_path / "other.log"
    other.write_text("hello\n")
    with pytest.raises(StateError, match="not a job log written by amtflow"):
        JobLog.reopen(other)
    with pytest.raises(StateError, match="cannot read job log"):
        JobLog.reopen(tmp_path / "missing.log")


def test_an_unwritable_log_dir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "logs").write_text("a file, not a folder")
    with pytest.raises(StateError, match="cannot (create log folder|open job log)"):
        new_log(tmp_path)


def test_appending_many_messages_keeps_one_file_handle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = new_log(tmp_path)
    opens: list[object] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda *a, **k: opens.append(a) or real_open(*a, **k))
    for i in range(10_000):
        log.append(messages(f"message {i}", first_seq=i + 1))
    assert opens == []
    log.finish(4, ended_at=END)
    lines = log.path.read_text().splitlines()
    assert lines[-2] == '"message 9999"' and len([x for x in lines if x.startswith('"')]) == 10_000


def test_finishing_a_damaged_log_is_a_clear_error(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.close()
    log.path.write_text("truncated by someone\n")
    with pytest.raises(StateError, match="header is damaged"):
        log.finish(4, ended_at=END)
