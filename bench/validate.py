"""Benchmark: ``amtflow validate`` against ``check-jsonschema`` on 10,000 master jobs in 100 files,
and on one small file (what pre-commit runs on every commit: start-up time is most of it).

Both run as subprocesses on the same generated files in the same run, interleaved; prints both
times (median of ``--repeat``, the machine may be shared) and the ratio amtflow /
check-jsonschema. Targets: <= 1.0 (aim 0.5) on the big set; <= 0.8 on the small file.
``--compare PATH`` (repeatable) also runs the amtflow package found in PATH (a scratch copy of
another version, with its ``schemas/``) in the same interleaved rounds, with its own ratios.

    python bench/validate.py [--files 100] [--jobs-per-file 100] [--repeat 5] [--compare PATH]...
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMON = """version: 1
batch_users:
  - {name: amt-api, identifier: OPCONAPI, password: {env: AMT_API_PASSWORD}}
agents:
  - {name: amt-demo, batch_server_url: "http://127.0.0.1:42000", batch_user: amt-api, allow_kill_job: true}
calendars:
  - {name: holidays, dates: [2026-12-25, 2027-01-01]}
"""


def job(index: int) -> str:
    """One master job, alternating batch jobs and scripts, each depending on the one before."""
    depends = f"\n        depends_on: [JOB{index - 1:05d}]" if index % 10 else ""
    if index % 2:
        return (
            f"      - name: JOB{index:05d}\n        task: script\n        script_name: 'F:\\Amt\\S{index}.ps1'\n"
            f"        script_parameters: {{INPUT: daily{index}.csv, MODE: full}}\n        queue: LOW"
            f"{depends}\n"
        )
    return (
        f"      - name: JOB{index:05d}\n        task: batch_job\n        job_name: REPORT{index}\n"
        f'        task_values: ["PERIOD=[[$SCHEDULE DATE]]", "APP=[[AMT_APPLICATION]]"]\n'
        f"        max_run_time: 1h30m\n        retry: {{attempts: 2, delay: 30s, on_codes: [11, 23]}}{depends}\n"
    )


def schedule_file(number: int, jobs: int) -> str:
    body = "".join(job(number * jobs + i) for i in range(jobs))
    return (
        f"include: [common.yaml]\nproperties:\n  AMT_APPLICATION: DEMO2\nschedules:\n"
        f"  - name: SCHED{number:03d}\n    frequency: {{days: [mon, tue, wed, thu, fri], exclude_calendar: holidays}}\n"
        f'    defaults: {{agent: amt-demo, application: "[[AMT_APPLICATION]]"}}\n    jobs:\n{body}'
    )


def generate(folder: Path, files: int, jobs: int) -> list[Path]:
    (folder / "common.yaml").write_text(COMMON)
    paths = [folder / "common.yaml"]
    for number in range(files):
        path = folder / f"schedule{number:03d}.yaml"
        path.write_text(schedule_file(number, jobs))
        paths.append(path)
    return paths


Command = tuple[list[str], dict[str, str] | None]  # argv, environment (None: this one's)


def timed(commands: list[Command], repeat: int, cwd: str) -> list[float]:
    """Each command's median wall time over ``repeat`` interleaved rounds, run in ``cwd`` (not
    the checkout: ``python -m amtflow`` there would run its amtflow, whatever the path says)."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for (command, env), kept in zip(commands, times, strict=True):
            start = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
            kept.append(time.perf_counter() - start)
            if result.returncode != 0:
                sys.exit(
                    f"{command[0]} failed ({result.returncode}):\n"
                    f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
                )
    return [statistics.median(kept) for kept in times]


def small_file(folder: Path) -> Path:
    """One self-contained schedule file of five jobs: a typical file a commit touches."""
    path = folder / "small.yaml"
    body = schedule_file(0, 5).replace("include: [common.yaml]\n", "")
    path.write_text(COMMON + body)
    return path


def amtflow_versions(compare: list[str]) -> list[tuple[str, dict[str, str] | None]]:
    """This amtflow, then each ``--compare`` copy (first on the path), byte-compiled first as an
    installed package is."""
    import compileall

    versions: list[tuple[str, dict[str, str] | None]] = [("amtflow", None)]
    for path in compare:
        compileall.compile_dir(str(Path(path) / "amtflow"), quiet=1)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [path, os.environ.get("PYTHONPATH")])),
        }
        versions.append((f"amtflow {path}", env))
    return versions


def report(title: str, names: list[str], times: list[float], target: str) -> None:
    print(title)
    theirs = times[-1]
    for name, seconds in zip(names, times, strict=True):
        ratio = (
            "" if name == "check-jsonschema" else f"   ratio {seconds / theirs:6.3f}  ({target})"
        )
        print(f"{name + ':':40s} {seconds:7.3f} s{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--jobs-per-file", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--compare", action="append", default=[], metavar="PATH")
    args = parser.parse_args()
    checker = shutil.which("check-jsonschema")
    if not checker:
        sys.exit("check-jsonschema is not installed (pip install check-jsonschema)")
    schema = str(REPO / "schemas/amtflow.schema.json")
    versions = amtflow_versions(args.compare)
    names = [name for name, _ in versions] + ["check-jsonschema"]
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(p) for p in generate(Path(tmp), args.files, args.jobs_per_file)]
        small = str(small_file(Path(tmp)))
        big_times, small_times = (
            timed(
                [
                    *(
                        ([sys.executable, "-m", "amtflow", "validate", *files], env)
                        for _, env in versions
                    ),
                    ([checker, "--schemafile", schema, *files], None),
                ],
                args.repeat,
                tmp,
            )
            for files in (paths, [small])
        )
    jobs = args.files * args.jobs_per_file
    report(
        f"{jobs} master jobs in {args.files} files (+ common.yaml), median of {args.repeat}",
        names,
        big_times,
        "target <= 1.0, aim 0.5",
    )
    report(f"one small file (5 jobs), median of {args.repeat}", names, small_times, "target <= 0.8")


if __name__ == "__main__":
    main()
