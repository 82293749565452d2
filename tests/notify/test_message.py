"""What a message says, and its bounds: titles fit a phone, bodies and log tails stay small."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from amtflow.model import NotifyEvent
from amtflow.notify import JobFact, RunFacts
from amtflow.notify.message import TITLE_LIMIT, compose, log_tail
from amtflow.runs import JobState

RUN = RunFacts("NIGHTLY", dt.date(2026, 11, 24), "20261124T020000-NIGHTLY-ab12", 3)


def test_one_failed_job_is_named_in_the_title_with_its_code(tmp_path: Path) -> None:
    log = tmp_path / "REPORT.7.log"
    log.write_text("header\n" + "".join(f"line {n}\n" for n in range(1, 40)))
    fact = JobFact("REPORT", JobState.FAILED, 11, "ended ERROR (11)", 2, str(log))
    message = compose(NotifyEvent.JOB_FAILED, RUN, "Jobs failed.", [fact])
    assert message.title == "NIGHTLY 2026-11-24: REPORT failed, ERROR (11)"
    assert message.failure
    assert (
        "- REPORT: failed, completion code ERROR (11), after 2 attempts: ended ERROR (11)"
        in message.body
    )
    assert f"  log: {log}" in message.body
    quoted = [line for line in message.body.splitlines() if line.startswith("  | ")]
    assert quoted == [f"  | line {n}" for n in range(30, 40)]


def test_titles_fit_a_phone_even_with_long_names() -> None:
    run = RunFacts("S" * 100, RUN.date, RUN.run_id, 1)
    fact = JobFact("J" * 100, JobState.FAILED, 11)
    for event in NotifyEvent:
        message = compose(event, run, "Failed: 1 failed, 0 not run, of 1 jobs.", [fact])
        assert len(message.title) <= TITLE_LIMIT
        assert "\n" not in message.title


def test_hundreds_of_failures_make_a_bounded_body(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_text(("x" * 5000 + "\n") * 200)
    facts = [
        JobFact(f"JOB{i:03d}", JobState.FAILED, 11, "r" * 300, 1, str(log)) for i in range(500)
    ]
    facts += [
        JobFact(f"WAIT{i:03d}", JobState.NOT_RUN, reason="depends on JOB000") for i in range(50)
    ]
    message = compose(
        NotifyEvent.RUN_FAILED, RUN, "Failed: 500 failed, 50 not run, of 550 jobs.", facts
    )
    assert len(message.body) <= 12_000
    assert message.body.count("last lines of the log:") <= 3
    assert "Failed jobs (500):" in message.body
    assert all(len(line) <= 400 for line in message.body.splitlines())


def test_log_tail_of_a_missing_or_binary_log_is_harmless(tmp_path: Path) -> None:
    assert log_tail(tmp_path / "absent.log") == []
    odd = tmp_path / "odd.log"
    odd.write_bytes(b"\xff\xfe broken \x00 bytes\nlast line\n")
    assert log_tail(odd)[-1] == "last line"


def test_a_job_an_operator_marked_ok_is_listed_with_who_and_when() -> None:
    said = "marked OK by alice at 2026-11-24T02:10:00.000+00:00"
    fact = JobFact("LOAD", JobState.FAILED, 11, "ended ERROR (11)", 1, operator=said)
    assert not fact.troubled
    message = compose(
        NotifyEvent.RUN_OK, RUN, "OK: all 3 jobs ended OK, 1 by an operator's.", [fact]
    )
    assert "Passed by an operator (1):" in message.body
    assert f"- LOAD: failed, completion code ERROR (11), {said}: ended ERROR (11)" in message.body
    assert "Failed jobs" not in message.body
