"""Shell completion of RUN and JOB arguments (click's ``shell_complete`` callbacks).

They run at every Tab press: they read the journal only (``amtflow.state.complete``), and a
project file or journal that cannot be read offers nothing rather than an error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from amtflow.errors import AmtflowError

if TYPE_CHECKING:  # click.shell_completion is imported at a Tab press, not at every start
    from click.shell_completion import CompletionItem

_JobNames = Callable[[Path, str, str], list[str]]  # (state dir, RUN, incomplete) -> job names


def complete_runs(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """RUN: the recent run ids of the state dir (and its simulated runs)."""
    from click.shell_completion import CompletionItem

    from amtflow.state.complete import run_ids

    return [
        CompletionItem(run_id, help=help) for run_id, help in run_ids(_state_dir(ctx), incomplete)
    ]


def complete_jobs(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """JOB: the jobs of the RUN already on the command line that have started."""
    from amtflow.state.complete import job_names

    return _jobs(ctx, incomplete, job_names)


def complete_planned_jobs(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """JOB of an operator action: the jobs of RUN, those planned that have not started too."""
    from amtflow.state.complete import planned_job_names

    return _jobs(ctx, incomplete, planned_job_names)


def _jobs(ctx: click.Context, incomplete: str, names_of: _JobNames) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    from amtflow.state.apart import state_dir_of

    run_id = ctx.params.get("run_id")
    if not run_id:
        return []
    state_dir = state_dir_of(_state_dir(ctx), run_id)
    return [CompletionItem(name) for name in names_of(state_dir, run_id, incomplete)]


def _state_dir(ctx: click.Context) -> Path:
    """The --state-dir on the command line, else amtflow.yaml's, else the default: completion
    never fails on a bad project file."""
    if given := ctx.params.get("state_dir"):
        return Path(given)
    from amtflow.definitions.project import settings
    from amtflow.state.files import default_state_dir

    try:
        return settings().state_dir
    except AmtflowError:
        return default_state_dir()
