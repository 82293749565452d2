"""Finding 8, 11 and 6 of issue 11: a full disk under the logs, the journal or the lock, and a
server that floods a job with messages. The run ends in order, with its summary; never an
internal error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from tests.notify.conftest import Webhook
from tests.reliability.hostile import job_status
from tests.reliability.hostile_cli import ACTION, MESSAGES, MONITOR, Listener, serving
from tests.run.conftest import PASSWORD, LiveSimulator, amtflow, write_definitions
from tests.tmpfs import small_tmpfs
from tests.waits import UNTIL_TOLD_S, MovableClock, wait_for_batch_request_id

DATE = "2026-11-24"
RUN_FOR = 1.5  # seconds each job runs on the server


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 200 KB tmpfs (root only); skipped with the reason where it cannot be mounted."""
    with small_tmpfs(tmp_path / "small", "200k") as mount:
        yield mount


class ChattyJobs:
    """Each Start gets its own batch request id; each job runs RUN_FOR seconds and writes
    twenty 2 KB messages per page read, so that logs fill a small disk fast."""

    def __init__(self) -> None:
        self.started: dict[int, float] = {}
        self.ended_seen: set[int] = set()

    async def start(self, request: web.Request) -> web.StreamResponse:
        rid = 5000 + len(self.started)
        self.started[rid] = time.monotonic()
        return web.json_response(job_status(1, rid=rid))

    async def monitor(self, request: web.Request) -> web.StreamResponse:
        rid = int(request.match_info["id"])
        done = time.monotonic() - self.started[rid] > RUN_FOR
        if done:
            self.ended_seen.add(rid)
        return web.json_response({**job_status(4 if done else 2, rid=rid)})

    async def messages(self, request: web.Request) -> web.StreamResponse:
        rid = int(request.match_info["id"])
        after = int(request.query.get("after", "0"))
        items = [
            {"seq": after + n, "batchRequestId": rid, "time": "t", "text": "x" * 2000}
            for n in range(1, 21)
        ]
        return web.json_response({"batchRequestId": rid, "messages": items, "more": False})

    def routes(self) -> dict[str, Any]:
        return {ACTION: self.start, MONITOR: self.monitor, MESSAGES: self.messages}


JOBS = [{"name": f"J{n}", "task": "batch_job", "job_name": f"J{n}"} for n in range(4)]


def run(
    tmp_path: Path, server: Listener, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    definitions = write_definitions(tmp_path, server.url, JOBS)
    return amtflow("run", definitions, "--date", DATE, *args, cwd=tmp_path, env=env)


def test_a_full_log_disk_fails_the_jobs_clearly_and_the_run_ends_in_order(
    tmp_path: Path, small_disk: Path
) -> None:
    chatty = ChattyJobs()
    with serving(chatty.routes()) as server:
        result = run(tmp_path, server, "--log-dir", str(small_disk))
    text = result.stdout + result.stderr
    assert result.returncode == 1, text
    assert "internal error" not in text and "Traceback" not in text
    assert "summary" in result.stdout and " failed" in result.stdout.splitlines()[-1], text
    assert "its job log could not be written" in text and "No space left on device" in text
    # every AMT job was watched to its end, though its log could not be written
    assert chatty.ended_seen == set(chatty.started) and len(chatty.started) == 4
    status = json.loads(amtflow("status", "--format", "json", cwd=tmp_path).stdout)
    run_id = status["runs"][0]["run_id"]
    detail = amtflow("status", run_id, "--format", "json", cwd=tmp_path)
    assert '"running"' not in detail.stdout and '"failed"' in detail.stdout, detail.stdout


def fill(folder: Path) -> None:
    """Fill the file system of ``folder`` to the last block."""
    with open(folder / "filler", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
        except OSError:
            pass
    os.sync()


def test_a_full_state_disk_is_one_line(tmp_path: Path, small_disk: Path) -> None:
    fill(small_disk)
    with serving(ChattyJobs().routes()) as server:
        result = run(tmp_path, server, "--state-dir", str(small_disk / "state"))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amtflow: error: "), result.stderr
    assert "internal error" not in result.stderr and server.count(ACTION) == 0


def test_a_full_disk_under_the_lock_is_one_line(tmp_path: Path, small_disk: Path) -> None:
    """The journal has room, the locks dir (on the small disk) has none: finding 11."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "locks").symlink_to(small_disk)
    fill(small_disk)
    with serving(ChattyJobs().routes()) as server:
        result = run(tmp_path, server, "--state-dir", str(state))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("amtflow: error: lock ") and "No space left" in result.stderr
    assert "internal error" not in result.stderr and server.count(ACTION) == 0


def test_a_message_flood_is_cut_at_the_log_cap(tmp_path: Path) -> None:
    async def flood(request: web.Request) -> web.StreamResponse:
        after = int(request.query.get("after", "0"))
        items = [
            {"seq": after + n, "batchRequestId": 4280, "time": "t", "text": "flood " * 20}
            for n in range(1, 1001)
        ]
        return web.json_response({"batchRequestId": 4280, "messages": items, "more": True})

    async def monitor(request: web.Request) -> web.StreamResponse:
        return web.json_response(job_status(4))

    cap = 64 * 1024
    with serving({MESSAGES: flood, MONITOR: monitor}) as server:
        result = run(tmp_path, server, "--job", "J0", AMTFLOW_MAX_LOG_BYTES=str(cap))
    assert result.returncode == 0, result.stdout + result.stderr
    (log,) = (tmp_path / ".amtflow" / "logs").rglob("*.log")
    text = log.read_text(encoding="utf-8")
    assert log.stat().st_size <= cap
    assert f"the log is cut here: it reached its cap of {cap} bytes (AMTFLOW_MAX_LOG_BYTES)" in text
    assert "message(s) after the cut not written" in text
    assert text.rstrip("\n").endswith("-" * 75) and "Completion Code : DONE (4)" in text


def test_a_bad_log_cap_is_a_usage_error(tmp_path: Path) -> None:
    with serving(ChattyJobs().routes()) as server:
        result = run(tmp_path, server, AMTFLOW_MAX_LOG_BYTES="lots")
    assert result.returncode == 2 and "AMTFLOW_MAX_LOG_BYTES" in result.stderr
    assert "internal error" not in result.stderr


def test_a_full_disk_under_the_run_s_files_never_changes_its_exit_status(
    tmp_path: Path, small_disk: Path
) -> None:
    """--json, --junit and --html go to a disk that filled up during the run: each is one
    warning, no half-written file is left to be read as the run's, every file that can be
    written still is, and the exit status is the run's own (a repeat of the command says the
    same), as for a closed stdout: a systemd unit or CronJob must not see an OK night as
    failed, nor as exit 2 (invalid definitions), which they take as final."""
    definitions = write_definitions(tmp_path, "http://127.0.0.1:9", JOBS[:2])
    fill(small_disk)
    outputs = (
        "--json", small_disk / "run.json",
        "--junit", small_disk / "junit.xml",
        "--html", small_disk / "run.html",
    )  # fmt: skip
    result = amtflow(
        "run", definitions, "--date", DATE, "--simulate", "--plain", *outputs, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 ok" in result.stdout.splitlines()[-1]
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 3 and all("amtflow: warning: " in w for w in warnings), warnings
    assert all("No space left on device" in w for w in warnings), warnings
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # nothing half written
    again = amtflow("run", definitions, "--date", DATE, "--simulate", "--plain", cwd=tmp_path)
    assert again.returncode == result.returncode and "already ran" in again.stdout


def test_the_run_s_files_are_written_where_there_is_room_when_one_cannot_be(
    tmp_path: Path, small_disk: Path
) -> None:
    definitions = write_definitions(tmp_path, "http://127.0.0.1:9", JOBS[:2])
    fill(small_disk)
    result = amtflow(
        "run", definitions, "--date", DATE, "--simulate", "--plain",
        "--json", small_disk / "run.json", "--junit", tmp_path / "junit.xml",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cannot write" in result.stderr and "run.json" in result.stderr
    assert 'tests="2"' in (tmp_path / "junit.xml").read_text()


def test_a_state_disk_that_fills_up_mid_run_leaves_the_run_to_resume_and_says_how(
    tmp_path: Path,
    small_disk: Path,
    start_simulator: Callable[..., LiveSimulator],
    webhook: Webhook,
) -> None:
    """The journal cannot be written once LONG ends: the runner stops in one line that names
    the run and the way on, with an exit status that a systemd unit or a Kubernetes Job retries
    (not 1 or 2, which they take as final), and tells the run's notification (at 02:00 nobody
    reads an exit status). Once there is room again, the same command resumes the run: LONG is
    not started again, AFTER runs, and every log is whole."""
    clock = MovableClock()
    live = start_simulator({"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}}, clock=clock)
    jobs = [
        {"name": "LONG", "task": "batch_job", "job_name": "LONG"},
        {"name": "AFTER", "task": "batch_job", "job_name": "AFTER", "depends_on": ["LONG"]},
    ]
    definitions = write_definitions(tmp_path, live.url, jobs)
    document = yaml.safe_load(definitions.read_text())
    events = ["run_failed", "run_resumed", "run_ok"]
    document["notifications"] = [{"name": "ops", "urls": [{"env": "OPS"}], "events": events}]
    document["schedules"][0]["notify"] = ["ops"]
    definitions.write_text(yaml.safe_dump(document, sort_keys=False))
    state = small_disk / "state"
    command = ("run", definitions, "--date", DATE, "--plain", "--state-dir", state)
    env = {"AMT_TEST_PASSWORD": PASSWORD, "OPS": webhook.apprise_url("ops")}
    runner = subprocess.Popen(
        [sys.executable, "-m", "amtflow", *map(str, command)],
        cwd=tmp_path,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_id = wait_for_batch_request_id(state, "LONG")
    fill(small_disk)
    clock.end_long_jobs()
    out, err = runner.communicate(timeout=120)
    assert runner.returncode == 75, out + err
    (line,) = err.strip().splitlines()
    assert line.startswith("amtflow: error: ") and "disk is full" in line, line
    assert f"run {run_id} is left as it stands" in line and f"amtflow resume {run_id}" in line
    assert "Traceback" not in err and "internal error" not in err
    (stopped,) = webhook.posts
    assert stopped.type == "failure" and "Stopped before the run ended" in stopped.message
    assert f"amtflow resume {run_id}" in stopped.message, stopped.message

    (small_disk / "filler").unlink()
    again = amtflow(*command, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"resuming run {run_id}" in again.stdout
    assert live.simulator.record.starts_by_job() == {"LONG": 1, "AFTER": 1}
    logs = sorted((tmp_path / ".amtflow" / "logs").rglob("*.log"))
    assert [log.name.split(".")[0] for log in logs] == ["AFTER", "LONG"]
    assert all("Completion Code : DONE (4)" in log.read_text() for log in logs)
    assert [post.title.split(": ")[1].split()[0] for post in webhook.posts[1:]] == [
        "Resumed",
        "OK",
    ], webhook.posts


def test_a_log_disk_that_fills_up_mid_run_is_carried_on_by_mark_ok_once_there_is_room(
    tmp_path: Path, small_disk: Path, start_simulator: Callable[..., LiveSimulator]
) -> None:
    """What the README tells an operator: LONG ended DONE (4) on the server but its log could
    not be finished, so it failed and AFTER was not run (exit 1); once there is room,
    ``mark-ok RUN LONG`` carries the run on without starting LONG again."""
    clock = MovableClock()
    live = start_simulator({"jobs": {"LONG": {"duration": UNTIL_TOLD_S}}}, clock=clock)
    jobs = [
        {"name": "LONG", "task": "batch_job", "job_name": "LONG"},
        {"name": "AFTER", "task": "batch_job", "job_name": "AFTER", "depends_on": ["LONG"]},
    ]
    definitions = write_definitions(tmp_path, live.url, jobs)
    state = tmp_path / "state"
    command = ("run", definitions, "--date", DATE, "--plain", "--state-dir", state)
    runner = subprocess.Popen(
        [sys.executable, "-m", "amtflow", *map(str, command), "--log-dir", str(small_disk)],
        cwd=tmp_path,
        env={**os.environ, "AMT_TEST_PASSWORD": PASSWORD},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_id = wait_for_batch_request_id(state, "LONG")
    fill(small_disk)
    clock.end_long_jobs()
    out, err = runner.communicate(timeout=120)
    assert runner.returncode == 1, out + err
    assert "LONG failed R:4280 DONE (4) - its job log could not be written" in out, out
    assert "AFTER not run" in out and "Traceback" not in err

    (small_disk / "filler").unlink()
    carried = amtflow("mark-ok", run_id, "LONG", "--state-dir", state, cwd=tmp_path)
    assert carried.returncode == 0, carried.stdout + carried.stderr
    assert live.simulator.record.starts_by_job() == {"LONG": 1, "AFTER": 1}
    assert "DONE (4)" in (next(small_disk.rglob("AFTER.*.log"))).read_text()


@pytest.mark.parametrize("how", ["full", "read-only"])
def test_a_log_dir_that_cannot_take_a_file_is_refused_before_any_job_starts(
    tmp_path: Path, small_disk: Path, start_simulator: Callable[..., LiveSimulator], how: str
) -> None:
    """A log dir on a full or read-only file system is known before the first Start: without
    this check the run started the AMT jobs, then failed each one that ran OK on its server
    because its log could not be written, and left the rest not run (exit 1)."""
    live = start_simulator({"default": {"duration": 0.1}})
    definitions = write_definitions(tmp_path, live.url, JOBS[:2])
    logs = small_disk / "logs"
    logs.mkdir(mode=0o700)
    if how == "full":
        fill(small_disk)
    else:
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    state = tmp_path / "state"
    result = amtflow(
        "run", definitions, "--date", DATE, "--plain", "--log-dir", logs, "--state-dir", state,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    reason = "no space left" if how == "full" else "is on a read-only file system"
    assert line.startswith(f"amtflow: error: log dir {logs}") and reason in line, line
    assert "no job was started" in line
    assert live.simulator.record.starts() == []
    runs = amtflow("status", "--state-dir", state, "--format", "json", cwd=tmp_path)
    assert '"runs": []' in runs.stdout, runs.stdout  # nothing recorded: the next try is a new run
