"""The operator's actions on a run, from any terminal: hold, release, skip, mark-ok.

Each records an action in the run's journal for its runner (``amtflow.orchestration.operate``); mark-ok of a
finished run also carries it on, as rerun does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from amtflow.cli.complete import complete_planned_jobs, complete_runs
from amtflow.cli.options import json_option, junit_option, live_option, state_dir_option
from amtflow.cli.recorded import of_run, shown

F = TypeVar("F", bound=Callable[..., Any])


def _run_and_jobs(command: F) -> F:
    """RUN JOB... --state-dir: what every operator action names."""
    command = state_dir_option(command)
    command = click.argument(
        "jobs", metavar="JOB...", nargs=-1, required=True, shell_complete=complete_planned_jobs
    )(command)
    return click.argument("run_id", metavar="RUN", shell_complete=complete_runs)(command)


def _operator_command(action: str, help_text: str) -> click.Command:
    """``amtflow hold|release|skip RUN JOB...``: record the action for the run's runner."""

    @click.command(action, help=help_text)
    @_run_and_jobs
    def command(run_id: str, jobs: tuple[str, ...], state_dir: Path) -> int:
        from amtflow.operator import OperatorAction
        from amtflow.orchestration.operate import record_action
        from amtflow.report.operator import acted

        acted(
            record_action(
                of_run(state_dir, run_id), run_id, jobs, OperatorAction(action), dict(os.environ)
            )
        )
        return 0

    return command


hold = _operator_command(
    "hold", "Hold JOBs of RUN that have not started: they do not start until released."
)
release = _operator_command(
    "release", "Release held JOBs of RUN: they start as their dependencies allow."
)
skip = _operator_command(
    "skip",
    "Skip JOBs of RUN that have not started: they never run, and the jobs that depend on them "
    "treat them as ended OK.",
)


@click.command("mark-ok")
@_run_and_jobs
@json_option
@junit_option
@live_option
def mark_ok(
    run_id: str,
    jobs: tuple[str, ...],
    state_dir: Path,
    json_path: Path | None,
    junit_path: Path | None,
    live: bool | None,
) -> int:
    """Count failed or killed JOBs of RUN as ended OK: the jobs not run because of them start
    as their dependencies allow. A finished RUN is carried on at once, as rerun does, without
    starting the marked jobs again (--json, --junit, --live are for that)."""
    import asyncio

    from amtflow.orchestration.operate import mark_ok as mark
    from amtflow.report.operator import acted
    from amtflow.report.outputs import RunOutputs, conclude

    outputs = RunOutputs(json_path, junit_path)
    outputs.check()
    state_dir = of_run(state_dir, run_id)
    answer = asyncio.run(mark(run_id, jobs, shown(state_dir, live), dict(os.environ)))
    status = 0 if answer.result is None else conclude(answer.result, outputs, state_dir)
    acted(answer)
    return status


COMMANDS = (hold, release, skip, mark_ok)
