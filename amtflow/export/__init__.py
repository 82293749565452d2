"""``amtflow export``: the triggers that start ``amtflow run`` on time, written from the definitions.

One trigger per schedule with a ``start_time``: it fires at that time, in the schedule's zone, on
each weekday the schedule's ``days`` allow, and runs ``amtflow run FILE --schedule NAME --date
today``; amtflow decides the rest (calendars, excluded dates: "nothing to run" exits 0) and makes a
second firing for the same date harmless (a schedule date runs once). Secrets are written only as
references: the environment variables the definitions name, from an env file or a Secret.

    export(definitions, target, options) -> Export      files to write, and schedules skipped

Nothing is written here (the CLI writes the files); the definition files are read again only for
their ``[[ENV:NAME]]`` references and, for Kubernetes, their text (the ConfigMap).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from amtflow.errors import UsageError
from amtflow.export import cron, kubernetes, systemd
from amtflow.export.triggers import (
    Export,
    ExportedFile,
    ExportOptions,
    Trigger,
    skipped_firings,
    triggers,
)
from amtflow.model import Definitions
from amtflow.report import terminal_safe

__all__ = ["TARGETS", "Export", "ExportOptions", "ExportedFile", "Trigger", "export", "write_files"]

Renderer = Callable[[Definitions, list[Trigger], ExportOptions], list[ExportedFile]]
_RENDERERS: dict[str, Renderer] = {
    "cron": cron.render,
    "systemd": systemd.render,
    "kubernetes": kubernetes.render,
}
TARGETS = tuple(_RENDERERS)
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\$?|[0-9]+")  # POSIX account names, or a uid


def export(
    definitions: Definitions, target: str, options: ExportOptions, today: dt.date | None = None
) -> Export:
    """The files of ``target`` (cron, systemd or kubernetes) for every timed schedule, and a
    warning for each trigger whose time the clocks skip within a year from ``today``."""
    if target not in _RENDERERS:
        raise UsageError(f"unknown export target '{target}' (choose {', '.join(TARGETS)})")
    made, skipped = triggers(definitions, options.root)
    _check_one_line(made, options)
    files = _RENDERERS[target](definitions, made, options) if made else []
    warnings = [] if target == "cron" else _skipped_firings(made, today or dt.date.today())
    return Export(tuple(files), tuple(skipped), tuple(made), warnings=tuple(warnings))


def _skipped_firings(made: list[Trigger], today: dt.date) -> list[str]:
    """systemd timers and CronJobs pass over a time the clocks skip (cron may run it late)."""
    return [warning for trigger in made for warning in skipped_firings(trigger, today)]


def _check_one_line(made: list[Trigger], options: ExportOptions) -> None:
    """Refuse a line break or control character in anything written into a crontab line or a
    unit file: quoting cannot carry one there, it would end the line and start another one (a
    definition file named ``"a\\n* * * * * cmd"`` would add a crontab entry); and a --user that
    is not one word (in /etc/cron.d, its blanks would start the command early), or a relative
    --workdir or --env-file (written as is, where nothing would find them)."""
    settings = [
        (f"--{f.name.replace('_', '-')}", value)
        for f in dataclasses.fields(options)
        if isinstance(value := getattr(options, f.name), str)
    ]
    words = [(f"schedule {t.schedule}: its file", str(t.definitions)) for t in made]
    for what, text in [*settings, *words]:
        if not text.isprintable():
            raise UsageError(
                f"{what} '{terminal_safe(text)}' holds a line break or control character:"
                " a trigger cannot carry it (rename it)"
            )
    for option, path in (("--workdir", options.workdir), ("--env-file", options.env_file)):
        if path is not None and not path.startswith("/"):
            raise UsageError(
                f"{option} '{path}' must be an absolute path: systemd refuses a relative one,"
                " and cron's shell would look for it elsewhere (on PATH, or in its home)"
            )
    if options.user is not None and not _USER.fullmatch(options.user):
        raise UsageError(
            f"--user '{terminal_safe(options.user)}' is not an account name (letters, digits,"
            " _ . -): it is written as a word of a crontab line and a unit setting"
        )


def write_files(out: Path, files: Iterable[ExportedFile]) -> None:
    """Write exported files into ``out`` (created if needed); a failure is one clear line.

    Every file is written aside first and only then are they put in place, each by a rename,
    which needs no room: a disk that fills up half-way leaves the last export whole, never a new
    service beside an old timer."""
    written: list[tuple[Path, Path]] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for file in files:
            written.append((_written_aside(out / file.name, file.text), out / file.name))
        for temporary, path in written:
            os.replace(temporary, path)
    except OSError as exc:
        for temporary, _ in written:
            with contextlib.suppress(OSError):
                temporary.unlink()
        raise UsageError(f"cannot write to {out}: {exc.strerror or exc}") from exc


def _written_aside(path: Path, text: str) -> Path:
    """``text`` in a new file beside ``path``, to be put in place by rename: a symlink planted at
    ``path`` (in a shared folder such as /tmp) is then replaced, never followed to overwrite
    what it points at."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        with os.fdopen(os.open(temporary, flags, 0o666), "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return temporary
