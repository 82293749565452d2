"""A job that missed its latest start can be rerun late, on an operator's explicit decision."""

from __future__ import annotations

import json
from pathlib import Path

from tests.run.conftest import amtflow, write_definitions
from tests.timing.conftest import PastLatestStart


def test_a_job_that_missed_its_latest_start_is_rerun_when_named_and_says_it_is_late(
    tmp_path: Path, start_simulator
) -> None:  # type: ignore[no-untyped-def]
    live = start_simulator({"default": {"duration": 0.05}})
    past = PastLatestStart.now()
    state = ("--state-dir", tmp_path / "state")
    path = write_definitions(tmp_path, live.url, past.jobs)
    first = amtflow(
        "run", path, "--date", past.date.isoformat(), "--log-dir", tmp_path / "logs", "--plain", *state,
        cwd=tmp_path,
    )  # fmt: skip
    assert first.returncode == 1, first.stdout + first.stderr
    run_id = json.loads(amtflow("status", *state, "--format", "json", cwd=tmp_path).stdout)["runs"][
        0
    ]["run_id"]

    # Not named: a rerun of "the failed jobs" does not start it, and says how to.
    unnamed = amtflow("rerun", run_id, "--plain", *state, cwd=tmp_path)
    assert unnamed.returncode == 2, unnamed.stdout + unnamed.stderr
    assert f"amtflow rerun {run_id} LATESTART" in unnamed.stderr
    assert len(unnamed.stderr.strip().splitlines()) == 1
    assert live.simulator.record.starts_by_job() == {"OTHER": 1}

    rerun = amtflow("rerun", run_id, "LATESTART", "--plain", "--json", "rerun.json", *state,
                    cwd=tmp_path)  # fmt: skip
    shown = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, shown
    assert f"LATESTART: its latest start {past.shown} is past" in shown
    assert live.simulator.record.starts_by_job() == {"OTHER": 1, "LATESTART": 1, "AFTER": 1}
    jobs_json = {j["name"]: j for j in json.loads((tmp_path / "rerun.json").read_text())["jobs"]}
    assert jobs_json["LATESTART"]["state"] == "ok" and jobs_json["AFTER"]["state"] == "ok"

    # A job that ended OK is still never started again.
    again = amtflow("rerun", run_id, "LATESTART", "--plain", *state, cwd=tmp_path)
    assert again.returncode == 2 and "ended OK" in again.stderr
