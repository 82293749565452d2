"""Faults under load: 500 jobs in waves against the simulator while it misbehaves.

The figures (requests per job with and without faults, the bound, faults survived) are printed;
``python -m pytest -q -s tests/reliability/test_faults.py`` shows them.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

from amtflow.batch import UNDEFINED, WEB_SERVER_ERROR
from amtflow.client import RetryPolicy
from amtflow.client.wire import LOGON_PATH
from amtflow.runs import JobState, RunState
from amtflow.simulator import Simulator
from tests.reliability.rig import MESSAGES, LoadRig, RigResult
from tests.run.conftest import amtflow, write_definitions
from tests.waits import PATIENCE_S

# No retry storm: under the faults below a job may cost at most this many times the requests
# it costs on a healthy server (measured in the same test; 4-6 requests: Start, MonitorJob
# polls, GetMessages), and never more than MAX_PER_JOB. Measured: about 9 per job.
STORM_RATIO = 3.0
MAX_PER_JOB = 15
# Tokens die after this, though expiresIn says 3600: or after a quarter of the healthy run, if
# longer. On a loaded machine (load 16, CI's two workers) the rig's one event loop, shared by the
# engine and the simulator, lagged seconds: a call's relogon and its next attempt took over 3 s,
# four times running, and the job failed "token refused 4 times" (24). Scaled, a run still sees
# several expiries, on an idle machine as on a busy one.
TOKEN_LIFETIME = 3.0
OUTAGE = 2.0


def expected_states(rig: LoadRig) -> dict[str, tuple[str, int | None]]:
    """How every job ends on a healthy server."""
    blocked = rig.not_run_without_faults()
    return {
        name: ("not_run", None)
        if name in blocked
        else ("failed", 11)
        if name in rig.failing
        else ("ok", 4)
        for name in (f"J{i:04d}" for i in range(rig.count))
    }


def states(result: RigResult) -> dict[str, tuple[str, int | None]]:
    return {n: (o.state.value, o.completion_code) for n, o in result.outcomes.items()}


def assert_logs_complete(result: RigResult, started: set[str]) -> None:
    logs = result.logs()
    assert set(logs) == started
    for name, text in logs.items():
        for n in range(1, MESSAGES + 1):
            assert text.count(f'"step {n} of {MESSAGES}"') == 1, (name, text)
        code = "ERROR (11)" if name in result.expected_failures else "DONE (4)"
        assert f"Completion Code : {code}\n" in text, (name, text)


def per_job(result: RigResult, started: int) -> float:
    return len(result.simulator.record) / started


async def restart_midway(simulator: Simulator) -> None:
    """Once 200 jobs have been created, the server is down for OUTAGE seconds (state kept)."""
    while len(simulator.jobs) < 200:
        await asyncio.sleep(0.05)
    simulator.restart(down_for=OUTAGE)


def faulty_simulator(rig: LoadRig, token_lifetime: float) -> Simulator:
    simulator = Simulator(rig.scenario(), seed=11)
    faults = simulator.faults
    faults.error_rate, faults.error_statuses = 0.20, (500, 502, 503)
    faults.throttle_rate = 0.10  # 429
    faults.retry_after = 1.0
    faults.drop_rate = 0.05  # connection closed mid-request
    faults.drop_after_start_rate = 0.05  # Start accepted, its answer lost
    faults.token_lifetime = token_lifetime  # though expiresIn says 3600
    return simulator


async def test_500_jobs_end_as_without_faults_each_started_once(tmp_path: Path) -> None:
    rig = LoadRig(jobs=500, waves=5, max_parallel=100)
    healthy = await rig.run(tmp_path / "healthy")
    assert states(healthy) == expected_states(rig)

    lifetime = max(TOKEN_LIFETIME, healthy.elapsed / 4)
    faulty = await rig.run(
        tmp_path / "faulty", simulator=faulty_simulator(rig, lifetime), during=restart_midway
    )

    bad = {
        n: (o.state.value, o.completion_code, o.reason)
        for n, o in faulty.outcomes.items()
        if (o.state.value, o.completion_code) != expected_states(rig)[n]
    }
    print("\nMISMATCH", bad, "elapsed", faulty.elapsed)
    assert states(faulty) == expected_states(rig)
    assert faulty.run_state is RunState.FAILED and faulty.exit_status == 1
    starts = faulty.simulator.record.starts_by_job()
    started = {n for n, (state, _) in expected_states(rig).items() if state != "not_run"}
    assert set(starts) == started and set(starts.values()) == {1}
    assert_logs_complete(faulty, started)

    injected = faulty.simulator.record.faults()
    for fault in ("http500", "http502", "http503", "http429", "drop", "drop_after_start", "down"):
        assert injected[fault] > 0, injected
    unauthorised = sum(1 for r in faulty.simulator.record.requests if r.answer == 401)
    assert unauthorised > 0
    # single flight: one logon per token that died, however many jobs found it refused at once
    # (not bounded by the run's wall time: on a loaded machine that says nothing about logons)
    logons = faulty.simulator.record.count(LOGON_PATH, "POST")
    granted = [
        r for r in faulty.simulator.record.requests if r.path == LOGON_PATH and r.answer == 200
    ]
    refused_tokens = {r.token for r in faulty.simulator.record.requests if r.answer == 401}
    assert 1 < len(granted) <= len(refused_tokens) + 1, (len(granted), len(refused_tokens))

    healthy_rate, faulty_rate = per_job(healthy, len(started)), per_job(faulty, len(started))
    print(
        f"\n{len(started)} jobs started of {rig.count}; requests per started job: healthy "
        f"{healthy_rate:.2f}, under faults {faulty_rate:.2f} (ratio "
        f"{faulty_rate / healthy_rate:.2f}; bound {STORM_RATIO} and {MAX_PER_JOB}); "
        f"faults injected {dict(injected)}; 401s {unauthorised}; logons "
        f"{len(granted)} granted of {logons} (tokens lived {lifetime:.1f}s); run took {healthy.elapsed:.1f}s healthy, "
        f"{faulty.elapsed:.1f}s under faults"
    )
    assert faulty_rate <= min(STORM_RATIO * healthy_rate, MAX_PER_JOB)


async def forget_once_running(simulator: Simulator, count: int) -> None:
    while len(simulator.jobs) < count:
        await asyncio.sleep(0.02)
    simulator.restart(down_for=0.3, forget_jobs=True, forget_tokens=True)


async def test_jobs_lost_in_a_restart_end_undefined_and_are_not_restarted(
    tmp_path: Path,
) -> None:
    rig = LoadRig(jobs=60, waves=2, duration=3.0, max_parallel=100, failing_every=0)
    result = await rig.run(tmp_path, during=lambda sim: forget_once_running(sim, 30))

    first, second = [f"J{i:04d}" for i in range(30)], [f"J{i:04d}" for i in range(30, 60)]
    assert {states(result)[n] for n in first} == {("failed", UNDEFINED)}
    assert {result.outcomes[n].state for n in second} == {JobState.NOT_RUN}
    assert result.exit_status == 1
    assert result.simulator.record.starts_by_job() == Counter({n: 1 for n in first})
    logs = result.logs()
    assert set(logs) == set(first)
    for text in logs.values():
        assert "Completion Code : UNDEFINED (19)" in text
        assert "amtflow: the server no longer knows this job (404)" in text
        assert "does not start it again by itself" in text


async def go_down_for_good(simulator: Simulator, count: int) -> None:
    while len(simulator.jobs) < count:
        await asyncio.sleep(0.02)
    simulator.restart(down_for=3600)


async def test_server_down_after_start_fails_every_job_23_in_bounded_time(
    tmp_path: Path,
) -> None:
    policy = RetryPolicy(
        max_attempts=4,
        budget=2.0,
        base_delay=0.1,
        max_delay=0.4,
        retry_after_cap=1.0,
        request_timeout=1.0,
        connect_timeout=0.5,
    )
    rig = LoadRig(jobs=30, waves=1, duration=5.0, max_parallel=10, failing_every=0)
    # 3 rounds of 10 jobs, each round given up within the budget of a call or two: it ends
    # (a run retrying for ever fails at the deadline), without a retry storm (below). The budget
    # is charged the server's time, not this process's (policy.Spent): no bound on wall time.
    result = await rig.run(
        tmp_path,
        policy=policy,
        during=lambda sim: go_down_for_good(sim, 10),
        deadline=PATIENCE_S,
    )

    assert {(o.state, o.completion_code) for o in result.outcomes.values()} == {
        (JobState.FAILED, WEB_SERVER_ERROR)
    }
    # At most max_attempts (4) counted attempts; a timeout while this process was starved of CPU
    # is retried uncounted, up to max_attempts times (policy.Spent): the message counts attempts
    # as max_attempts does, and names such tries apart (it said "after 5 attempt(s)").
    attempts = re.compile(r"unavailable after (1 attempt|[2-4] attempts)\b")
    for outcome in result.outcomes.values():
        assert "\n" not in outcome.reason and "Traceback" not in outcome.reason
        assert attempts.search(outcome.reason), outcome.reason
    reasons = Counter(o.reason.split(":")[0] for o in result.outcomes.values())
    assert reasons == {"lost contact": 10, "start failed": 20}
    requests = len(result.simulator.record)
    assert requests <= 30 * 2 * policy.max_attempts + 60  # no retry storm while it is down


def test_server_down_from_the_start_fails_the_preflight_in_one_line(
    tmp_path: Path,
    start_simulator,  # type: ignore[no-untyped-def]
) -> None:
    live = start_simulator({"users": {"OPCONAPI": "s3cr3t-Pa55word-for-tests"}})
    live.simulator.restart(down_for=3600)
    jobs = [{"name": f"J{i}", "task": "batch_job", "job_name": f"J{i}"} for i in range(5)]
    schedule = write_definitions(tmp_path, live.url, jobs)
    result = amtflow(
        "run",
        schedule,
        "--date",
        "2026-11-24",
        "--log-dir",
        tmp_path / "logs",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("amtflow: error: preflight failed, no job was started")
    assert "not reachable" in lines[0] and live.url in lines[0]
    assert live.simulator.record.starts() == []
    assert not (tmp_path / "logs").exists() or not list((tmp_path / "logs").rglob("*.log"))
