"""The amtflow command line: a thin shell over the core.

Each command gathers its options, calls one function of the core and turns the result into an
exit status. ``main`` is the one place that turns an ``AmtflowError`` into a one-line message and
its exit status; a traceback is shown only with ``--traceback`` (or ``AMTFLOW_TRACEBACK=1``).
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import os
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import click

from amtflow import __version__, report
from amtflow.errors import AmtflowError, DefinitionError, UsageError
from amtflow.timeofday import RelativeDate

if TYPE_CHECKING:
    from amtflow.orchestration.drive import RunOptions
    from amtflow.orchestration.servers import Servers


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="amtflow")
@click.option("--traceback", is_flag=True, help="Show a traceback with errors (for bug reports).")
def cli(traceback: bool) -> None:
    """Declarative YAML workflows for Asysco AMT Batch Servers."""


class _DateType(click.ParamType):  # type: ignore[type-arg]
    """An ISO date, or today / yesterday / tomorrow."""

    name = "date"
    _words: ClassVar[dict[str, int]] = {"today": 0, "yesterday": -1, "tomorrow": 1}

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        text = str(value).strip().lower()
        if text in self._words:  # the day in the schedule's time zone, once it is known
            return RelativeDate(self._words[text])
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
                self.fail(f"'{value}' is not a real date{_month_length(text)}")
            self.fail(f"'{value}' is not a date: use YYYY-MM-DD, today, yesterday or tomorrow")


def _month_length(text: str) -> str:
    """`` (November 2026 has 30 days)`` when the day is past the month's end, else ``""``."""
    year, month = int(text[:4]), int(text[5:7])
    if not (1 <= month <= 12 and year >= 1):
        return " (the month must be 01 to 12)" if year >= 1 else ""
    days = calendar.monthrange(year, month)[1]
    return f" ({calendar.month_name[month]} {year} has {days} days)"


def _properties(values: tuple[str, ...]) -> dict[str, str]:
    properties = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{item}' is not NAME=VALUE", param_hint="--property")
        properties[name.strip()] = value
    return properties


def _project_default(setting: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A callback giving an option that was not set (nor its AMTFLOW_* variable) its default
    from the project file amtflow.yaml, else amtflow's own (see ``amtflow.project``)."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None:
            return value
        from amtflow.project import settings

        return getattr(settings(), setting)

    return callback


def _definitions(paths: tuple[Path, ...]) -> list[Path]:
    """The paths given, else the definitions roots of amtflow.yaml, else definitions/."""
    if paths:
        return list(paths)
    from amtflow.project import settings

    found = settings()
    missing = [root for root in found.definitions if not root.exists()]
    if missing and found.file is None:
        raise UsageError(
            f"no {missing[0]}/ folder here: pass the files or folders to check, or name them "
            "in an amtflow.yaml (definitions: [...]) in this folder or one above"
        )
    if missing:
        raise UsageError(f"{found.file}: definitions root {missing[0]} does not exist")
    return list(found.definitions)


def _plan_options(command: Callable[..., Any], *, exists: bool = True) -> Callable[..., Any]:
    """Options shared by plan and run: what to resolve, for which date."""
    for decorator in reversed(
        (
            click.argument(
                "schedule_file", type=click.Path(exists=exists, dir_okay=False, path_type=Path)
            ),
            click.option(
                "--schedule",
                "schedule",
                metavar="NAME",
                help="The schedule to use when the file defines several.",
            ),
            click.option(
                "--date",
                type=_DateType(),
                default="today",
                show_default=True,
                help="The schedule date (YYYY-MM-DD, today, yesterday, tomorrow).",
            ),
            click.option(
                "--job",
                "jobs",
                multiple=True,
                metavar="NAME",
                help="Run only these jobs (repeatable); dependencies on others count as met.",
            ),
            click.option(
                "--property",
                "properties",
                multiple=True,
                metavar="NAME=VALUE",
                help="Set or override a property (repeatable).",
            ),
        )
    ):
        command = decorator(command)
    return command


@cli.command()
@_plan_options
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def plan(
    schedule_file: Path,
    schedule: str | None,
    date: dt.date,
    jobs: tuple[str, ...],
    properties: tuple[str, ...],
    fmt: str,
) -> None:
    """Show what a run would do on a date, with no network: jobs, waves, resolved requests."""
    from amtflow import definitions as defs
    from amtflow.plan import plan_for
    from amtflow.report import plan as plan_report

    values = _properties(properties)
    resolved = plan_for(
        defs.load([schedule_file], properties=values),
        date,
        schedule=schedule,
        jobs=jobs,
        properties=values,
        environ=os.environ,
    )
    plan_report.show(resolved, fmt)


def _run_plan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    # the file may be gone: a schedule date that ran is then the journal's truth
    return _plan_options(command, exists=False)


_json_option = click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a JSON summary to this file.",
)
_junit_option = click.option(
    "--junit",
    "junit_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write JUnit XML (a test case per job) to this file.",
)
_html_option = click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the run's HTML report (timeline, logs) to this file at the end.",
)
_live_option = click.option(
    "--live/--plain",
    default=None,
    help="Live view or one line per change (default: live on a terminal).",
)


@cli.command()
@_run_plan_options
@click.option(
    "--again",
    is_flag=True,
    help="Start a new run of a schedule date that already ran (refused while one is unfinished).",
)
@click.option(
    "--max-parallel",
    type=click.IntRange(min=1),
    envvar="AMTFLOW_MAX_PARALLEL",
    callback=_project_default("max_parallel"),
    show_default="amtflow.yaml's max_parallel, else 50",
    help="Jobs running at once over all agents.",
)
@click.option(
    "--simulate",
    is_flag=True,
    help="Run against the embedded AMT simulator instead of the agents' servers.",
)
@click.option(
    "--scenario",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Simulator scenario (with --simulate).",
)
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="AMTFLOW_LOG_DIR",
    callback=_project_default("log_dir"),
    show_default="amtflow.yaml's log_dir, else .amtflow/logs",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="AMTFLOW_STATE_DIR",
    callback=_project_default("state_dir"),
    show_default="amtflow.yaml's state_dir, else .amtflow",
)
@_json_option
@_junit_option
@_html_option
@_live_option
def run(
    schedule_file: Path,
    schedule: str | None,
    date: dt.date,
    jobs: tuple[str, ...],
    properties: tuple[str, ...],
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
    from amtflow.orchestration.drive import RunOptions
    from amtflow.orchestration.schedule_date import run_schedule
    from amtflow.report.outputs import RunOutputs, conclude

    if scenario and not simulate:
        raise click.UsageError("--scenario goes with --simulate")
    if simulate:
        state_dir, log_dir = _simulated_dirs(state_dir, log_dir)
    options = RunOptions(
        definitions=schedule_file,
        date=date,
        log_dir=log_dir,
        state_dir=state_dir,
        schedule=schedule,
        jobs=jobs,
        properties=_properties(properties),
        environ=dict(os.environ),
        max_parallel=max_parallel,
        simulate=simulate,
        scenario=scenario,
        live=sys.stdout.isatty() if live is None else live,
        again=again,
        servers=_servers(),
    )
    outputs = RunOutputs(json_path, junit_path, html_path)
    outputs.check()
    return conclude(asyncio.run(run_schedule(options)), outputs, state_dir)


def _simulated_dirs(state_dir: Path, log_dir: Path) -> tuple[Path, Path]:
    """A simulated run's state and log dirs: apart from real runs unless chosen
    (``amtflow.state.apart``)."""
    from amtflow.project import settings
    from amtflow.state.apart import simulated_log_dir, simulated_state_dir

    ctx = click.get_current_context()
    base = settings().state_dir
    return (
        state_dir if _chosen(ctx, "state_dir") else simulated_state_dir(base),
        log_dir if _chosen(ctx, "log_dir") else simulated_log_dir(base),
    )


def _chosen(ctx: click.Context, name: str) -> bool:
    """The option was given on the command line or by its AMTFLOW_* variable."""
    source = ctx.get_parameter_source(name)
    return source not in (None, click.core.ParameterSource.DEFAULT)


def _of_run(state_dir: Path, run_id: str | None) -> Path:
    """The state dir recording RUN: this one, or its simulated runs' (``amtflow.state.apart``)."""
    if run_id is None:
        return state_dir
    from amtflow.state.apart import state_dir_of

    return state_dir_of(state_dir, run_id)


def _complete_runs(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """Shell completion of RUN: the recent run ids of the state dir (and its simulated runs)."""
    from amtflow.state.complete import run_ids

    state_dir = ctx.params.get("state_dir") or _settings_state_dir()
    return [
        click.shell_completion.CompletionItem(run_id, help=help)
        for run_id, help in run_ids(Path(state_dir), incomplete)
    ]


def _complete_jobs(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """Shell completion of JOB: the jobs of the RUN already on the command line."""
    from amtflow.state.complete import job_names

    run_id = ctx.params.get("run_id")
    if not run_id:
        return []
    state_dir = Path(ctx.params.get("state_dir") or _settings_state_dir())
    return [
        click.shell_completion.CompletionItem(name)
        for name in job_names(_of_run(state_dir, run_id), run_id, incomplete)
    ]


def _settings_state_dir() -> Path:
    """The state dir of amtflow.yaml, else the default: completion never fails on a bad file."""
    from amtflow.project import settings
    from amtflow.state.files import default_state_dir

    try:
        return settings().state_dir
    except AmtflowError:
        return default_state_dir()


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Output for people, or for machines.",
)
@click.option(
    "--property",
    "-p",
    "properties",
    multiple=True,
    metavar="NAME=VALUE",
    help="A property value, as for [[NAME]] (repeatable).",
)
@click.pass_context
def validate(
    ctx: click.Context, paths: tuple[Path, ...], output_format: str, properties: tuple[str, ...]
) -> None:
    """Validate definition files and folders (default: amtflow.yaml's definitions, else
    definitions/)."""
    from amtflow import definitions
    from amtflow.report import diagnostics

    validation = definitions.validate(_definitions(paths), properties=_properties(properties))
    diagnostics.show(validation, output_format)
    ctx.exit(0 if validation.ok else 2)


@cli.command("export")
@click.argument("target", type=click.Choice(["cron", "systemd", "kubernetes"]))
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the files into this folder (default: print them).",
)
@click.option(
    "--workdir",
    metavar="DIR",
    help="This folder's path on the machine the trigger runs on (default: this folder).",
)
@click.option(
    "--amtflow",
    "command",
    metavar="PATH",
    help="The amtflow command the trigger runs (default: this amtflow's full path).",
)
@click.option("--user", help="Account that runs amtflow (systemd User=, /etc/cron.d user).")
@click.option("--state-dir", help="AMTFLOW_STATE_DIR of the runs (cron, systemd).")
@click.option("--log-dir", help="AMTFLOW_LOG_DIR of the runs (cron, systemd).")
@click.option("--env-file", help="File of NAME=value lines with the secrets (cron, systemd).")
@click.option("--image", default="amtflow:latest", show_default=True, help="Container image.")
@click.option("--namespace", help="Kubernetes namespace of the objects.")
@click.option(
    "--secret",
    default="amtflow-secrets",
    show_default=True,
    help="Kubernetes Secret holding the environment variables the definitions name.",
)
@click.option(
    "--claim",
    default="amtflow-state",
    show_default=True,
    help="PersistentVolumeClaim for state and logs.",
)
@click.option("--storage", default="1Gi", show_default=True, help="Size of the claim.")
@click.option(
    "--starting-deadline",
    type=click.IntRange(min=10),
    default=3600,
    show_default=True,
    help="Seconds a missed CronJob start may still begin.",
)
def export_command(
    target: str,
    paths: tuple[Path, ...],
    out: Path | None,
    workdir: str | None,
    command: str | None,
    **settings: Any,
) -> None:
    """Write cron lines, systemd timers or Kubernetes CronJobs that start each schedule with a
    start_time on time (default: amtflow.yaml's definitions, else definitions/)."""
    import shutil

    from amtflow import definitions as defs
    from amtflow.export import ExportOptions, export, write_files
    from amtflow.report import export as export_report

    loaded = defs.load(_definitions(paths))
    local = shutil.which("amtflow") if target != "kubernetes" else None  # in the image: on PATH
    options = ExportOptions(
        root=Path.cwd(),
        workdir=workdir or str(Path.cwd()),
        amtflow=command or local or "amtflow",
        **settings,
    )
    result = export(loaded, target, options)
    if out is not None:
        write_files(out, result.files)
    export_report.show(result, out)


@cli.command()
@click.option("--project", is_flag=True, help="The schema of the project file amtflow.yaml.")
def schema(project: bool) -> None:
    """Print the JSON Schema of definition files (or of amtflow.yaml)."""
    from amtflow.definitions.schema import DEFINITIONS_SCHEMA, PROJECT_SCHEMA, schema_text

    report.plain(schema_text(PROJECT_SCHEMA if project else DEFINITIONS_SCHEMA).rstrip("\n"))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=42000,
    show_default=True,
    help="Port to listen on (0: a free port).",
)
@click.option(
    "--scenario",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Scenario YAML: scripted job behaviours.",
)
def simulator(host: str, port: int, scenario: Path | None) -> int:
    """Run the embedded AMT Batch Server simulator until Ctrl-C."""
    from amtflow.report import agents as agents_report
    from amtflow.simulator.serve import serve

    try:
        asyncio.run(serve(host, port, scenario, agents_report.simulator_listening))
    except KeyboardInterrupt:
        agents_report.simulator_stopped()
    return 0


@cli.group()
def agents() -> None:
    """Work with the agents (AMT Batch Server connections) of the definitions."""


@agents.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def agents_check(paths: tuple[Path, ...]) -> int:
    """Check every agent: reachable, credentials good, server version. Exit 1 if any fails."""
    from amtflow import definitions
    from amtflow.client.check import check_all
    from amtflow.report import agents as agents_report

    checks = asyncio.run(check_all(definitions.load(_definitions(paths))))
    agents_report.show_checks(checks)
    return 0 if all(check.ok for check in checks) else 1


@cli.command()
@click.argument("run_id", metavar="[RUN]", required=False, shell_complete=_complete_runs)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="AMTFLOW_STATE_DIR",
    callback=_project_default("state_dir"),
    help="State dir  [default: amtflow.yaml's state_dir, else .amtflow]",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output for people, or for machines.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many recent runs to list.",
)
def status(run_id: str | None, state_dir: Path, fmt: str, limit: int) -> int:
    """Show recent runs, or the jobs of RUN (a run id or a unique prefix of one)."""
    from amtflow.report.status import show_status
    from amtflow.state import read_status

    show_status(read_status(_of_run(state_dir, run_id), run_id, limit=limit), fmt)
    return 0


class _LogsGroup(click.Group):
    """``amtflow logs RUN [JOB]`` is short for ``amtflow logs show RUN [JOB]``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


_state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="AMTFLOW_STATE_DIR",
    callback=_project_default("state_dir"),
    show_default="amtflow.yaml's state_dir, else .amtflow",
    help="Where runs are recorded.",
)


@cli.command()
@click.argument("run_id", metavar="RUN", shell_complete=_complete_runs)
@_state_dir_option
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where new job logs go  [default: the run's own log dir]",
)
@_html_option
@_live_option
def resume(
    run_id: str, state_dir: Path, log_dir: Path | None, html_path: Path | None, live: bool | None
) -> int:
    """Carry on RUN after its runner died, never starting a job twice."""
    from amtflow.orchestration.recovery import resume_run
    from amtflow.report.outputs import RunOutputs, conclude

    state_dir = _of_run(state_dir, run_id)
    shown = _shown(state_dir, live)
    return conclude(
        asyncio.run(resume_run(run_id, shown, log_dir=log_dir)),
        RunOutputs(html_path=html_path),
        state_dir,
    )


def _shown(
    state_dir: Path,
    live: bool | None,
    scenario: Path | None = None,
) -> RunOptions:
    """How a recorded run carried on is shown and reported; the rest comes from the journal."""
    from amtflow.orchestration.drive import RunOptions

    return RunOptions(
        definitions=Path(),
        date=dt.date.today(),
        log_dir=Path(),
        state_dir=state_dir,
        environ=dict(os.environ),
        scenario=scenario,
        live=sys.stdout.isatty() if live is None else live,
        servers=_servers(),
    )


def _servers() -> Servers:
    """Where runs find their servers: the agents' own, or the embedded simulator (--simulate)."""
    from amtflow.simulator.seam import AGENTS_OR_SIMULATOR

    return AGENTS_OR_SIMULATOR


@cli.command()
@click.argument("run_id", metavar="RUN", shell_complete=_complete_runs)
@click.argument("jobs", metavar="[JOB]...", nargs=-1, shell_complete=_complete_jobs)
@_state_dir_option
@click.option(
    "--scenario",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Simulator scenario, for a run made with --simulate  [default: the run's own]",
)
@_json_option
@_junit_option
@_html_option
@_live_option
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
    from amtflow.orchestration.recovery import rerun_run
    from amtflow.report.outputs import RunOutputs, conclude

    outputs = RunOutputs(json_path, junit_path, html_path)
    outputs.check()
    state_dir = _of_run(state_dir, run_id)
    shown = _shown(state_dir, live, scenario)
    return conclude(asyncio.run(rerun_run(run_id, jobs, shown)), outputs, state_dir)


@cli.command()
@click.argument("run_id", metavar="RUN", shell_complete=_complete_runs)
@_state_dir_option
def abandon(run_id: str, state_dir: Path) -> int:
    """Close RUN, whose runner is gone, on purpose: kill its running jobs where the agent allows,
    list the ones that go on; the next run of its schedule date is a new one."""
    from amtflow.orchestration.abandon import abandon_run
    from amtflow.report.abandon import abandoned

    abandoned(asyncio.run(abandon_run(_of_run(state_dir, run_id), run_id, dict(os.environ))))
    return 0


@cli.command()
@click.argument("run_id", metavar="RUN", shell_complete=_complete_runs)
@click.argument("job", shell_complete=_complete_jobs)
@_state_dir_option
def kill(run_id: str, job: str, state_dir: Path) -> int:
    """Ask the server to kill JOB of RUN (if its agent allows kill)."""
    from amtflow.orchestration.kill import kill_job
    from amtflow.report import runview as run_report

    answer = asyncio.run(
        kill_job(_of_run(state_dir, run_id), run_id, job, dict(os.environ), _servers())
    )
    run_report.kill_answer(answer)
    return 0


def _operator_command(name: str, action: str, help_text: str) -> None:
    """``amtflow hold|release|skip RUN JOB...``: record the action for the run's runner."""

    @cli.command(name, help=help_text)
    @click.argument("run_id", metavar="RUN", shell_complete=_complete_runs)
    @click.argument(
        "jobs", metavar="JOB...", nargs=-1, required=True, shell_complete=_complete_jobs
    )
    @_state_dir_option
    def command(run_id: str, jobs: tuple[str, ...], state_dir: Path) -> int:
        from amtflow.operate import record_action
        from amtflow.report.operator import acted
        from amtflow.runs import OperatorAction

        acted(record_action(state_dir, run_id, jobs, OperatorAction(action), dict(os.environ)))
        return 0


_operator_command(
    "hold",
    "hold",
    "Hold JOBs of RUN that have not started: they do not start until released.",
)
_operator_command(
    "release", "release", "Release held JOBs of RUN: they start as their dependencies allow."
)
_operator_command(
    "skip",
    "skip",
    "Skip JOBs of RUN that have not started: they never run, and the jobs that depend on them "
    "treat them as ended OK.",
)


@cli.command("mark-ok")
@click.argument("run_id", metavar="RUN", shell_complete=_complete_runs)
@click.argument("jobs", metavar="JOB...", nargs=-1, required=True, shell_complete=_complete_jobs)
@_state_dir_option
@_json_option
@_junit_option
@_live_option
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
    from amtflow.operate import mark_ok as mark
    from amtflow.report.operator import acted
    from amtflow.report.outputs import RunOutputs, conclude

    outputs = RunOutputs(json_path, junit_path)
    outputs.check()
    answer = asyncio.run(mark(run_id, jobs, _shown(state_dir, live), dict(os.environ)))
    status = 0 if answer.result is None else conclude(answer.result, outputs, state_dir)
    acted(answer)
    return status


@cli.command("report")
@click.argument("run_id", metavar="[RUN]", required=False, shell_complete=_complete_runs)
@click.option(
    "--html",
    "html_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write (one self-contained page).",
)
@click.option("--schedule", metavar="NAME", help="A history of this schedule's runs instead.")
@click.option(
    "--last",
    type=click.IntRange(min=1, max=1000),
    default=14,
    show_default=True,
    help="How many recent runs the history shows (with --schedule).",
)
@_state_dir_option
def report_command(
    run_id: str | None, html_path: Path, schedule: str | None, last: int, state_dir: Path
) -> int:
    """Write an HTML report: of RUN (a timeline), or of a schedule's last runs (--schedule)."""
    from amtflow.report.html import write_history_report, write_run_report
    from amtflow.report.runview import report_written

    if (run_id is None) == (schedule is None):
        raise click.UsageError("give a RUN, or --schedule NAME for a history (not both)")
    if run_id is not None:
        page = write_run_report(_of_run(state_dir, run_id), run_id, html_path)
        report_written(html_path, f"run {page.summary.run.run_id}")
    else:
        assert schedule is not None
        runs = write_history_report(state_dir, schedule, last, html_path)
        report_written(html_path, f"{runs} run{'' if runs == 1 else 's'} of {schedule}")
    return 0


@cli.group(cls=_LogsGroup)
def logs() -> None:
    """Job log files: show a run's logs (amtflow logs RUN [JOB]), purge expired ones."""


@logs.command("show")
@click.argument("run_id", metavar="RUN", shell_complete=_complete_runs)
@click.argument("job", required=False, shell_complete=_complete_jobs)
@_state_dir_option
def logs_show(run_id: str, job: str | None, state_dir: Path) -> int:
    """Print the job logs of RUN, or of one of its jobs."""
    from amtflow.joblog.recorded import job_logs
    from amtflow.report import logs as logs_report

    logs_report.show_job_logs(job_logs(_of_run(state_dir, run_id), run_id, job))
    return 0


@logs.command("purge")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="AMTFLOW_LOG_DIR",
    callback=_project_default("log_dir"),
    help="The log dir  [default: amtflow.yaml's log_dir, else .amtflow/logs]",
)
@click.option("--dry-run", is_flag=True, help="Show what would be removed; remove nothing.")
def logs_purge(paths: tuple[Path, ...], log_dir: Path, dry_run: bool) -> int:
    """Remove job logs older than their agent's retain_log_files days.

    The agents come from the definitions in PATH... (files or folders; default: amtflow.yaml's
    definitions, else definitions/).
    """
    from amtflow import definitions
    from amtflow.joblog import purge, retention_of
    from amtflow.report import logs as logs_report

    agents = definitions.load(_definitions(paths)).agents
    result = purge(log_dir, retention_of(agents), dry_run=dry_run)
    logs_report.show_purge(result, log_dir, dry_run=dry_run)
    return 1 if result.problems else 0


@cli.group()
def notify() -> None:
    """Notifications: messages on run and job events through Apprise URLs."""


@notify.command("test")
@click.argument("name")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def notify_test(name: str, paths: tuple[Path, ...]) -> int:
    """Send a test message to every URL of notification NAME; exit 1 if one is not delivered.

    The notifications come from the definitions in PATH... (files or folders; default
    definitions/).
    """
    from amtflow import definitions
    from amtflow.definitions.checks import did_you_mean
    from amtflow.notify import send_test
    from amtflow.report import notify as notify_report

    known = definitions.load(paths or [Path("definitions")]).notifications
    if name not in known:
        hint = did_you_mean(name, set(known)) or f" (defined: {', '.join(sorted(known)) or 'none'})"
        raise click.UsageError(f"unknown notification '{name}'{hint}")
    results = asyncio.run(send_test(known[name], os.environ))
    notify_report.test_results(results)
    return 0 if results and all(result.delivered for result in results) else 1


def _show_error(exc: AmtflowError) -> None:
    if isinstance(exc, DefinitionError) and exc.diagnostics:
        from amtflow.report import diagnostics

        diagnostics.show_errors(exc.diagnostics)
    else:
        report.error(str(exc))


def _want_traceback() -> bool:
    return "--traceback" in sys.argv[1:] or os.environ.get("AMTFLOW_TRACEBACK") == "1"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every error ends in one clear line and a non-zero exit status."""
    try:
        status = cli.main(args=argv, prog_name="amtflow", standalone_mode=False)
    except click.exceptions.Abort:
        report.error("interrupted")
        status = 130
    except click.ClickException as exc:
        exc.show()
        status = 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except AmtflowError as exc:
        if _want_traceback():
            traceback.print_exc()
        _show_error(exc)
        status = exc.exit_status
    except KeyboardInterrupt:
        report.error("interrupted")
        status = 130
    except Exception as exc:  # a bug: still one line, details on request
        if _want_traceback():
            traceback.print_exc()
        report.error(f"internal error: {type(exc).__name__} (run with --traceback for details)")
        status = 70
    sys.exit(status if isinstance(status, int) else 0)
