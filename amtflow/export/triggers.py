"""What every export target shares: the trigger of each timed schedule, the environment a run
reads, names for units and objects."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from amtflow.errors import UsageError
from amtflow.model import WEEKDAYS, Definitions, Schedule, SecretRef
from amtflow.timeofday import TimeOfDay, skipped_on, zone

_DATE_WORDS = {0: "today", 1: "yesterday"}  # a start_time +1 runs the day before's schedule date
_ENV_PROPERTY = re.compile(r"\[\[ENV:([A-Za-z_][A-Za-z0-9_.-]*)(?::[^\]]*)?\]\]")


@dataclass(frozen=True)
class ExportOptions:
    """Where and how the exported triggers run ``amtflow``; sensible defaults for each target."""

    root: Path  # the local folder the definition paths are written relative to (this one)
    workdir: str  # that folder on the machine the trigger runs on (cron, systemd)
    amtflow: str = "amtflow"  # the command (an absolute path for cron and systemd)
    user: str | None = None  # the account the run uses (systemd User=, /etc/cron.d user)
    state_dir: str | None = None  # AMTFLOW_STATE_DIR; default: .amtflow in the workdir
    log_dir: str | None = None  # AMTFLOW_LOG_DIR
    env_file: str | None = None  # where the secrets' environment variables are (cron, systemd)
    image: str = "amtflow:latest"  # kubernetes
    namespace: str | None = None
    secret: str = "amtflow-secrets"  # the Kubernetes Secret holding the env variables
    claim: str = "amtflow-state"  # the PersistentVolumeClaim for state and logs
    storage: str = "1Gi"
    configmap: str = "amtflow-definitions"
    starting_deadline: int = 3600  # seconds a missed CronJob start may still begin
    run_as: int = 10001  # uid and gid of the pod


@dataclass(frozen=True)
class Trigger:
    """When and how one schedule is started."""

    schedule: str
    definitions: PurePosixPath  # the file defining it, relative to the root when inside it
    zone: str
    time: TimeOfDay
    weekdays: tuple[int, ...]  # cron numbering, 0 = Sunday; empty: every day

    @property
    def date_word(self) -> str:
        return _DATE_WORDS[self.time.days]

    def run_args(self) -> list[str]:
        """The ``amtflow`` arguments the trigger runs."""
        return [
            "run",
            str(self.definitions),
            "--schedule",
            self.schedule,
            "--date",
            self.date_word,
            "--plain",
        ]


@dataclass(frozen=True)
class ExportedFile:
    name: str  # a file name, relative to the output folder
    text: str


@dataclass(frozen=True)
class Export:
    files: tuple[ExportedFile, ...]
    skipped: tuple[str, ...] = ()  # "schedule X: why", said on stderr
    triggers: tuple[Trigger, ...] = field(default=())
    warnings: tuple[str, ...] = ()  # said on stderr too: a day a trigger will not fire


def triggers(definitions: Definitions, root: Path) -> tuple[list[Trigger], list[str]]:
    """The trigger of each schedule that has a ``start_time``, and why the others have none."""
    made: list[Trigger] = []
    skipped: list[str] = []
    for schedule in definitions.schedules.values():
        why = _why_no_trigger(schedule)
        if why:
            skipped.append(f"schedule {schedule.name}: {why}")
            continue
        assert schedule.start_time is not None and schedule.location is not None
        made.append(
            Trigger(
                schedule.name,
                relative(Path(schedule.location.path), root),
                schedule.timezone,
                schedule.start_time,
                _weekdays(schedule, schedule.start_time.days),
            )
        )
    return made, skipped


def _why_no_trigger(schedule: Schedule) -> str:
    if schedule.start_time is None:
        return "no start_time, no trigger"
    if schedule.frequency.on_request:
        return "runs on request only, no trigger"
    if schedule.start_time.days not in _DATE_WORDS:
        return f"start_time {schedule.start_time} is more than a day after its date: no trigger"
    if schedule.location is None:
        return "defined nowhere on disk"
    return ""


def _weekdays(schedule: Schedule, shift: int) -> tuple[int, ...]:
    days = schedule.frequency.days
    if not days or len(days) == len(WEEKDAYS):
        return ()
    # WEEKDAYS starts on Monday (1 in cron); a +1 start fires the day after each schedule day
    return tuple(sorted({(WEEKDAYS.index(day) + 1 + shift) % 7 for day in days}))


def skipped_firings(trigger: Trigger, today: dt.date) -> list[str]:
    """A warning for the next day in a year on which ``trigger``'s time does not exist in its
    zone: systemd (``systemd-analyze calendar`` shows no elapse) and Kubernetes' CronJob
    controller pass over it, so that schedule date would not run; cron may differ."""
    fires = set(trigger.weekdays)
    days = skipped_on(trigger.time.time, zone(trigger.zone), today, 366)
    for day in days:
        if fires and (day.isoweekday() % 7) not in fires:
            continue
        date = day - dt.timedelta(days=trigger.time.days)
        return [
            f"schedule {trigger.schedule}: {trigger.time.time.strftime('%H:%M')} does not exist"
            f" in {trigger.zone} on {day} (the clocks jump over it): its timer does not fire"
            f" that day, so run that date by hand (amtflow run {trigger.definitions}"
            f" --schedule {trigger.schedule} --date {date}), or choose a start_time the"
            " clocks never skip"
        ]
    return []


def relative(path: Path, root: Path) -> PurePosixPath:
    """``path`` relative to ``root`` when inside it, else absolute."""
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        return PurePosixPath(absolute.resolve().relative_to(root.resolve()).as_posix())
    except ValueError:
        return PurePosixPath(absolute.resolve().as_posix())


def env_names(definitions: Definitions) -> tuple[list[str], list[str]]:
    """The environment variables a run reads: batch users' passwords (it cannot run without
    them), then the others: ``[[ENV:NAME]]`` and the notifications' URLs (a run without them
    goes on, saying what it cannot send)."""
    passwords = sorted({u.password.env for u in definitions.batch_users.values() if u.password.env})
    found: set[str] = {url.env for url in notification_urls(definitions) if url.env}
    for path in definitions.files:
        try:
            found.update(_ENV_PROPERTY.findall(Path(path).read_text(encoding="utf-8")))
        except OSError:
            continue
    return passwords, sorted(found - set(passwords))


def notification_urls(definitions: Definitions) -> list[SecretRef]:
    """Where the notifications' Apprise URLs are read from (each a secret: it holds tokens)."""
    return [url for notice in definitions.notifications.values() for url in notice.urls]


def cron_fields(trigger: Trigger) -> str:
    """The five time fields of a crontab line (and of a Kubernetes CronJob's schedule)."""
    when = trigger.time.time
    if when.second:
        raise UsageError(
            f"schedule {trigger.schedule}: start_time {trigger.time} has seconds; "
            "cron fires on whole minutes"
        )
    days = ",".join(str(day) for day in trigger.weekdays) or "*"
    return f"{when.minute} {when.hour} * * {days}"


def unit_name(schedule: str, taken: set[str]) -> str:
    """A name for files and Kubernetes objects: ``amtflow-nightly`` (DNS-1123, unique)."""
    base = re.sub(r"[^a-z0-9]+", "-", schedule.lower()).strip("-")[:40] or "schedule"
    name, number = f"amtflow-{base}", 2
    while name in taken:
        name, number = f"amtflow-{base}-{number}", number + 1
    taken.add(name)
    return name
