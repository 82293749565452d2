"""Commands on the definitions themselves: validate, schema, and export (the triggers that
start each schedule on time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from amtflow import report
from amtflow.cli.options import definitions_paths, properties_of


@click.command()
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

    validation = definitions.validate(
        definitions_paths(paths), properties=properties_of(properties)
    )
    diagnostics.show(validation, output_format)
    ctx.exit(0 if validation.ok else 2)


@click.command()
@click.option("--project", is_flag=True, help="The schema of the project file amtflow.yaml.")
def schema(project: bool) -> None:
    """Print the JSON Schema of definition files (or of amtflow.yaml)."""
    from amtflow.definitions.schema import DEFINITIONS_SCHEMA, PROJECT_SCHEMA, schema_text

    report.plain(schema_text(PROJECT_SCHEMA if project else DEFINITIONS_SCHEMA).rstrip("\n"))


@click.command("export")
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

    loaded = defs.load(definitions_paths(paths))
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


COMMANDS = (validate, schema, export_command)
