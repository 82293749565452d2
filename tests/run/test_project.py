"""The project file amtflow.yaml (issue 17, item 5) and the state dir's .gitignore (item 6)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .conftest import ROOT, LiveSimulator, amtflow, write_definitions

DEFINITIONS = ROOT / "definitions"


def project(tmp_path: Path, settings: str) -> Path:
    """A definitions repository: definitions under defs/, other YAML beside them, amtflow.yaml."""
    shutil.copytree(DEFINITIONS, tmp_path / "defs")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "mkdocs.yml").write_text("site_name: x\nnav: [index.md]\n")
    (tmp_path / "schedules").mkdir()
    (tmp_path / "amtflow.yaml").write_text(settings)
    return tmp_path


def test_validate_from_a_subfolder_uses_the_roots_of_amtflow_yaml(tmp_path: Path) -> None:
    repo = project(tmp_path, "version: 1\ndefinitions: [defs]\n")
    result = amtflow("validate", cwd=repo / "schedules")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors, 0 warnings in 2 files" in result.stdout  # not ci.yml, not mkdocs.yml

    (repo / "defs" / "common" / "amt.yaml").write_text(
        (repo / "defs" / "common" / "amt.yaml").read_text().replace("amt-demo", "amt-prod")
    )
    result = amtflow("validate", cwd=repo / "schedules")
    assert result.returncode == 2
    assert "../defs/nightly.yaml:" in result.stdout and "unknown agent 'amt-demo'" in result.stdout


def test_without_a_project_file_validate_says_what_to_do(tmp_path: Path) -> None:
    result = amtflow("validate", cwd=tmp_path)
    assert result.returncode == 2
    assert "no definitions/ folder here" in result.stderr and "amtflow.yaml" in result.stderr


def test_a_root_that_does_not_exist_names_the_project_file(tmp_path: Path) -> None:
    repo = project(tmp_path, "definitions: [defs, shared]\n")
    result = amtflow("validate", cwd=repo)
    assert result.returncode == 2
    assert "amtflow.yaml: definitions root shared does not exist" in result.stderr


def test_the_project_file_is_validated_with_positions(tmp_path: Path) -> None:
    repo = project(tmp_path, "definitions: defs\nstate_dir: .state\nmax_paralel: 3\n")
    result = amtflow("status", cwd=repo / "schedules")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "../amtflow.yaml:1:14: error: definitions must be a list, not 'defs'",
        "../amtflow.yaml:3:1: error: unknown key 'max_paralel' (did you mean 'max_parallel'?)",
    ]
    assert "Traceback" not in result.stderr


def test_schema_of_the_project_file_is_printed(tmp_path: Path) -> None:
    result = amtflow("schema", "--project", cwd=tmp_path)
    assert result.returncode == 0 and '"max_parallel"' in result.stdout


def test_state_dir_comes_from_option_then_env_then_project_then_default(tmp_path: Path) -> None:
    repo = project(tmp_path, "definitions: [defs]\nstate_dir: var/state\n")
    sub = repo / "schedules"

    def shown(*args: str, env: dict[str, str] | None = None) -> str:
        result = amtflow("status", *args, cwd=sub, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert shown() == "no runs yet (state dir ../var/state)"
    from_env = str(tmp_path / "from-env")  # absolute, and not whatever /tmp holds
    assert shown(env={"AMTFLOW_STATE_DIR": from_env}) == f"no runs yet (state dir {from_env})"
    assert (
        shown("--state-dir", "opt", env={"AMTFLOW_STATE_DIR": from_env})
        == "no runs yet (state dir opt)"
    )
    (repo / "amtflow.yaml").write_text("definitions: [defs]\n")
    assert shown() == "no runs yet (state dir ../.amtflow)"  # beside the project file
    (repo / "amtflow.yaml").unlink()
    assert shown() == "no runs yet (state dir .amtflow)"  # no project: the current folder


def test_max_parallel_from_the_project_file(tmp_path: Path, start_simulator: object) -> None:
    live: LiveSimulator = start_simulator({"default": {"duration": 0.4}})  # type: ignore[operator]
    jobs = [{"name": f"J{n}", "task": "batch_job", "job_name": f"J{n}"} for n in range(3)]
    write_definitions(tmp_path, live.url, jobs)
    (tmp_path / "amtflow.yaml").write_text("definitions: [nightly.yaml]\nmax_parallel: 1\n")
    result = amtflow("run", "nightly.yaml", "--date", "2026-11-30", "--plain", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    starts = sorted(r.time for r in live.simulator.record.starts())
    assert len(starts) == 3
    # one at a time: each Start waits for the job before it to end (0.4 s running)
    assert all(later - earlier >= 0.4 for earlier, later in zip(starts, starts[1:]))


def test_a_first_run_leaves_git_status_clean(tmp_path: Path, start_simulator: object) -> None:
    live: LiveSimulator = start_simulator()  # type: ignore[operator]
    write_definitions(tmp_path, live.url, [{"name": "A", "task": "batch_job", "job_name": "A"}])
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "nightly.yaml"], cwd=tmp_path, check=True)
    result = amtflow("run", "nightly.yaml", "--date", "2026-11-30", "--plain", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr

    assert list((tmp_path / ".amtflow" / "logs").rglob("*.log"))  # it did write there
    assert (tmp_path / ".amtflow" / ".gitignore").read_text().splitlines()[-1] == "*"
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout.splitlines() == ["A  nightly.yaml"]


def test_an_existing_state_dir_gets_no_gitignore(tmp_path: Path, start_simulator: object) -> None:
    live: LiveSimulator = start_simulator()  # type: ignore[operator]
    write_definitions(tmp_path, live.url, [{"name": "A", "task": "batch_job", "job_name": "A"}])
    (tmp_path / "mine").mkdir()
    result = amtflow(
        "run",
        "nightly.yaml",
        "--date",
        "2026-11-30",
        "--plain",
        "--state-dir",
        "mine",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "mine" / ".gitignore").exists()
