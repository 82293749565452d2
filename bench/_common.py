"""Helpers shared by the benchmarks: the simulator in its own process, and measured children.

The simulator runs in a separate process so that its CPU never counts against the thing measured.
Run as a script, this module *is* that process: it serves the simulator on a free loopback port,
prints ``listening on <url>`` once, and on SIGTERM prints the requests it received, counted by
endpoint, as one JSON line (so a benchmark can check that two contenders made the same calls).

    python bench/_common.py SCENARIO_FILE
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Self

ZERO_DURATION = "default: {duration: 0, queued: 0}\n"  # every job ends at once, never queued


class SimulatorProcess:
    """The AMT simulator in a child process; ``stop()`` returns the requests it received."""

    def __init__(self, scenario: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(scenario)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=scenario.parent,
        )
        self.url = _listening_url(self.process.stdout)

    def stop(self) -> dict[str, int]:
        """Stop the simulator; the requests it received, by endpoint (``Start``, ``MonitorJob``)."""
        self.process.send_signal(signal.SIGTERM)
        # counting and shutting down after 100,000 jobs (400,000 requests) takes minutes on a
        # loaded machine: the figures of a finished child are not thrown away for that
        out, _ = self.process.communicate(timeout=900)
        lines = out.strip().splitlines()
        return json.loads(lines[-1]) if lines else {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.stop()


def _listening_url(stdout: IO[str] | None) -> str:
    line = stdout.readline() if stdout else ""
    if " on " not in line:
        raise RuntimeError(f"the simulator did not start: {line!r}")
    return line.split(" on ")[1].split()[0]


def start_simulator(scenario_text: str, folder: Path) -> SimulatorProcess:
    """A simulator child playing ``scenario_text`` (YAML), written to a file in ``folder``."""
    scenario = folder / "scenario.yaml"
    scenario.write_text(scenario_text)
    return SimulatorProcess(scenario)


@dataclass(frozen=True)
class ChildUsage:
    """What one child process cost: wall time, CPU (user + system) and peak resident memory."""

    exit_status: int
    wall: float
    cpu: float
    peak_rss_mb: float


def run_measured(
    argv: Sequence[str], *, stdout: IO[Any], cwd: Path, env: dict[str, str] | None = None
) -> ChildUsage:
    """Run ``argv`` in ``cwd`` to its end; its own CPU and peak RSS come from ``wait4`` on its
    pid, so no other child (the simulator) is ever counted in.

    ``cwd`` matters: ``python -m`` puts it first on ``sys.path``, before ``PYTHONPATH``, so a
    child started in a checkout would import that checkout's package whatever else was asked.
    """
    started = time.perf_counter()
    process = subprocess.Popen(list(argv), stdout=stdout, stderr=subprocess.PIPE, env=env, cwd=cwd)
    assert process.stderr is not None
    errors = process.stderr.read()  # drained while it runs, so a chatty child never blocks
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode != 0 and errors:
        sys.stderr.write(errors.decode(errors="replace")[-2000:])
    # ru_maxrss is in KiB on Linux
    return ChildUsage(
        process.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
    )


def _endpoint(path: str, body: Any) -> str:
    if isinstance(body, dict) and body.get("action"):
        return str(body["action"])
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) > 1 else path


async def _serve(scenario_path: Path) -> dict[str, int]:
    from amtflow.simulator import Scenario, Simulator

    simulator = Simulator(scenario=Scenario.load(scenario_path))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with simulator.running() as url:
        print(f"listening on {url}", flush=True)
        await stop.wait()
    return dict(Counter(_endpoint(r.path, r.body) for r in simulator.record.requests))


if __name__ == "__main__":
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one socket per client connection
    print(json.dumps(asyncio.run(_serve(Path(sys.argv[1])))), flush=True)


def start_body(name: str) -> dict[str, Any]:
    """The OpConJobAction Start of a batch job, as docs/amt-api.md spells it."""
    return {
        "action": "Start",
        "taskId": str(uuid.uuid4()),
        "taskType": "BatchJob",
        "applicationName": "DEMO2",
        "amtSubmitUser": "BATCH",
        "amtUser": None,
        "amtStation": "OPCON",
        "amtQueueName": None,
        "jobName": name,
        "taskValues": [],
    }
