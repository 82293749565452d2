"""Benchmark: how soon a running run follows an operator's ``amtflow release``.

Each round runs ``amtflow run`` as a child against the simulator (its own process) with two jobs,
GATE (6 s) and HELD (depends on GATE). As soon as the run is recorded, ``amtflow hold RUN HELD``;
once GATE ended and one more second passed, ``amtflow release RUN HELD``. The figure is, from the
journal itself, the release's recorded time to HELD's first attempt being recorded (the taskId,
committed just before the Start is sent): the runner's reaction time, which its scheduling tick
(``RunContext.operator_tick``, 0.5 s) bounds. Both times come from the same clock.

    python bench/operator_actions.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import start_simulator

PASSWORD_ENV = "BENCH_AMT_PASSWORD"
SCENARIO = "default: {duration: 0.1, queued: 0}\njobs: {GATE: {duration: 6.0}}\n"


def definitions_yaml(url: str) -> str:
    return "\n".join(
        [
            "version: 1",
            "batch_users:",
            f"  - {{name: api, identifier: OPCONAPI, password: {{env: {PASSWORD_ENV}}}}}",
            "agents:",
            f'  - {{name: sim, batch_server_url: "{url}", batch_user: api}}',
            "schedules:",
            "  - name: BENCH",
            "    defaults: {agent: sim, application: DEMO2}",
            "    jobs:",
            "      - {name: GATE, task: batch_job, job_name: GATE}",
            "      - {name: HELD, task: batch_job, job_name: HELD, depends_on: [GATE]}",
            "",
        ]
    )


def amtflow(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "amtflow", *args, "--state-dir", str(folder / "state")]
    return subprocess.run(argv, capture_output=True, text=True, check=False, env=env())


def env() -> dict[str, str]:
    return {**os.environ, PASSWORD_ENV: "bench-secret"}


def status(folder: Path, run_id: str = "") -> dict[str, Any]:
    shown = amtflow(folder, "status", *([run_id] if run_id else []), "--format", "json")
    return dict(json.loads(shown.stdout)) if shown.returncode == 0 else {}


def wait(check: Any, what: str) -> Any:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def one_round() -> float:
    """Seconds from the recorded release to HELD's recorded first attempt."""
    with tempfile.TemporaryDirectory(prefix="amtflow-bench-") as tmp:
        folder = Path(tmp)
        with start_simulator(SCENARIO, folder) as simulator:
            schedule = folder / "bench.yaml"
            schedule.write_text(definitions_yaml(simulator.url))
            argv = [sys.executable, "-m", "amtflow", "run", str(schedule), "--plain"]
            argv += ["--date", "2026-11-24", "--log-dir", str(folder / "logs")]
            argv += ["--state-dir", str(folder / "state")]
            runner = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env())
            runs = wait(lambda: status(folder).get("runs"), "the run to be recorded")
            run_id = runs[0]["run_id"]
            held = amtflow(folder, "hold", run_id, "HELD")
            if held.returncode != 0:
                raise RuntimeError(held.stderr)
            jobs = lambda: {j["job"]: j for j in status(folder, run_id).get("jobs", [])}  # noqa: E731
            wait(lambda: jobs().get("GATE", {}).get("state") == "ok", "GATE to end")
            time.sleep(1.0)
            amtflow(folder, "release", run_id, "HELD")
            if runner.wait(timeout=60) != 0:
                raise RuntimeError("the run did not end OK")
            detail = status(folder, run_id)
    released = detail["operator_actions"][-1]["at"]
    started = next(j for j in detail["jobs"] if j["job"] == "HELD")["started_at"]
    return (
        dt.datetime.fromisoformat(started) - dt.datetime.fromisoformat(released)
    ).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    figures = []
    for number in range(1, args.rounds + 1):
        seconds = one_round()
        figures.append(seconds)
        print(f"round {number}: release recorded -> HELD's attempt recorded {seconds:.3f} s")
    print(
        f"{args.rounds} rounds: min {min(figures):.3f} s, median {statistics.median(figures):.3f}"
        f" s, max {max(figures):.3f} s (scheduling tick 0.5 s)"
    )


if __name__ == "__main__":
    main()
