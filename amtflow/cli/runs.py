"""Commands that read or act on recorded runs: status, logs, kill, abandon, report (a run's
timeline, or a schedule's history)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from amtflow.cli.complete import complete_jobs, complete_runs
from amtflow.cli.options import definitions_paths, project_dir_option, state_dir_option
from amtflow.cli.recorded import of_run, servers


@click.command()
@click.argument("run_id", metavar="[RUN]", required=False, shell_complete=complete_runs)
@project_dir_option("state_dir", "State dir")
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

    show_status(read_status(of_run(state_dir, run_id), run_id, limit=limit), fmt)
    return 0


@click.command()
@click.argument("run_id", metavar="RUN", shell_complete=complete_runs)
@state_dir_option
def abandon(run_id: str, state_dir: Path) -> int:
    """Close RUN, whose runner is gone, on purpose: kill its running jobs where the agent allows,
    list the ones that go on; the next run of its schedule date is a new one."""
    import asyncio

    from amtflow.orchestration.abandon import abandon_run
    from amtflow.report.abandon import abandoned

    abandoned(asyncio.run(abandon_run(of_run(state_dir, run_id), run_id, dict(os.environ))))
    return 0


@click.command()
@click.argument("run_id", metavar="RUN", shell_complete=complete_runs)
@click.argument("job", shell_complete=complete_jobs)
@state_dir_option
def kill(run_id: str, job: str, state_dir: Path) -> int:
    """Ask the server to kill JOB of RUN (if its agent allows kill)."""
    import asyncio

    from amtflow.orchestration.kill import kill_job
    from amtflow.report import runview as run_report

    answer = asyncio.run(
        kill_job(of_run(state_dir, run_id), run_id, job, dict(os.environ), servers())
    )
    run_report.kill_answer(answer)
    return 0


@click.command("report")
@click.argument("run_id", metavar="[RUN]", required=False, shell_complete=complete_runs)
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
@state_dir_option
def report_command(
    run_id: str | None, html_path: Path, schedule: str | None, last: int, state_dir: Path
) -> int:
    """Write an HTML report: of RUN (a timeline), or of a schedule's last runs (--schedule)."""
    from amtflow.report.html import write_history_report, write_run_report
    from amtflow.report.runview import report_written

    if (run_id is None) == (schedule is None):
        raise click.UsageError("give a RUN, or --schedule NAME for a history (not both)")
    if run_id is not None:
        page = write_run_report(of_run(state_dir, run_id), run_id, html_path)
        report_written(html_path, f"run {page.summary.run.run_id}")
    else:
        assert schedule is not None
        runs = write_history_report(state_dir, schedule, last, html_path)
        report_written(html_path, f"{runs} run{'' if runs == 1 else 's'} of {schedule}")
    return 0


class _LogsGroup(click.Group):
    """``amtflow logs RUN [JOB]`` is short for ``amtflow logs show RUN [JOB]``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_LogsGroup)
def logs() -> None:
    """Job log files: show a run's logs (amtflow logs RUN [JOB]), purge expired ones."""


@logs.command("show")
@click.argument("run_id", metavar="RUN", shell_complete=complete_runs)
@click.argument("job", required=False, shell_complete=complete_jobs)
@state_dir_option
def logs_show(run_id: str, job: str | None, state_dir: Path) -> int:
    """Print the job logs of RUN, or of one of its jobs."""
    from amtflow.joblog.recorded import job_logs
    from amtflow.report import logs as logs_report

    logs_report.show_job_logs(job_logs(of_run(state_dir, run_id), run_id, job))
    return 0


@logs.command("purge")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@project_dir_option("log_dir", "The log dir")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; remove nothing.")
def logs_purge(paths: tuple[Path, ...], log_dir: Path, dry_run: bool) -> int:
    """Remove job logs older than their agent's retain_log_files days.

    The agents come from the definitions in PATH... (files or folders; default: amtflow.yaml's
    definitions, else definitions/).
    """
    from amtflow import definitions
    from amtflow.joblog import purge, retention_of
    from amtflow.report import logs as logs_report

    agents = definitions.load(definitions_paths(paths)).agents
    result = purge(log_dir, retention_of(agents), dry_run=dry_run)
    logs_report.show_purge(result, log_dir, dry_run=dry_run)
    return 1 if result.problems else 0


COMMANDS = (status, logs, kill, abandon, report_command)
