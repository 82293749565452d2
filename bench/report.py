"""Benchmark: the HTML report of a 10,000-job run: its size, the time to write it, and the time
a real Chromium takes to load and draw it.

The run is real: ``amtflow run --simulate`` of a schedule of N jobs on 4 agents (50 at once
each), every job depending on the one ``--stride`` places before it (so the critical path is a
long chain), with durations of 0.02-0.1 s and every 13th job failing. Its report is then written
by ``amtflow report RUN --html`` (a child process; least wall of the rounds) and opened, each
round in a fresh browser context, in Debian's chromium through Playwright:

- timeline: from ``goto`` to the timeline drawn (``html[data-drawn]``) and painted (two
  animation frames later): what a person sees first;
- table: from ``goto`` to the table of attempts moved out of its ``<noscript>`` and painted
  (``html[data-ready]``): the page complete;
- script: the page's own measure of its drawing script (parse the data island, build the bars);
- sort: clicking the table's Duration header, to the sorted table;
- hover: hovering the last bar, to its details shown.

Figures are printed; nothing is asserted. Target: a 10,000-job page loads in about 1-2 s and
stays bounded in size (logs embedded up to a budget, links past it).

    python bench/report.py [--jobs 10000] [--stride 200] [--rounds 3] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

DATE = "2026-11-24"
AGENTS = 4
FRAME = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"  # painted


def definitions(jobs: int, stride: int) -> dict[str, Any]:
    """A schedule of ``jobs`` jobs on ``AGENTS`` agents; job i depends on job i - stride."""
    agent = {"type": "AsyscoAMT", "batch_server_url": "http://127.0.0.1:1", "batch_user": "api"}
    return {
        "version": 1,
        "batch_users": [{"name": "api", "identifier": "OPCONAPI", "password": {"env": "BENCH_PW"}}],
        "agents": [
            {"name": f"amt{a}", **agent, "max_concurrent_jobs": 50} for a in range(1, AGENTS + 1)
        ],
        "schedules": [
            {
                "name": "BIG",
                "defaults": {"agent": "amt1", "application": "DEMO2"},
                "jobs": [_job(i, stride) for i in range(jobs)],
            }
        ],
    }


def _job(index: int, stride: int) -> dict[str, Any]:
    job: dict[str, Any] = {
        "name": f"J{index:05d}",
        "task": "batch_job",
        "job_name": f"J{index:05d}",
        "agent": f"amt{index % AGENTS + 1}",
    }
    if index >= stride:
        job["depends_on"] = [{"job": f"J{index - stride:05d}", "on": "finished"}]
    return job


def scenario(jobs: int) -> dict[str, Any]:
    return {
        "default": {"duration": 0.05},
        "jobs": {
            f"J{i:05d}": {
                "duration": 0.02 + (i * 37 % 9) / 100,
                "end_code": 11 if i % 13 == 0 else 4,
            }
            for i in range(jobs)
        },
    }


def amtflow(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENCH_PW": "x"}
    return subprocess.run(
        [sys.executable, "-m", "amtflow", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def make_run(folder: Path, jobs: int, stride: int) -> tuple[str, float]:
    (folder / "big.yaml").write_text(yaml.safe_dump(definitions(jobs, stride), sort_keys=False))
    (folder / "scenario.yaml").write_text(yaml.safe_dump(scenario(jobs)))
    started = time.perf_counter()
    result = amtflow(
        "run", "big.yaml", "--date", DATE, "--simulate", "--scenario", "scenario.yaml",
        "--plain", "--max-parallel", "200", "--state-dir", "state", "--log-dir", "logs",
        cwd=folder,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"the run failed ({result.returncode}): {result.stderr[-2000:]}")
    status = amtflow("status", "--state-dir", "state", "--format", "json", cwd=folder)
    return json.loads(status.stdout)["runs"][0]["run_id"], wall


def write_report(folder: Path, run_id: str, rounds: int) -> list[float]:
    walls = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = amtflow(
            "report", run_id, "--html", "report.html", "--state-dir", "state", cwd=folder
        )
        walls.append(time.perf_counter() - started)
        if result.returncode != 0:
            sys.exit(f"amtflow report failed: {result.stderr[-2000:]}")
    return walls


def browse(page_file: Path, rounds: int, chromium: str) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    figures: dict[str, list[float]] = {
        "timeline": [],
        "table": [],
        "script": [],
        "sort": [],
        "hover": [],
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(rounds):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            requests: list[str] = []
            page.on("request", lambda r, seen=requests: seen.append(r.url))
            started = time.perf_counter()
            page.goto(page_file.as_uri(), wait_until="commit")
            page.wait_for_selector("html[data-drawn]", state="attached", timeout=120_000)
            page.evaluate(FRAME)
            figures["timeline"].append(time.perf_counter() - started)
            page.wait_for_selector("html[data-ready]", state="attached", timeout=120_000)
            page.evaluate(FRAME)
            figures["table"].append(time.perf_counter() - started)
            root = "document.documentElement.dataset"
            figures["script"].append(float(page.evaluate(f"{root}.renderMs")) / 1000)
            figures["sort"].append(_timed_click(page, "#job-table th:nth-child(9) button"))
            figures["hover"].append(_timed_hover(page))
            if requests != [page_file.as_uri()]:
                sys.exit(f"the page made requests: {requests[:5]}")
            page.screenshot(path=str(page_file.with_suffix(".png")))
            context.close()
        browser.close()
    return figures


def _timed_click(page: Any, selector: str) -> float:
    started = time.perf_counter()
    page.click(selector)
    page.evaluate(FRAME)
    return time.perf_counter() - started


def _timed_hover(page: Any) -> float:
    page.evaluate("window.scrollTo(0, 0)")
    started = time.perf_counter()
    page.locator(".bar").last.hover()
    page.wait_for_selector("#tip:not([hidden])")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--stride", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="amtflow-bench-report-") as tmp:
        folder = Path(tmp)
        run_id, run_wall = make_run(folder, args.jobs, args.stride)
        writes = write_report(folder, run_id, args.rounds)
        page_file = folder / "report.html"
        size = page_file.stat().st_size
        text = page_file.read_text(encoding="utf-8")
        island = text.split('id="amtflow-data">', 1)[1].split("</script>", 1)[0]
        data = json.loads(island)
        embedded = sum(len(log[0].encode()) for log in data["logs"] if log[0] is not None)
        figures = browse(page_file, args.rounds, args.chromium)
        shot = Path.cwd() / "bench-report.png"
        shutil.copy(page_file.with_suffix(".png"), shot)
    print(
        f"run: {args.jobs} jobs, {len(data['bars'])} attempts, {len(data['lanes'])} agents, "
        f"critical path {len(data['critical'])} jobs; the run itself took {run_wall:.1f} s"
    )
    print(
        f"page: {size / 1e6:.2f} MB ({size / args.jobs:.0f} bytes a job), of which embedded "
        f"logs {embedded / 1e6:.2f} MB ({sum(1 for log in data['logs'] if log[0] is not None)} "
        f"of {len(data['logs'])} logs), data island {len(island) / 1e6:.2f} MB"
    )
    print(f"amtflow report: least {min(writes):.2f} s, median {statistics.median(writes):.2f} s")
    for name, values in figures.items():
        print(
            f"chromium {name}: least {min(values):.3f} s, median {statistics.median(values):.3f} s"
        )
    print(f"screenshot: {shot}")


if __name__ == "__main__":
    main()
