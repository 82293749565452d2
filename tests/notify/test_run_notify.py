"""``amtflow run`` with notifications: real receivers on loopback, the real CLI in a subprocess."""

from __future__ import annotations

import email
import json
import re
from collections import Counter
from email import policy
from pathlib import Path

from tests.notify.conftest import (
    DATE,
    Smtp,
    Webhook,
    batch_jobs,
    notices,
    run_simulated,
    write_schedule,
)
from tests.ports import dead_port
from tests.run.conftest import amtflow

FAILING = {
    "default": {"duration": 0.1},
    "jobs": {
        "REPORT": {
            "duration": 0.1,
            "end_code": 11,
            "messages": ["report step 1", "report failed: no data"],
        },
        "ABORT": {"duration": 0.1, "end_code": 12, "messages": ["aborted by business logic"]},
    },
}


def kind(title: str) -> str:
    """Which event a message title announces."""
    for pattern, event in (
        (r": Started: ", "run_started"),
        (r": OK: ", "run_ok"),
        (r": Failed: |: Interrupted by ", "run_failed"),
        (r": (\d+ jobs|\S+) failed", "job_failed"),
    ):
        if re.search(pattern, title):
            return event
    raise AssertionError(f"unexpected title {title!r}")


def test_failed_run_sends_an_email_with_subject_body_and_log_tail(
    tmp_path: Path, smtp: Smtp
) -> None:
    schedule = write_schedule(
        tmp_path,
        [*batch_jobs("EXTRACT"), {**batch_jobs("REPORT")[0], "depends_on": ["EXTRACT"]}],
        [{"name": "mail", "urls": [{"env": "MAIL_URL"}], "events": ["run_failed"]}],
        ["mail"],
    )
    result = run_simulated(tmp_path, schedule, FAILING, {"MAIL_URL": smtp.apprise_url()})
    assert result.returncode == 1, result.stderr
    assert "warning" not in result.stderr
    assert len(smtp.mailbox.mails) == 1
    envelope = smtp.mailbox.mails[0]
    assert envelope.rcpt_tos == ["ops@example.com"]
    mail = email.message_from_bytes(envelope.content, policy=policy.default)
    subject = str(mail["Subject"])
    assert subject.startswith(f"NIGHTLY {DATE}: Failed: 1 failed, 0 not run, of 2 jobs")
    assert len(subject) <= 80
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    run_id = re.search(r"run (\S+)\.", body)[1]  # type: ignore[index]
    assert run_id.endswith(tuple("0123456789abcdef")) and "NIGHTLY" in run_id
    assert f"Schedule NIGHTLY, date {DATE}, run {run_id}." in body
    assert "- REPORT: failed, completion code ERROR (11)" in body
    log = next((tmp_path / "logs").rglob("REPORT.*.log"))
    assert f"log: {log}" in body
    # quoted log lines (Apprise 1 sends an HTML part too and collapses the indent in the text one)
    assert re.search(r"^ *\| .*report failed: no data", body, re.M), body
    assert "EXTRACT" not in body  # an OK job is not listed in a failure message


def test_webhook_gets_one_message_per_event_and_target(tmp_path: Path, webhook: Webhook) -> None:
    jobs = [*batch_jobs("EXTRACT", "REPORT"), {**batch_jobs("ABORT")[0], "notify": ["owner"]}]
    notifications = [
        {
            "name": "ops",
            "urls": [{"env": "OPS_A"}, {"env": "OPS_B"}],
            "events": ["run_started", "job_failed", "run_failed", "run_ok"],
        },
        {"name": "managers", "urls": [{"env": "MGR"}], "events": ["run_failed"]},
        {"name": "owner", "urls": [{"env": "OWNER"}], "events": ["job_failed", "run_failed"]},
    ]
    env = {
        "OPS_A": webhook.apprise_url("ops-a"),
        "OPS_B": webhook.apprise_url("ops-b"),
        "MGR": webhook.apprise_url("managers"),
        "OWNER": webhook.apprise_url("owner"),
    }
    schedule = write_schedule(tmp_path, jobs, notifications, ["ops", "managers"])
    result = run_simulated(tmp_path, schedule, FAILING, env)
    assert result.returncode == 1, result.stderr
    assert "warning" not in result.stderr
    for path in ("ops-a", "ops-b"):
        got = [kind(post.title) for post in webhook.at(path)]
        assert got == ["run_started", "job_failed", "run_failed"], got  # in the order they happened
        failed = next(p for p in webhook.at(path) if kind(p.title) == "job_failed")
        assert failed.title == f"NIGHTLY {DATE}: 2 jobs failed"
        assert "- REPORT: failed, completion code ERROR (11)" in failed.message
        assert "- ABORT: failed, completion code ABORTED (12)" in failed.message
        assert failed.type == "failure"
    assert [kind(p.title) for p in webhook.at("managers")] == ["run_failed"]
    # a job's own notification hears of that job's events only
    owner = webhook.at("owner")
    assert [p.title for p in owner] == [f"NIGHTLY {DATE}: ABORT failed, ABORTED (12)"]
    assert len(webhook.posts) == 8
    recorded = notices(tmp_path)
    assert len(recorded) == 8 and all(row[3] == 1 and row[4] == 1 for row in recorded)
    assert Counter(row[2] for row in recorded) == {
        "run_started": 2,
        "job_failed": 3,
        "run_failed": 3,
    }


def test_ok_run_sends_run_ok(tmp_path: Path, webhook: Webhook) -> None:
    notifications = [{"name": "ops", "urls": [{"env": "OPS"}], "events": ["run_ok", "run_failed"]}]
    schedule = write_schedule(tmp_path, batch_jobs("A", "B"), notifications, ["ops"])
    result = run_simulated(
        tmp_path, schedule, {"default": {"duration": 0.1}}, {"OPS": webhook.apprise_url("ops")}
    )
    assert result.returncode == 0, result.stderr
    assert [p.title for p in webhook.posts] == [f"NIGHTLY {DATE}: OK: all 2 jobs ended OK"]
    assert webhook.posts[0].type == "info"


def test_unreachable_or_failing_receiver_changes_nothing_but_one_warning(
    tmp_path: Path, webhook: Webhook
) -> None:
    webhook.status = 500
    notifications = [
        {
            "name": "ops",
            "urls": [{"env": "DEAD"}, {"env": "BROKEN"}],
            "events": ["run_started", "job_failed", "run_failed"],
        }
    ]
    env = {
        "DEAD": f"json://127.0.0.1:{dead_port()}/hook",
        "BROKEN": webhook.apprise_url("broken"),
        "AMTFLOW_NOTIFY_TIMEOUT": "2",
        "AMTFLOW_NOTIFY_PAUSE": "0.05",  # the tries' count is checked, not their pace
    }
    schedule = write_schedule(tmp_path, batch_jobs("EXTRACT", "REPORT"), notifications, ["ops"])
    result = run_simulated(tmp_path, schedule, FAILING, env, "--json", str(tmp_path / "run.json"))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 2, result.stderr  # one per unreachable URL, not per message
    assert any(
        "notification 'ops' URL 1 (json)" in w and "not delivered after 3 tries" in w
        for w in warnings
    )
    assert any("notification 'ops' URL 2 (json)" in w and "500" in w for w in warnings)
    assert '"state": "failed"' in (tmp_path / "run.json").read_text()
    assert "REPORT" in result.stdout and "failed" in result.stdout
    # the first message was tried three times, the next (the target known down) once each;
    # every try reached the broken receiver, in the order the events happened
    assert [kind(post.title) for post in webhook.posts] == ["run_started"] * 3 + [
        "job_failed",
        "run_failed",
    ]
    recorded = notices(tmp_path)
    assert [(row[0], row[1], row[2], row[3], row[4]) for row in recorded if row[1] == 2] == [
        ("ops", 2, "run_started", 0, 3),
        ("ops", 2, "job_failed", 0, 1),
        ("ops", 2, "run_failed", 0, 1),
    ]
    assert len(recorded) == 6 and all(row[3] == 0 and row[5] for row in recorded)
    # `amtflow status RUN` shows the run's deliveries, as text and as JSON
    run_id = json.loads((tmp_path / "run.json").read_text())["run_id"]
    state = ["--state-dir", str(tmp_path / "state")]
    shown = amtflow("status", run_id, *state, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    at = lines.index("notifications:")
    assert [line.split(" at ")[0] for line in lines[at + 1 : at + 7]] == [
        f"  ops URL {url}: {event} NOT delivered after {tries}" + (f": {reason}" if reason else "")
        for _, url, event, _, tries, reason in [
            (*row[:4], f"{row[4]} {'try' if row[4] == 1 else 'tries'}", row[5]) for row in recorded
        ]
    ]
    assert "500" in shown.stdout and "127.0.0.1" not in shown.stdout  # reasons, never URLs
    data = json.loads(amtflow("status", run_id, *state, "--format", "json", cwd=tmp_path).stdout)
    assert [
        (n["notification"], n["url"], n["event"], n["delivered"], n["tries"], n["reason"])
        for n in data["notices"]
    ] == [(row[0], row[1], row[2], False, row[4], row[5]) for row in recorded]


def test_receiver_that_never_answers_is_given_up_after_a_bounded_wait(
    tmp_path: Path, webhook: Webhook
) -> None:
    webhook.hang = True
    notifications = [{"name": "ops", "urls": [{"env": "HANG"}], "events": ["run_ok"]}]
    env = {
        "HANG": webhook.apprise_url("hang"),
        "AMTFLOW_NOTIFY_TIMEOUT": "3600",  # the receiver's hour: waited out, the command times out
        "AMTFLOW_NOTIFY_WAIT": "2",
    }
    schedule = write_schedule(tmp_path, batch_jobs("A"), notifications, ["ops"])
    result = run_simulated(tmp_path, schedule, {"default": {"duration": 0.1}}, env)
    # it ended at all (run_simulated's 120 s), and said why: the run gave up after its 2 s wait
    # instead of waiting out the try; no wall-time threshold to flake on a loaded machine
    assert result.returncode == 0, result.stderr
    assert "1 notification message(s) still pending after 2s: given up" in result.stderr
    assert len(webhook.posts) == 1


def test_300_jobs_with_100_failures_send_a_bounded_number_of_messages(
    tmp_path: Path, webhook: Webhook
) -> None:
    names = [f"JOB{i:03d}" for i in range(300)]
    scenario = {
        "default": {"duration": 0.05},
        "jobs": {
            name: {"duration": 0.05, "end_code": 11, "messages": [f"{name} broke"]}
            for name in names[::3]
        },
    }
    notifications = [
        {"name": "ops", "urls": [{"env": "OPS"}], "events": ["job_failed", "run_failed"]}
    ]
    schedule = write_schedule(tmp_path, batch_jobs(*names), notifications, ["ops"])
    result = run_simulated(
        tmp_path, schedule, scenario, {"OPS": webhook.apprise_url("ops")}, "--max-parallel", "100"
    )
    assert result.returncode == 1, result.stderr
    kinds = Counter(kind(post.title) for post in webhook.posts)
    assert kinds["run_failed"] == 1
    assert 1 <= kinds["job_failed"] <= 6, kinds  # Batching.early_messages + the run's end
    listed = set()
    for post in webhook.posts:
        assert len(post.message) <= 12_000
        listed |= set(re.findall(r"^- (JOB\d{3}):", post.message, re.M))
    assert len(listed) <= 20 * 7  # named up to 20 per message, the rest counted
    run_failed = next(p for p in webhook.posts if kind(p.title) == "run_failed")
    assert run_failed.title == f"NIGHTLY {DATE}: Failed: 100 failed, 0 not run, of 300 jobs"
    assert "... and 80 more (amtflow status RUN)" in run_failed.message
    assert run_failed.message.count("last lines of the log:") == 3


def test_a_killed_job_is_counted_as_killed_as_the_summary_counts_it(
    tmp_path: Path, webhook: Webhook
) -> None:
    """One vocabulary: the summary says `1 failed, 1 killed`; the phone must not say 2 failed."""
    scenario = {
        "default": {"duration": 0.1},
        "jobs": {"REPORT": {"end_code": 11}, "ABORT": {"end_code": 3}},
    }
    notifications = [{"name": "ops", "urls": [{"env": "OPS"}], "events": ["run_failed"]}]
    schedule = write_schedule(
        tmp_path, batch_jobs("EXTRACT", "REPORT", "ABORT"), notifications, ["ops"]
    )
    result = run_simulated(tmp_path, schedule, scenario, {"OPS": webhook.apprise_url("ops")})
    assert result.returncode == 1, result.stderr
    assert "1 failed, 1 killed, 1 ok" in result.stdout
    (post,) = webhook.at("ops")
    assert post.title == f"NIGHTLY {DATE}: Failed: 1 failed, 1 killed, 0 not run, of 3 jobs"
    assert "- ABORT: killed, completion code KILLED (3)" in post.message
