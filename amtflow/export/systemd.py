"""systemd units: a ``.service`` (Type=oneshot) that runs one schedule and a ``.timer`` that starts
it at the schedule's start_time in its zone, ``Persistent=true`` so that a start missed while the
machine was off happens at boot. Secrets come from ``EnvironmentFile=``, never written here."""

from __future__ import annotations

from amtflow.export.triggers import ExportedFile, ExportOptions, Trigger, env_names, unit_name
from amtflow.model import Definitions

_SYSTEMD_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")  # cron numbering


def render(
    definitions: Definitions, triggers: list[Trigger], options: ExportOptions
) -> list[ExportedFile]:
    """A service and a timer per timed schedule."""
    passwords, properties = env_names(definitions)
    taken: set[str] = set()
    files: list[ExportedFile] = []
    for trigger in triggers:
        name = unit_name(trigger.schedule, taken)
        files.append(
            ExportedFile(f"{name}.service", _service(trigger, options, passwords + properties))
        )
        files.append(ExportedFile(f"{name}.timer", _timer(trigger, name)))
    return files


def _service(trigger: Trigger, options: ExportOptions, secrets: list[str]) -> str:
    lines = [
        "# Written by `amtflow export systemd` from the definitions; edit those.",
        "[Unit]",
        f"Description=amtflow schedule {_escape(trigger.schedule)} ({_escape(str(trigger.definitions))})",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=oneshot",
        f"WorkingDirectory={_escape(options.workdir)}",
    ]
    if options.user:
        lines.append(f"User={options.user}")
    if secrets:
        env_file = options.env_file or "/etc/amtflow/amtflow.env"
        lines.append(f"# {', '.join(secrets)} are read from this file (never written here)")
        lines.append(f"EnvironmentFile={_escape(env_file)}")
    for name, value in (
        ("AMTFLOW_STATE_DIR", options.state_dir),
        ("AMTFLOW_LOG_DIR", options.log_dir),
    ):
        if value:
            lines.append(f'Environment="{name}={_escape(value)}"')
    command = " ".join(_quote(arg) for arg in [options.amtflow, *trigger.run_args()])
    lines += [
        f"ExecStart={command}",
        "# a run may take hours; SIGTERM kills its jobs where allowed and records the state",
        "TimeoutStartSec=infinity",
        "KillMode=mixed",
        "TimeoutStopSec=60",
        "",
    ]
    return "\n".join(lines)


def _timer(trigger: Trigger, name: str) -> str:
    when = trigger.time.time
    days = ",".join(_SYSTEMD_DAYS[day] for day in trigger.weekdays)
    calendar = f"{days + ' ' if days else ''}*-*-* {when:%H:%M:%S} {trigger.zone}"
    return "\n".join(
        [
            "# Written by `amtflow export systemd` from the definitions; edit those.",
            "[Unit]",
            f"Description=Start amtflow schedule {_escape(trigger.schedule)} at {trigger.time} {trigger.zone}",
            "",
            "[Timer]",
            f"OnCalendar={calendar}",
            "Persistent=true",
            f"Unit={name}.service",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ]
    )


def _quote(arg: str) -> str:
    """An ExecStart word: quoted when it holds blanks or quotes; ``%`` and ``$`` escaped."""
    text = arg.replace("\\", "\\\\").replace("%", "%%").replace("$", "$$")
    if any(ch in text for ch in " \t\"'"):
        return '"' + text.replace('"', '\\"') + '"'
    return text


def _escape(text: str) -> str:
    """A value in a unit file: specifiers (``%``) escaped, no line breaks."""
    return text.replace("%", "%%").replace("\n", " ")
