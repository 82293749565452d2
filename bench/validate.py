"""Benchmark: ``amtflow validate`` against ``check-jsonschema`` on 10,000 master jobs in 100 files,
and on one small file (what pre-commit runs on every commit: start-up time is most of it).

Both run as subprocesses on the same generated files in the same run, interleaved; prints both
times (median of ``--repeat``, the machine may be shared) and the ratio amtflow /
check-jsonschema. Targets: <= 1.0 (aim 0.5) on the big set; <= 0.8 on the small file.

    python bench/validate.py [--files 100] [--jobs-per-file 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
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


def timed(commands: list[list[str]], repeat: int) -> list[float]:
    """Each command's median wall time over ``repeat`` interleaved rounds."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for command, kept in zip(commands, times, strict=True):
            start = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--jobs-per-file", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    checker = shutil.which("check-jsonschema")
    if not checker:
        sys.exit("check-jsonschema is not installed (pip install check-jsonschema)")
    schema = str(REPO / "schemas/amtflow.schema.json")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(p) for p in generate(Path(tmp), args.files, args.jobs_per_file)]
        small = str(small_file(Path(tmp)))
        ours, theirs = timed(
            [
                [sys.executable, "-m", "amtflow", "validate", *paths],
                [checker, "--schemafile", schema, *paths],
            ],
            args.repeat,
        )
        ours_small, theirs_small = timed(
            [
                [sys.executable, "-m", "amtflow", "validate", small],
                [checker, "--schemafile", schema, small],
            ],
            args.repeat,
        )
    jobs = args.files * args.jobs_per_file
    print(f"{jobs} master jobs in {args.files} files (+ common.yaml), median of {args.repeat}")
    print(f"amtflow validate:  {ours:7.3f} s")
    print(f"check-jsonschema:  {theirs:7.3f} s")
    print(f"ratio:             {ours / theirs:7.3f}  (target <= 1.0, aim 0.5)")
    print(f"one small file (5 jobs), median of {args.repeat}")
    print(f"amtflow validate:  {ours_small:7.3f} s")
    print(f"check-jsonschema:  {theirs_small:7.3f} s")
    print(f"ratio:             {ours_small / theirs_small:7.3f}  (target <= 0.8)")


if __name__ == "__main__":
    main()
