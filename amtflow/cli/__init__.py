"""The amtflow command line: a thin shell over the core.

Each command gathers its options, calls one function of the core and turns the result into an
exit status. ``main`` is the one place that turns an ``AmtflowError`` into a one-line message and
its exit status; a traceback is shown only with ``--traceback`` (or ``AMTFLOW_TRACEBACK=1``).

The commands live by what they act on: ``run`` (plan, run, resume, rerun), ``runs`` (status,
logs, kill, abandon, report), ``operator`` (hold, release, skip, mark-ok), ``definitions``
(validate, schema, export) and ``tools`` (agents check, notify test, simulator); ``options``
holds what they share, ``complete`` the shell completion of RUN and JOB. Each imports its core
only when it runs, so ``amtflow validate`` starts fast.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback

import click

from amtflow import __version__, report
from amtflow.cli import definitions, operator, run, runs, tools
from amtflow.errors import AmtflowError, DefinitionError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="amtflow")
@click.option("--traceback", is_flag=True, help="Show a traceback with errors (for bug reports).")
def cli(traceback: bool) -> None:
    """Declarative YAML workflows for Asysco AMT Batch Servers."""


for _module in (run, runs, operator, definitions, tools):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def _show_error(exc: AmtflowError) -> None:
    if isinstance(exc, DefinitionError) and exc.diagnostics:
        from amtflow.report import diagnostics

        diagnostics.show_errors(exc.diagnostics)
    else:
        report.error(str(exc))


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EIO)


def _want_traceback() -> bool:
    return "--traceback" in sys.argv[1:] or os.environ.get("AMTFLOW_TRACEBACK") == "1"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every error ends in one clear line and a non-zero exit status."""
    report.command_begins()
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
    except OSError as exc:
        if exc.errno not in _DISK_FULL:  # a bug, as below
            raise
        # what click writes itself (--help, --version) to an output on a full disk
        report.error(f"cannot write the output: {exc.strerror}")
        status = 1
    except Exception as exc:  # a bug: still one line, details on request
        if _want_traceback():
            traceback.print_exc()
        report.error(f"internal error: {type(exc).__name__} (run with --traceback for details)")
        status = 70
    sys.exit(_with_output_written(status if isinstance(status, int) else 0))


def _with_output_written(status: int) -> int:
    """``status``, or 1 in place of 0 with one line when standard output was lost (a full
    disk): ``amtflow export cron > crontab.txt`` must not pass an empty file as written."""
    lost = report.output_lost()
    if lost is None:
        return status
    report.error(f"cannot write the output: {lost}")
    return status or 1
