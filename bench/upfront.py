"""Benchmark: what ``amtflow run`` does before its first Start, on its own (issue 16).

End to end (``bench/run.py``) the up-front work is a few percent of a run, under what a shared
machine's noise moves; this measures it alone. Each round runs a child per contender that does
what ``amtflow run FILE --plain`` does before the engine starts, in its order, and reports the CPU
of each step: the imports of the run (the CLI, ``orchestration.drive`` and ``schedule_date``:
aiohttp, the engine, the journal), loading the definitions (YAML, schema, cross-checks, model),
planning the date, and the recorded plan packed as the journal stores it. The schedule is
``bench/run.py``'s: N independent batch jobs on one agent.

Rounds are interleaved; each figure is the median over rounds, and the child's peak RSS the
highest. ``--compare PATH`` (repeatable) adds the amtflow package found in PATH (a scratch copy
of another version, with its ``schemas/``) as another contender.

    python bench/upfront.py [--jobs 2000 10000] [--rounds 5] [--compare PATH]...
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from run import child_env, child_limits, compiled, definitions_yaml

STEPS = ("imports", "load", "plan", "record", "total")

CHILD = """
import datetime as dt, json, os, resource, sys, time

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

marks = [cpu()]  # the interpreter's own start is not amtflow's
import amtflow.cli
from amtflow import definitions as defs
from amtflow.orchestration import drive, schedule_date
from amtflow.orchestration.record import RecordedPlan, RunSpec
from amtflow.packing import pack
from amtflow.plan import plan_for
marks.append(cpu())
path = sys.argv[1]
definitions = defs.load([path])
marks.append(cpu())
plan = plan_for(definitions, dt.date(2026, 11, 24), environ=os.environ)
marks.append(cpu())
spec = RunSpec(path, plan.schedule.name, plan.date, "/tmp/logs")
packed = pack(RecordedPlan.of(spec, plan, definitions).json_chunks())
marks.append(cpu())
steps = [b - a for a, b in zip(marks, marks[1:])]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"steps": steps + [marks[-1] - marks[0]], "rss": rss, "jobs": len(plan.jobs)}))
"""


def measure(schedule: Path, jobs: int, amtflow_path: str | None) -> dict[str, object]:
    env = {**child_env(amtflow_path), **child_limits(jobs)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(schedule)],
        cwd=schedule.parent,  # not the checkout: its amtflow would come first on the path
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"child failed ({done.returncode}): {done.stderr[-2000:]}")
    figures: dict[str, object] = json.loads(done.stdout)
    if figures["jobs"] != jobs:
        sys.exit(f"the child planned {figures['jobs']} jobs, not {jobs}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare", action="append", default=[], metavar="PATH")
    args = parser.parse_args()
    contenders: list[tuple[str, str | None]] = [("amtflow", None)]
    contenders += [(f"amtflow {path}", path) for path in args.compare]
    for _, path in contenders:
        compiled(path)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="amtflow-upfront-") as tmp:
        for jobs in args.jobs:
            schedule = Path(tmp) / f"bench{jobs}.yaml"
            schedule.write_text(definitions_yaml("http://127.0.0.1:9", jobs, 200))
            rounds: dict[str, list[dict[str, object]]] = {name: [] for name, _ in contenders}
            for _ in range(args.rounds):
                for name, path in contenders:
                    rounds[name].append(measure(schedule, jobs, path))
            show(jobs, args.rounds, rounds)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def show(jobs: int, count: int, rounds: dict[str, list[dict[str, object]]]) -> None:
    print(
        f"\n{jobs} jobs, CPU seconds before the first Start, median of {count} interleaved rounds"
    )
    print(f"  {'':40s}" + "".join(f"{step:>9s}" for step in STEPS) + "  peak MB  ms/job")
    totals = {}
    for name, figures in rounds.items():
        medians = [
            statistics.median(float(f["steps"][index]) for f in figures)  # type: ignore[index]
            for index in range(len(STEPS))
        ]
        rss = max(float(f["rss"]) for f in figures)  # type: ignore[arg-type]
        totals[name] = medians[-1]
        cells = "".join(f"{value:9.3f}" for value in medians)
        print(f"  {name:40s}{cells}  {rss:7.1f}  {medians[-1] / jobs * 1000:6.3f}")
    first = next(iter(totals.values()))
    for name, total in list(totals.items())[1:]:
        print(f"  amtflow / {name}: {first / total:.2f}")


if __name__ == "__main__":
    main()
