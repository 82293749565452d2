"""Benchmark: ``amtflow validate`` against ``check-jsonschema`` on 10,000 master jobs in 100 files.

Both run as subprocesses on the same generated files in the same run; prints both times (best of
``--repeat``) and the ratio amtflow / check-jsonschema (target <= 1.0, aim 0.5).

    python bench/validate.py [--files 100] [--jobs-per-file 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
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


def timed(command: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(
                f"{command[0]} failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--jobs-per-file", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    checker = shutil.which("check-jsonschema")
    if not checker:
        sys.exit("check-jsonschema is not installed (pip install check-jsonschema)")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(p) for p in generate(Path(tmp), args.files, args.jobs_per_file)]
        ours = timed([sys.executable, "-m", "amtflow", "validate", *paths], args.repeat)
        theirs = timed(
            [checker, "--schemafile", str(REPO / "schemas/amtflow.schema.json"), *paths],
            args.repeat,
        )
    jobs = args.files * args.jobs_per_file
    print(f"{jobs} master jobs in {args.files} files (+ common.yaml), best of {args.repeat}")
    print(f"amtflow validate:  {ours:7.3f} s")
    print(f"check-jsonschema:  {theirs:7.3f} s")
    print(f"ratio:             {ours / theirs:7.3f}  (target <= 1.0, aim 0.5)")


if __name__ == "__main__":
    main()
