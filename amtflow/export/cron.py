"""crontab lines: one per timed schedule, each under a ``CRON_TZ`` of its schedule's zone.

Without ``--user`` the file is a user crontab (``crontab FILE``); with it, a system crontab for
``/etc/cron.d`` with the user column. Secrets come from ``--env-file``, read by the shell at each
run (``set -a; . FILE``), never written here.
"""

from __future__ import annotations

import shlex

from amtflow.export.triggers import ExportedFile, ExportOptions, Trigger, cron_fields, env_names
from amtflow.model import Definitions


def render(
    definitions: Definitions, triggers: list[Trigger], options: ExportOptions
) -> list[ExportedFile]:
    """One crontab file, ``amtflow.cron``."""
    passwords, properties = env_names(definitions)
    lines = [
        "# amtflow triggers, written by `amtflow export cron` from the definitions; edit those.",
        "# Each line starts `amtflow run --date today` at the schedule's start_time in its zone",
        "# (CRON_TZ); amtflow decides whether the date runs and runs a date only once.",
        *_secrets_note(passwords + properties, options),
        "SHELL=/bin/sh",
    ]
    for trigger in triggers:
        lines += [
            "",
            f"# schedule {trigger.schedule} at {trigger.time} {trigger.zone}",
            f"CRON_TZ={trigger.zone}",
            f"{cron_fields(trigger)}{_user(options)} {_command(trigger, options)}",
        ]
    return [ExportedFile("amtflow.cron", "\n".join(lines) + "\n")]


def _secrets_note(names: list[str], options: ExportOptions) -> list[str]:
    if not names:
        return []
    where = options.env_file or "the environment cron gives the command"
    return [f"# It reads {', '.join(names)} from {where} (never written here)."]


def _user(options: ExportOptions) -> str:
    return f" {options.user}" if options.user else ""


def _command(trigger: Trigger, options: ExportOptions) -> str:
    parts = [f"cd {shlex.quote(options.workdir)}"]
    if options.env_file:
        parts.append(f"set -a && . {shlex.quote(options.env_file)} && set +a")
    parts += _dirs(options)
    run = " ".join(shlex.quote(arg) for arg in [options.amtflow, *trigger.run_args()])
    parts.append(f"exec {run}")
    # cron turns an unescaped % into a newline
    return " && ".join(parts).replace("%", "\\%")


def _dirs(options: ExportOptions) -> list[str]:
    settings = [
        f"{name}={shlex.quote(value)}"
        for name, value in (
            ("AMTFLOW_STATE_DIR", options.state_dir),
            ("AMTFLOW_LOG_DIR", options.log_dir),
        )
        if value
    ]
    return [f"export {' '.join(settings)}"] if settings else []
