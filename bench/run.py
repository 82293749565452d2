"""Benchmark: ``amtflow run`` end to end against a minimal hand-written aiohttp script.

Both run as their own child process against the simulator (a third process, so its CPU does not
count), on a free loopback port, with a scenario where every job has duration 0 and no queued
phase. The schedule has N jobs, all independent (no dependencies: one wave), on one agent with
``max_concurrent_jobs`` = the concurrency; its password comes from an environment variable.

- amtflow: ``python -m amtflow run FILE --plain --max-parallel C --log-dir D --state-dir D
  --date 2026-11-24``: validation, plan, preflight, journal (SQLite, fsync), a log file per job,
  a plain line per job change and the summary table (stdout to a file).
- baseline (this file, ``--as-baseline``): logon once, then per job at concurrency C: Start, wait
  amtflow's first poll wait (``PollPolicy().first``), MonitorJob until terminal (again every
  first-wait: a zero-duration job has ended by the first look, so both make one MonitorJob per
  job), GetMessages once (following ``more``), and the job's messages written to a file.

Each child's wall time, CPU (user + system, from ``wait4`` on its pid) and peak RSS are printed,
with the requests the simulator received. Targets (issue 16): wall ratio amtflow/baseline <= 1.3
at ``--jobs`` and <= 1.2 at ``--big``; amtflow CPU <= 1.2 ms per job; ``--huge`` (100,000 jobs,
amtflow alone) completes with peak RSS <= 400 MB and CPU per job no higher than at ``--jobs``.

Rounds are interleaved; each contender's figures are the median wall and median CPU of its
rounds (the machine may be shared: the baseline measured in the same rounds absorbs the load, so
the ratios are the figures to compare) and its highest peak RSS. The load average is printed
before and after. ``--compare PATH`` (repeatable) adds the amtflow package found in PATH (a
scratch copy with a proposed change, ``git archive REV amtflow schemas | tar -x -C PATH``: the
schemas/ folder belongs beside amtflow/) as another contender, so a change's effect is measured in
the same run. A contender that exits non-zero, or leaves fewer log files or Starts than jobs,
stops the benchmark: a fast run that did not do the work is no figure.

Fsyncs: one more, untimed, run of each amtflow contender under ``strace -f -c`` counts its
``fsync``/``fdatasync`` calls (the journal's durable commits and checkpoints), per job
(``--no-fsyncs`` skips it; skipped too when strace is missing).

    python bench/run.py [--jobs 2000] [--big 10000] [--big-rounds 1] [--huge] [--concurrency 200] [--rounds 3]
                        [--compare PATH]... [--no-fsyncs]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from _common import (
    ZERO_DURATION,
    ChildUsage,
    SimulatorProcess,
    run_measured,
    start_body,
    start_simulator,
)

DATE = "2026-11-24"
PASSWORD_ENV = "BENCH_AMT_PASSWORD"
WALL_TARGET = 1.3  # at --jobs
BIG_WALL_TARGET = 1.2  # at --big
CPU_PER_JOB_TARGET_MS = 1.2
MEMORY_TARGET_MB = 300.0  # at --big
HUGE_JOBS = 100_000
HUGE_MEMORY_TARGET_MB = 400.0
TERMINAL = {3, 4, 6, 10, 11, 12, 19, 22, 23, 24, 99}


@dataclass(frozen=True)
class Figures:
    """One measured child: its cost, the server's view of it, and what it wrote."""

    usage: ChildUsage
    requests: dict[str, int]
    logs: int
    in_run: float | None  # seconds the child itself reports for its run (None: not reported)
    create_us: float | None = None  # the probe just before the child: µs to create a file here


def create_cost(files: int = 200) -> float:
    """Microseconds to create, write and close a small file in a fresh temporary folder, now.

    Creating a file is a large share of a zero-duration job's cost, and on a shared virtual
    machine it swings from tens of µs to a millisecond within minutes (seen here): this probe
    before each child says what the filesystem gave it (both contenders create one per job)."""
    with tempfile.TemporaryDirectory(prefix="amtflow-probe-") as tmp:
        began = time.perf_counter()
        for number in range(files):
            fd = os.open(f"{tmp}/J{number:05d}.log", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.write(fd, b"x" * 1800)
            os.close(fd)
        return (time.perf_counter() - began) / files * 1e6


# ---- the baseline child: honestly minimal, imports nothing of amtflow -----------------------


class RawServer:
    """One aiohttp session, one logon token: the least a client of the AMT API can be."""

    def __init__(self, session: Any, url: str) -> None:
        self.session, self.url = session, url
        self.headers: dict[str, str] = {}

    async def logon(self) -> None:
        body = {"apiUser": "OPCONAPI", "apiUserPassword": os.environ[PASSWORD_ENV]}
        answer = await self.call("POST", "/api/logon", json=body)
        self.headers = {"X-AMT-LogonToken": answer["amtLogonToken"]}

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self.session.request(
            method, self.url + path, headers=self.headers, **kwargs
        ) as answer:
            answer.raise_for_status()
            return await answer.json()

    async def messages(self, rid: int) -> list[str]:
        texts, after, more = [], 0, True
        while more:
            page = await self.call("GET", f"/api/GetMessages/{rid}?after={after}")
            texts += [f'"{m["text"]}"\n' for m in page["messages"]]
            after = page["messages"][-1]["seq"] if page["messages"] else after
            more = page["more"] and bool(page["messages"])
        return texts


async def lifecycle(server: RawServer, name: str, first_wait: float, out: Path) -> None:
    """Start, MonitorJob every ``first_wait`` until terminal, GetMessages, write the log."""
    answer = await server.call("POST", "/api/OpConJobAction", json=start_body(name))
    rid, code = answer["batchRequestId"], None
    while code not in TERMINAL:
        await asyncio.sleep(first_wait)
        code = (await server.call("GET", f"/api/MonitorJob/{rid}"))["completionCode"]
    texts = await server.messages(rid)
    (out / f"{name}.{rid}.log").write_text(f"{name} {rid} code {code}\n" + "".join(texts))


async def baseline(url: str, jobs: int, concurrency: int, first_wait: float, out: Path) -> None:
    """Every job through its lifecycle, ``concurrency`` at a time, one session and token."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        server = RawServer(session, url)
        await server.logon()
        gate = asyncio.Semaphore(concurrency)

        async def one(name: str) -> None:
            async with gate:
                await lifecycle(server, name, first_wait, out)

        await asyncio.gather(*(one(f"J{i:05d}") for i in range(jobs)))


def baseline_main(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    asyncio.run(baseline(args.as_baseline, args.jobs, args.concurrency, args.first_wait, out))
    print(json.dumps({"in_run": time.perf_counter() - started}))


# ---- the parent: definitions, children, figures ---------------------------------------------


def definitions_yaml(url: str, jobs: int, concurrency: int) -> str:
    """A schedule of ``jobs`` independent batch jobs on one agent pointed at ``url``."""
    lines = [
        "version: 1",
        "batch_users:",
        f"  - {{name: api, identifier: OPCONAPI, password: {{env: {PASSWORD_ENV}}}}}",
        "agents:",
        (
            f'  - {{name: sim, batch_server_url: "{url}", batch_user: api, '
            f"max_concurrent_jobs: {concurrency}}}"
        ),
        "schedules:",
        "  - name: BENCH",
        "    defaults: {agent: sim, application: DEMO2}",
        "    jobs:",
    ]
    lines += [
        f"      - {{name: J{i:05d}, task: batch_job, job_name: J{i:05d}}}" for i in range(jobs)
    ]
    return "\n".join(lines) + "\n"


def compiled(amtflow_path: str | None = None) -> None:
    """Byte-compile the package a contender imports, as ``pip install`` does: the children
    write no bytecode (a scratch copy stays clean), so without this every round would compile
    amtflow's modules from source, a cost no installed amtflow pays (about 0.3 s CPU here)."""
    import compileall

    package = Path(amtflow_path) / "amtflow" if amtflow_path else Path(_amtflow_file()).parent
    compileall.compile_dir(package, quiet=1)


def _amtflow_file() -> str:
    import amtflow

    return str(amtflow.__file__)


def child_env(amtflow_path: str | None = None) -> dict[str, str]:
    env = {**os.environ, PASSWORD_ENV: "bench-secret", "PYTHONDONTWRITEBYTECODE": "1"}
    if amtflow_path:  # another copy of the package (a proposed change) comes first on the path
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [amtflow_path, env.get("PYTHONPATH")]))
    return env


# The loader's limits against hostile files (4 MB and 250,000 YAML nodes per file, about 18,000
# jobs: issue 11) refuse one schedule of 100,000 jobs; a trusted file that large is let in by
# raising the node limit in the environment (issue 16), as an operator would.
NODES_PER_JOB = 4  # a job's mapping and its three values, in definitions_yaml's form


def child_limits(jobs: int) -> dict[str, str]:
    """The environment that lets a schedule of ``jobs`` past the default node limit."""
    return {"AMTFLOW_MAX_YAML_NODES": str(jobs * NODES_PER_JOB + 1000)}


def amtflow_argv(folder: Path, schedule: Path, concurrency: int) -> list[str]:
    """The ``amtflow run`` command line of one measured child."""
    return [
        sys.executable,
        "-m",
        "amtflow",
        "--traceback",
        "run",
        str(schedule),
        "--plain",
        "--max-parallel",
        str(concurrency),
        "--log-dir",
        str(folder / "logs"),
        "--state-dir",
        str(folder / "state"),
        "--date",
        DATE,
    ]


@contextlib.contextmanager
def amtflow_bench(
    jobs: int, concurrency: int
) -> Iterator[tuple[Path, list[str], SimulatorProcess]]:
    """A temp folder, a fresh simulator and the ``amtflow run`` argv of a schedule of ``jobs``
    jobs written there for it: (folder, argv, simulator). The folder outlives the simulator."""
    with tempfile.TemporaryDirectory(prefix="amtflow-bench-") as tmp:
        folder = Path(tmp)
        with start_simulator(ZERO_DURATION, folder) as simulator:
            schedule = folder / "bench.yaml"
            schedule.write_text(definitions_yaml(simulator.url, jobs, concurrency))
            yield folder, amtflow_argv(folder, schedule, concurrency), simulator


def measure_amtflow(jobs: int, concurrency: int, amtflow_path: str | None = None) -> Figures:
    """``amtflow run`` as a child against a fresh simulator (``amtflow_path``: another copy)."""
    with amtflow_bench(jobs, concurrency) as (folder, argv, simulator):
        env = {**child_env(amtflow_path), **child_limits(jobs)}
        with open(folder / "stdout.txt", "w+") as stdout:
            usage = run_measured(argv, stdout=stdout, cwd=folder, env=env)
            stdout.seek(0)
            in_run = _summary_seconds(stdout.read())
        requests = simulator.stop()
        logs = sum(1 for _ in (folder / "logs").rglob("*.log"))
    return Figures(usage, requests, logs, in_run)


def count_fsyncs(jobs: int, concurrency: int, amtflow_path: str | None = None) -> int:
    """The fsync + fdatasync calls of one (untimed) ``amtflow run`` child, by ``strace -c``."""
    with amtflow_bench(jobs, concurrency) as (folder, argv, simulator):
        trace = folder / "strace.txt"
        strace = ["strace", "-f", "-c", "-o", str(trace), "-e", "trace=fsync,fdatasync"]
        done = subprocess.run(
            strace + argv, cwd=folder, env=child_env(amtflow_path), stdout=subprocess.DEVNULL
        )
        simulator.stop()
        if done.returncode != 0:
            sys.exit(f"amtflow under strace: exit status {done.returncode}")
        return _fsync_calls(trace.read_text())


def _fsync_calls(summary: str) -> int:
    """The calls column of ``strace -c``'s rows for fsync and fdatasync."""
    calls = 0
    for line in summary.splitlines():
        fields = line.split()
        if fields and fields[-1] in ("fsync", "fdatasync"):
            calls += int(fields[3])  # % time, seconds, usecs/call, calls[, errors]
    return calls


def _summary_seconds(output: str) -> float | None:
    found = re.search(r"^\d+ jobs in ([\d.]+)s:", output, re.MULTILINE)
    return float(found.group(1)) if found else None


def measure_baseline(jobs: int, concurrency: int) -> Figures:
    """The hand-written aiohttp script as a child against a fresh simulator."""
    from amtflow.engine.polling import PollPolicy

    with tempfile.TemporaryDirectory(prefix="amtflow-bench-") as tmp:
        folder = Path(tmp)
        with start_simulator(ZERO_DURATION, folder) as simulator:
            argv = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--as-baseline",
                simulator.url,
                "--jobs",
                str(jobs),
                "--concurrency",
                str(concurrency),
                "--first-wait",
                str(PollPolicy().first),
                "--out",
                str(folder / "logs"),
            ]
            with open(folder / "stdout.txt", "w+") as stdout:
                usage = run_measured(argv, stdout=stdout, cwd=folder, env=child_env())
                stdout.seek(0)
                in_run = json.loads(stdout.read() or "{}").get("in_run")
            requests = simulator.stop()
        logs = sum(1 for _ in (folder / "logs").glob("*.log"))
    return Figures(usage, requests, logs, in_run)


def median_of(
    rounds: int,
    jobs: int,
    contenders: dict[str, Callable[[int], Figures]],
) -> dict[str, Figures]:
    """Interleaved rounds; per contender the median wall and median CPU (the middle of what a
    shared machine gave each) and the highest peak RSS (the cautious one)."""
    measured: dict[str, list[Figures]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, measure in contenders.items():
            probe = create_cost()
            figures = replace(measure(jobs), create_us=probe)
            os.sync()  # the last child's files reach the disk now, not during the next child
            check(name, jobs, figures)
            measured[name].append(figures)
    return {name: _median(figures) for name, figures in measured.items()}


def _median(rounds: list[Figures]) -> Figures:
    by_wall = sorted(rounds, key=lambda f: f.usage.wall)
    middle = by_wall[(len(by_wall) - 1) // 2]
    usage = replace(
        middle.usage,
        wall=statistics.median(f.usage.wall for f in rounds),
        cpu=statistics.median(f.usage.cpu for f in rounds),
        peak_rss_mb=max(f.usage.peak_rss_mb for f in rounds),
    )
    in_runs = [f.in_run for f in rounds if f.in_run is not None]
    in_run = statistics.median(in_runs) if in_runs else None
    probes = [f.create_us for f in rounds if f.create_us is not None]
    create_us = statistics.median(probes) if probes else None
    return replace(middle, usage=usage, in_run=in_run, create_us=create_us)


def check(name: str, jobs: int, figures: Figures) -> None:
    """A fast run that did not do the work is no figure: stop with the reason."""
    if figures.usage.exit_status != 0:
        sys.exit(f"{name}: exit status {figures.usage.exit_status}")
    if figures.logs != jobs or figures.requests.get("Start") != jobs:
        sys.exit(
            f"{name}: {figures.logs} log files and {figures.requests.get('Start')} Starts "
            f"for {jobs} jobs"
        )


# ---- the report -------------------------------------------------------------------------------


def row(label: str, jobs: int, f: Figures) -> str:
    u = f.usage
    in_run = f"{f.in_run:7.2f}" if f.in_run is not None else "      -"
    calls = "/".join(
        str(f.requests.get(k, 0)) for k in ("logon", "Start", "MonitorJob", "GetMessages")
    )
    return (
        f"  {_shortened(label):22s} {jobs:6d} {u.wall:7.2f} {in_run} {u.cpu:7.2f} "
        f"{u.cpu / jobs * 1e3:8.2f} {u.peak_rss_mb:8.1f} {f.logs:6d}  {calls}"
    )


def _shortened(label: str) -> str:
    """A contender's name in the 22 columns of the table: its end, marked as cut."""
    return label if len(label) <= 22 else "..." + label[-19:]


HEADER = (
    f"  {'':22s} {'jobs':>6s} {'wall s':>7s} {'in-run':>7s} {'CPU s':>7s} "
    f"{'CPU ms/job':>8s} {'peak MB':>8s} {'logs':>6s}  logon/Start/MonitorJob/GetMessages"
)


def report(
    args: argparse.Namespace,
    best: dict[str, Figures],
    big: dict[str, Figures],
    huge: dict[str, Figures],
    fsyncs: dict[str, int],
) -> None:
    print(
        f"\n{args.jobs} zero-duration jobs, all independent, concurrency {args.concurrency}, "
        f"{args.rounds} interleaved rounds (median wall, median CPU, highest peak RSS); "
        "simulator in its own process"
    )
    print(HEADER)
    for name, figures in best.items():
        print(row(name, args.jobs, figures))
    for name, figures in big.items():
        print(row(name, args.big, figures))
    for name, figures in huge.items():
        print(row(name, HUGE_JOBS, figures))
    _ratios(args, best, args.jobs, WALL_TARGET)
    if big:
        _ratios(args, big, args.big, BIG_WALL_TARGET)
    cpu_ms = best["amtflow run"].usage.cpu / args.jobs * 1e3
    print(
        f"  amtflow CPU per job at {args.jobs}: {cpu_ms:.2f} ms (target <= {CPU_PER_JOB_TARGET_MS})"
    )
    if "amtflow run" in big:
        peak = big["amtflow run"].usage.peak_rss_mb
        verdict = "ok" if peak <= MEMORY_TARGET_MB else "OVER"
        print(
            f"  peak RSS for {args.big} jobs through amtflow run: {peak:.1f} MB "
            f"(target <= {MEMORY_TARGET_MB:.0f} MB: {verdict})"
        )
    for name, figures in huge.items():
        u = figures.usage
        print(
            f"  {name} at {HUGE_JOBS}: peak RSS {u.peak_rss_mb:.1f} MB (target <= "
            f"{HUGE_MEMORY_TARGET_MB:.0f}), CPU {u.cpu / HUGE_JOBS * 1e3:.2f} ms/job vs "
            f"{best[name].usage.cpu / args.jobs * 1e3:.2f} at {args.jobs} (target: no higher)"
        )
    probes = ", ".join(
        f"{_shortened(name)} {figures.create_us:.0f}"
        for name, figures in best.items()
        if figures.create_us is not None
    )
    print(f"  creating a file just before each child at {args.jobs} jobs (µs, median): {probes}")
    for name, calls in fsyncs.items():
        print(
            f"  {name}: {calls} fsync/fdatasync calls for {args.jobs} jobs, {calls / args.jobs:.3f} per job"
        )
    print(
        "  wall = whole child process (interpreter start, imports, validation ... exit); "
        "in-run = the run as the child reports it\n  (amtflow: its summary line, engine only; "
        "baseline: logon to last job); CPU = user + system of the child alone"
    )


def _ratios(
    args: argparse.Namespace, figures: dict[str, Figures], jobs: int, target: float
) -> None:
    amt, raw = figures["amtflow run"].usage, figures["aiohttp baseline"].usage
    print(
        f"\n  {jobs} jobs, ratio amtflow/baseline: wall {amt.wall / raw.wall:.2f} "
        f"(target <= {target}), CPU {amt.cpu / raw.cpu:.2f}"
    )
    for path in args.compare:
        other = figures[f"amtflow {path}"].usage
        print(
            f"  ratio {path}: /baseline wall {other.wall / raw.wall:.2f} CPU "
            f"{other.cpu / raw.cpu:.2f}; /amtflow run wall {other.wall / amt.wall:.2f} "
            f"CPU {other.cpu / amt.cpu:.2f}"
        )


def load() -> str:
    """The load averages over 1, 5 and 15 minutes (how busy the shared machine was)."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _variant(path: str, concurrency: int) -> Callable[[int], Figures]:
    return lambda jobs: measure_amtflow(jobs, concurrency, path)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--big", type=int, default=10000, help="jobs for the memory run (0: skip)")
    parser.add_argument(
        "--huge",
        action="store_true",
        help=f"also run {HUGE_JOBS:,} jobs once through amtflow (no baseline): completes, "
        "peak RSS, CPU per job",
    )
    parser.add_argument(
        "--no-fsyncs", action="store_true", help="skip the strace run that counts fsyncs"
    )
    parser.add_argument(
        "--big-rounds", type=int, default=1, help="interleaved rounds at --big (default 1)"
    )
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--compare",
        metavar="PATH",
        action="append",
        default=[],
        help="also run the amtflow package found in PATH (a scratch copy with a "
        "proposed change, e.g. `git archive REV amtflow schemas | tar -x -C PATH`: the "
        "schemas/ folder belongs beside amtflow/) as another contender; repeatable",
    )
    parser.add_argument("--as-baseline", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--first-wait", type=float, default=0.1, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse()
    if args.as_baseline:
        baseline_main(args)
        return
    contenders: dict[str, Callable[[int], Figures]] = {
        "aiohttp baseline": lambda jobs: measure_baseline(jobs, args.concurrency),
        "amtflow run": lambda jobs: measure_amtflow(jobs, args.concurrency),
    }
    compiled()
    for path in args.compare:
        contenders[f"amtflow {path}"] = _variant(path, args.concurrency)
        compiled(path)
    print(f"load average before: {load()} ({os.cpu_count()} CPUs)", flush=True)
    best = median_of(args.rounds, args.jobs, contenders)
    big = median_of(args.big_rounds, args.big, contenders) if args.big else {}
    amtflows = {name: c for name, c in contenders.items() if name != "aiohttp baseline"}
    huge = median_of(1, HUGE_JOBS, amtflows) if args.huge else {}
    fsyncs: dict[str, int] = {}
    if not args.no_fsyncs and shutil.which("strace"):
        fsyncs["amtflow run"] = count_fsyncs(args.jobs, args.concurrency)
        for path in args.compare:
            fsyncs[f"amtflow {path}"] = count_fsyncs(args.jobs, args.concurrency, path)
    print(f"load average after: {load()}")
    report(args, best, big, huge, fsyncs)


if __name__ == "__main__":
    main()
