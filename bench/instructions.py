"""Benchmark: the instructions ``amtflow run`` and the aiohttp baseline execute (issue 16).

``bench/run.py``'s wall and CPU figures move by 10-30 % with a shared machine's load and its
file system (creating a file swings from 30 µs to 2 ms on this project's virtual machines);
the instructions a process executes in user space, counted by valgrind's callgrind, do not.
Each contender runs ``bench/run.py``'s schedule of zero-duration jobs once at ``--small`` and
once at ``--jobs`` jobs against a fresh simulator; what a job adds is the difference over the
difference in jobs (imports and the up-front work cancel out), the up-front part what is left of
the small run. The kernel's share (sockets, files, fsyncs) is not counted: it is the same for
both contenders and is what the wall ratio adds. Needs ``valgrind``; some 40 s per 200 jobs.

    python bench/instructions.py [--small 200] [--jobs 1000] [--compare PATH]...
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _common import ZERO_DURATION, start_simulator
from run import amtflow_bench, child_env, child_limits, compiled

CONCURRENCY = 200
Measure = Callable[[int], int]


def callgrind(argv: list[str], folder: Path, env: dict[str, str]) -> int:
    """The instructions the child ``argv`` executed (its user space), by callgrind."""
    out = folder / "callgrind.out"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"{argv[:4]}... under callgrind: exit {done.returncode}: {done.stderr[-1500:]}")
    return int(found.group(1))


def amtflow(path: str | None) -> Measure:
    def measure(jobs: int) -> int:
        with amtflow_bench(jobs, CONCURRENCY) as (folder, argv, simulator):
            count = callgrind(argv, folder, {**child_env(path), **child_limits(jobs)})
            simulator.stop()
        return count

    return measure


def baseline(jobs: int) -> int:
    from amtflow.engine.polling import PollPolicy

    with tempfile.TemporaryDirectory(prefix="amtflow-bench-") as tmp:
        folder = Path(tmp)
        with start_simulator(ZERO_DURATION, folder) as simulator:
            script = str(Path(__file__).resolve().with_name("run.py"))
            argv = [sys.executable, script, "--as-baseline", simulator.url]
            argv += ["--jobs", str(jobs), "--concurrency", str(CONCURRENCY)]
            argv += ["--first-wait", str(PollPolicy().first), "--out", str(folder / "logs")]
            count = callgrind(argv, folder, child_env())
            simulator.stop()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--compare", metavar="PATH", action="append", default=[])
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    if args.jobs <= args.small:
        sys.exit("--jobs must be more than --small")
    contenders: dict[str, Measure] = {"aiohttp baseline": baseline, "amtflow run": amtflow(None)}
    compiled()
    for path in args.compare:
        contenders[f"amtflow {path}"] = amtflow(path)
        compiled(path)
    print(f"instructions (user space, callgrind) at {args.small} and {args.jobs} jobs")
    print(f"  {'':28s} {'per job':>12s} {'up front':>12s} {'at ' + str(args.jobs):>14s}")
    per_job: dict[str, float] = {}
    for name, measure in contenders.items():
        small, large = measure(args.small), measure(args.jobs)
        per_job[name] = (large - small) / (args.jobs - args.small)
        up_front = small - per_job[name] * args.small
        print(
            f"  {name[-28:]:28s} {per_job[name] / 1e6:10.2f} M {up_front / 1e9:10.2f} G "
            f"{large / 1e9:12.2f} G",
            flush=True,
        )
    base = per_job["aiohttp baseline"]
    for name, count in per_job.items():
        if name != "aiohttp baseline":
            print(f"  {name}: {count / base:.2f}x the baseline's instructions per job")


if __name__ == "__main__":
    main()
