"""Runs on the embedded simulator are marked as simulated and kept apart from real runs (issue 18,
item 7): their own journal and logs by default, their own run-once unit in a shared journal, and
batch request ids that never make job logs pile up as ``JOB.4280~2.log``."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from tests.run.conftest import PASSWORD, amtflow, write_definitions

DATE = "2026-11-24"
JOBS = [
    {"name": "EXTRACT", "task": "batch_job", "job_name": "EXTRACT"},
    {"name": "REPORT", "task": "batch_job", "job_name": "REPORT", "depends_on": ["EXTRACT"]},
]


def simulated(folder: Path, schedule: Path, *extra: str | Path) -> Any:
    return amtflow("run", schedule, "--date", DATE, "--simulate", "--plain", *extra, cwd=folder)


def run_id_of(output: str) -> str:
    found = re.search(r"^(?:run|resuming run) (\S+)", output, re.MULTILINE)
    assert found, output
    return found.group(1).rstrip(":")


def journal_runs(state_dir: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(state_dir / "journal.db") as conn:
        return conn.execute("SELECT run_id, options FROM runs ORDER BY rowid").fetchall()


def test_a_simulated_run_keeps_its_journal_and_logs_apart_and_says_it_is_simulated(
    tmp_path: Path,
) -> None:
    schedule = write_definitions(tmp_path, "http://127.0.0.1:9", JOBS)
    result = simulated(
        tmp_path, schedule, "--json", tmp_path / "run.json", "--junit", tmp_path / "j.xml"
    )
    assert result.returncode == 0, result.stderr
    run_id = run_id_of(result.stdout)
    apart = tmp_path / ".amtflow" / "simulated"
    assert not (tmp_path / ".amtflow" / "journal.db").exists()  # the real journal: untouched
    assert [row[0] for row in journal_runs(apart)] == [run_id]
    logs = sorted(p.relative_to(apart / "logs").as_posix() for p in (apart / "logs").rglob("*.log"))
    assert logs == [f"NIGHTLY/{DATE}/EXTRACT.4280.log", f"NIGHTLY/{DATE}/REPORT.4281.log"]
    assert not (tmp_path / ".amtflow" / "logs").exists()

    assert json.loads((tmp_path / "run.json").read_text())["simulated"] is True
    suite = ET.parse(tmp_path / "j.xml").getroot()
    assert [(p.get("name"), p.get("value")) for p in suite.iter("property")] == [
        ("simulated", "true")
    ]

    listing = amtflow("status", cwd=tmp_path)  # the real runs: none, and where the others are
    assert listing.returncode == 0
    assert "no runs yet" in listing.stdout
    assert (
        "simulated runs (--simulate) are kept apart: amtflow status --state-dir" in listing.stdout
    )
    assert ".amtflow/simulated" in listing.stdout
    detail = amtflow("status", run_id[:20], cwd=tmp_path)  # found by its id all the same
    assert detail.returncode == 0, detail.stderr
    assert re.search(r"\bok simulated\b", detail.stdout), detail.stdout
    document = json.loads(amtflow("status", run_id, "--format", "json", cwd=tmp_path).stdout)
    assert document["run"]["simulated"] is True
    logs_shown = amtflow("logs", run_id, "REPORT", cwd=tmp_path)
    assert logs_shown.returncode == 0 and "Completion Code : DONE (4)" in logs_shown.stdout
    page = amtflow("report", run_id, "--html", tmp_path / "r.html", cwd=tmp_path)
    assert page.returncode == 0, page.stderr
    assert "simulated (embedded AMT simulator)" in (tmp_path / "r.html").read_text()


def test_simulated_runs_again_never_pile_logs_up_under_the_same_ids(tmp_path: Path) -> None:
    schedule = write_definitions(tmp_path, "http://127.0.0.1:9", JOBS)
    for _ in range(3):
        result = simulated(tmp_path, schedule, "--again")
        assert result.returncode == 0, result.stderr
    logs = tmp_path / ".amtflow" / "simulated" / "logs"
    names = sorted(p.name for p in logs.rglob("*.log"))
    assert len(names) == 6 and not any("~" in name for name in names), names
    assert names[:2] == ["EXTRACT.4280.log", "EXTRACT.4282.log"]


def test_chosen_dirs_are_used_as_given_and_the_simulated_run_is_marked(tmp_path: Path) -> None:
    schedule = write_definitions(tmp_path, "http://127.0.0.1:9", JOBS)
    state, logs = tmp_path / "state", tmp_path / "logs"
    result = simulated(tmp_path, schedule, "--state-dir", state, "--log-dir", logs)
    assert result.returncode == 0, result.stderr
    assert len(journal_runs(state)) == 1 and len(list(logs.rglob("*.log"))) == 2
    listing = amtflow("status", "--state-dir", state, cwd=tmp_path)
    assert re.search(r"\bok simulated\b", listing.stdout), listing.stdout
    runs = json.loads(
        amtflow("status", "--state-dir", state, "--format", "json", cwd=tmp_path).stdout
    )
    assert runs["runs"][0]["simulated"] is True and runs["simulated_state_dir"] is None


def test_a_simulated_run_of_a_date_never_makes_the_real_run_already_ran(
    tmp_path: Path, start_simulator: Any
) -> None:
    """A journal holding both kinds (a shared --state-dir, or one written before simulated runs
    were kept apart): only runs of the same kind count for run-once."""
    live = start_simulator({"default": {"duration": 0.05}}, users={"OPCONAPI": PASSWORD})
    schedule = write_definitions(tmp_path, live.url, JOBS)
    state = ("--state-dir", tmp_path / "state", "--log-dir", tmp_path / "logs")
    first = simulated(tmp_path, schedule, *state)
    assert first.returncode == 0, first.stderr
    assert live.simulator.record.starts_by_job() == {}  # the embedded simulator ran it

    real = amtflow("run", schedule, "--date", DATE, "--plain", *state, cwd=tmp_path)
    assert real.returncode == 0, real.stderr
    assert "already ran" not in real.stdout
    assert live.simulator.record.starts_by_job() == {"EXTRACT": 1, "REPORT": 1}

    again = amtflow("run", schedule, "--date", DATE, "--plain", *state, cwd=tmp_path)
    assert again.returncode == 0 and "already ran: run " + run_id_of(real.stdout) in again.stdout
    simulated_again = simulated(tmp_path, schedule, *state)
    assert "already ran: run " + run_id_of(first.stdout) in simulated_again.stdout
    assert live.simulator.record.starts_by_job() == {"EXTRACT": 1, "REPORT": 1}


def test_an_unfinished_simulated_run_does_not_block_the_real_run(
    tmp_path: Path, start_simulator: Any
) -> None:
    """A simulated run whose runner died (its simulator died with it) is not resumed by, and
    does not refuse, the real run of its date."""
    live = start_simulator({"default": {"duration": 0.05}}, users={"OPCONAPI": PASSWORD})
    schedule = write_definitions(tmp_path, live.url, JOBS)
    state = ("--state-dir", tmp_path / "state", "--log-dir", tmp_path / "logs")
    assert simulated(tmp_path, schedule, *state).returncode == 0
    with sqlite3.connect(tmp_path / "state" / "journal.db") as conn:  # as a SIGKILL leaves it
        conn.execute("UPDATE runs SET state = 'running', ended_at = NULL, pid = 999999999")
    real = amtflow("run", schedule, "--date", DATE, "--plain", *state, cwd=tmp_path)
    assert real.returncode == 0, real.stderr + real.stdout
    assert "resuming" not in real.stdout and "did not finish" not in real.stderr
    assert live.simulator.record.starts_by_job() == {"EXTRACT": 1, "REPORT": 1}


def test_simulated_options_recorded_before_this_change_still_mark_the_run(tmp_path: Path) -> None:
    """What users already have on disk: runs recorded with --simulate in the real journal."""
    schedule = write_definitions(tmp_path, "http://127.0.0.1:9", JOBS)
    state = tmp_path / "state"
    assert (
        simulated(tmp_path, schedule, "--state-dir", state, "--log-dir", tmp_path / "l").returncode
        == 0
    )
    with sqlite3.connect(
        state / "journal.db"
    ) as conn:  # the options as an older amtflow wrote them
        conn.execute("UPDATE runs SET options = ?", (json.dumps({"simulate": True, "jobs": []}),))
    listing = amtflow("status", "--state-dir", state, "--format", "json", cwd=tmp_path)
    assert json.loads(listing.stdout)["runs"][0]["simulated"] is True


def test_operator_actions_find_a_simulated_run_kept_apart(tmp_path: Path) -> None:
    """hold, release, skip and mark-ok look for RUN where status does: an operator trying a
    schedule out on the simulator needs no --state-dir to mark a failed job OK."""
    schedule = write_definitions(tmp_path, "http://127.0.0.1:9", JOBS)
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"jobs": {"EXTRACT": {"duration": 0.05, "end_code": 11}}}))
    failed = simulated(tmp_path, schedule, "--scenario", scenario)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    run_id = run_id_of(failed.stdout)

    skipped = amtflow("skip", run_id, "EXTRACT", cwd=tmp_path)
    assert skipped.returncode == 2 and "already ended (failed)" in skipped.stderr, skipped.stderr
    marked = amtflow("mark-ok", run_id, "EXTRACT", "--plain", cwd=tmp_path)
    assert marked.returncode == 0, marked.stdout + marked.stderr
    assert not (tmp_path / ".amtflow" / "journal.db").exists()  # the real journal: untouched
    apart = tmp_path / ".amtflow" / "simulated"
    with sqlite3.connect(apart / "journal.db") as conn:
        actions = conn.execute("SELECT job, action FROM operator_actions").fetchall()
    assert actions == [("EXTRACT", "mark_ok")]
    shown = amtflow("status", run_id, cwd=tmp_path).stdout
    assert re.search(r"REPORT\s.*\bok\b", shown), shown


def test_the_readme_s_first_simulated_run_then_a_real_one_leave_a_private_ignored_state_dir(
    tmp_path: Path, start_simulator: Any
) -> None:
    """The README's order: `amtflow run --simulate` first, then real runs. The simulated run made
    `.amtflow` only as the parent of `.amtflow/simulated`; it must still be the private state
    dir amtflow promises (0700, a `.gitignore` of `*`), or the real journal and job logs that
    then go into it are readable by others and show in `git status`."""
    live = start_simulator({"default": {"duration": 0.05}}, users={"OPCONAPI": PASSWORD})
    schedule = write_definitions(tmp_path, live.url, JOBS)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("nightly.yaml\n")  # only amtflow's files are in question
    assert simulated(tmp_path, schedule).returncode == 0
    real = amtflow("run", schedule, "--date", DATE, "--plain", cwd=tmp_path)
    assert real.returncode == 0, real.stderr
    assert (tmp_path / ".amtflow" / "journal.db").is_file()  # the real run recorded there
    assert stat.S_IMODE((tmp_path / ".amtflow").stat().st_mode) == 0o700
    untracked = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert untracked.splitlines() == ["?? .gitignore"], untracked
