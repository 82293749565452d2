"""Commands that plan and run a schedule date: plan, run, resume, rerun."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from amtflow.cli.complete import complete_jobs, complete_runs
from amtflow.cli.options import (
    ScheduleDate,
    chosen,
    html_option,
    json_option,
    junit_option,
    live_option,
    plan_options,
    project_default,
    project_dir_option,
    run_plan_options,
    scenario_option,
    state_dir_option,
)
from amtflow.cli.recorded import of_run, servers, shown


@click.command()
@plan_options
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def plan(schedule_date: ScheduleDate, fmt: str) -> None:
    """Show what a run would do on a date, with no network: jobs, waves, resolved requests."""
    from amtflow import definitions as defs
    from amtflow.plan import plan_for
    from amtflow.report import plan as plan_report

    resolved = plan_for(
        defs.load([schedule_date.schedule_file], properties=schedule_date.properties),
        schedule_date.date,
        schedule=schedule_date.schedule,
        jobs=schedule_date.jobs,
        properties=schedule_date.properties,
        environ=os.environ,
    )
    plan_report.show(resolved, fmt)


@click.command()
@run_plan_options
@click.option(
    "--again",
    is_flag=True,
    help="Start a new run of a schedule date that already ran (refused while one is unfinished).",
)
@click.option(
    "--max-parallel",
    type=click.IntRange(min=1),
    envvar="AMTFLOW_MAX_PARALLEL",
    callback=project_default("max_parallel"),
    show_default="amtflow.yaml's max_parallel, else 50",
    help="Jobs running at once over all agents.",
)
@click.option(
    "--simulate",
    is_flag=True,
    help="Run against the embedded AMT simulator instead of the agents' servers.",
)
@scenario_option("Simulator scenario (with --simulate).")
@project_dir_option("log_dir")
@project_dir_option("state_dir")
@json_option
@junit_option
@html_option
@live_option
def run(
    schedule_date: ScheduleDate,
    again: bool,
    max_parallel: int,
    simulate: bool,
    scenario: Path | None,
    log_dir: Path,
    state_dir: Path,
    json_path: Path | None,
    junit_path: Path | None,
    html_path: Path | None,
    live: bool | None,
) -> int:
    """Run a schedule for a date, once: exit 0 all OK, 1 a job failed or was not run.

    Safe to repeat (cron, systemd, Kubernetes): a schedule date whose runner died is resumed, one
    that ran starts nothing and exits with that run's status.
    """
    import asyncio

    from amtflow.orchestration.drive import RunOptions
    from amtflow.orchestration.schedule_date import run_schedule
    from amtflow.report.outputs import RunOutputs, conclude

    if scenario and not simulate:
        raise click.UsageError("--scenario goes with --simulate")
    if simulate:
        state_dir, log_dir = _simulated_dirs(state_dir, log_dir)
    options = RunOptions(
        definitions=schedule_date.schedule_file,
        date=schedule_date.date,
        log_dir=log_dir,
        state_dir=state_dir,
        schedule=schedule_date.schedule,
        jobs=schedule_date.jobs,
        properties=schedule_date.properties,
        environ=dict(os.environ),
        max_parallel=max_parallel,
        simulate=simulate,
        scenario=scenario,
        live=sys.stdout.isatty() if live is None else live,
        again=again,
        servers=servers(),
    )
    outputs = RunOutputs(json_path, junit_path, html_path)
    outputs.check()
    return conclude(asyncio.run(run_schedule(options)), outputs, state_dir)


def _simulated_dirs(state_dir: Path, log_dir: Path) -> tuple[Path, Path]:
    """A simulated run's state and log dirs: apart from real runs unless chosen
    (``amtflow.state.apart``)."""
    from amtflow.definitions.project import settings
    from amtflow.state.apart import simulated_log_dir, simulated_state_dir

    ctx = click.get_current_context()
    base = settings().state_dir
    return (
        state_dir if chosen(ctx, "state_dir") else simulated_state_dir(base),
        log_dir if chosen(ctx, "log_dir") else simulated_log_dir(base),
    )


@click.command()
@click.argument("run_id", metavar="RUN", shell_complete=complete_runs)
@state_dir_option
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where new job logs go  [default: the run's own log dir]",
)
@html_option
@live_option
def resume(
    run_id: str, state_dir: Path, log_dir: Path | None, html_path: Path | None, live: bool | None
) -> int:
    """Carry on RUN after its runner died, never starting a job twice."""
    import asyncio

    from amtflow.orchestration.recovery import resume_run
    from amtflow.report.outputs import RunOutputs, conclude

    state_dir = of_run(state_dir, run_id)
    return conclude(
        asyncio.run(resume_run(run_id, shown(state_dir, live), log_dir=log_dir)),
        RunOutputs(html_path=html_path),
        state_dir,
    )


@click.command()
@click.argument("run_id", metavar="RUN", shell_complete=complete_runs)
@click.argument("jobs", metavar="[JOB]...", nargs=-1, shell_complete=complete_jobs)
@state_dir_option
@scenario_option("Simulator scenario, for a run made with --simulate  [default: the run's own]")
@json_option
@junit_option
@html_option
@live_option
def rerun(
    run_id: str,
    jobs: tuple[str, ...],
    state_dir: Path,
    scenario: Path | None,
    json_path: Path | None,
    junit_path: Path | None,
    html_path: Path | None,
    live: bool | None,
) -> int:
    """Rerun failed jobs of a finished RUN (all failed and killed ones when no JOB is named),
    then what was not run because of them. Jobs that ended OK never start again."""
    import asyncio

    from amtflow.orchestration.recovery import rerun_run
    from amtflow.report.outputs import RunOutputs, conclude

    outputs = RunOutputs(json_path, junit_path, html_path)
    outputs.check()
    state_dir = of_run(state_dir, run_id)
    carried_on = rerun_run(run_id, jobs, shown(state_dir, live, scenario))
    return conclude(asyncio.run(carried_on), outputs, state_dir)


COMMANDS = (plan, run, resume, rerun)
