"""What the commands share: option decorators, the date type, and reading options into values.

Nothing here imports the core at module level: ``amtflow validate`` starts through this module.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click

from amtflow.errors import UsageError
from amtflow.timeofday import RelativeDate

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


class DateType(click.ParamType):  # type: ignore[type-arg]
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


def properties_of(values: tuple[str, ...]) -> dict[str, str]:
    """``--property NAME=VALUE`` values as a mapping; a bad one is a usage error."""
    properties = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{item}' is not NAME=VALUE", param_hint="--property")
        properties[name.strip()] = value
    return properties


def project_default(setting: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A callback giving an option that was not set (nor its AMTFLOW_* variable) its default
    from the project file amtflow.yaml, else amtflow's own (see ``amtflow.definitions.project``)."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None:
            return value
        from amtflow.definitions.project import settings

        return getattr(settings(), setting)

    return callback


def definitions_paths(paths: tuple[Path, ...]) -> list[Path]:
    """The paths given, else the definitions roots of amtflow.yaml, else definitions/."""
    if paths:
        return list(paths)
    from amtflow.definitions.project import settings

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


def chosen(ctx: click.Context, name: str) -> bool:
    """The option was given on the command line or by its AMTFLOW_* variable."""
    source = ctx.get_parameter_source(name)
    return source not in (None, click.core.ParameterSource.DEFAULT)


_FALLBACK = {"state_dir": ".amtflow", "log_dir": ".amtflow/logs"}


def project_dir_option(setting: str, help: str | None = None) -> Callable[[F], F]:
    """``--state-dir`` or ``--log-dir``: its AMTFLOW_* variable, else amtflow.yaml's setting,
    else amtflow's own default."""
    return click.option(
        f"--{setting.replace('_', '-')}",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=f"AMTFLOW_{setting.upper()}",
        callback=project_default(setting),
        show_default=f"amtflow.yaml's {setting}, else {_FALLBACK[setting]}",
        help=help,
    )


state_dir_option = project_dir_option("state_dir", "Where runs are recorded.")


@dataclass(frozen=True)
class ScheduleDate:
    """What ``plan`` and ``run`` resolve: a schedule of a file, for a date, maybe only some of
    its jobs, with properties set on the command line."""

    schedule_file: Path
    schedule: str | None  # --schedule: the file's only schedule when None
    date: dt.date
    jobs: tuple[str, ...]  # --job: the whole schedule when empty
    properties: dict[str, str]  # --property


def plan_options(command: Callable[..., R], *, exists: bool = True) -> Callable[..., R]:
    """SCHEDULE_FILE --schedule --date --job --property, handed to ``command`` gathered as one
    ``schedule_date: ScheduleDate``."""

    @functools.wraps(command)
    def gathered(
        *,
        schedule_file: Path,
        schedule: str | None,
        date: dt.date,
        jobs: tuple[str, ...],
        properties: tuple[str, ...],
        **rest: Any,
    ) -> R:
        chosen = ScheduleDate(schedule_file, schedule, date, jobs, properties_of(properties))
        return command(schedule_date=chosen, **rest)

    for decorator in reversed(_schedule_date_parameters(exists)):
        gathered = decorator(gathered)
    return gathered


def _schedule_date_parameters(exists: bool) -> tuple[Callable[[F], F], ...]:
    return (
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
            type=DateType(),
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


def run_plan_options(command: Callable[..., R]) -> Callable[..., R]:
    """Options of ``run``: as ``plan``'s, but the file may be gone (a schedule date that ran is
    then the journal's truth)."""
    return plan_options(command, exists=False)


def output_file_option(name: str, help: str) -> Callable[[F], F]:
    """``--json``, ``--junit``, ``--html``: a file a run writes at its end (``FILE_path``)."""
    return click.option(
        f"--{name}", f"{name}_path", type=click.Path(dir_okay=False, path_type=Path), help=help
    )


json_option = output_file_option("json", "Write a JSON summary to this file.")
junit_option = output_file_option("junit", "Write JUnit XML (a test case per job) to this file.")
html_option = output_file_option(
    "html", "Write the run's HTML report (timeline, logs) to this file at the end."
)
live_option = click.option(
    "--live/--plain",
    default=None,
    help="Live view or one line per change (default: live on a terminal).",
)


def scenario_option(help: str) -> Callable[[F], F]:
    """``--scenario``: a simulator scenario file (YAML of scripted job behaviours)."""
    return click.option(
        "--scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=help
    )
