"""Commands that try what runs depend on: agents check, notify test, and the embedded
simulator (an AMT Batch Server on loopback)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from amtflow.cli.options import definitions_paths, scenario_option


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=42000,
    show_default=True,
    help="Port to listen on (0: a free port).",
)
@scenario_option("Scenario YAML: scripted job behaviours.")
def simulator(host: str, port: int, scenario: Path | None) -> int:
    """Run the embedded AMT Batch Server simulator until Ctrl-C."""
    import asyncio

    from amtflow.report import agents as agents_report
    from amtflow.simulator.serve import serve

    try:
        asyncio.run(serve(host, port, scenario, agents_report.simulator_listening))
    except KeyboardInterrupt:
        agents_report.simulator_stopped()
    return 0


@click.group()
def agents() -> None:
    """Work with the agents (AMT Batch Server connections) of the definitions."""


@agents.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def agents_check(paths: tuple[Path, ...]) -> int:
    """Check every agent: reachable, credentials good, server version. Exit 1 if any fails."""
    import asyncio

    from amtflow import definitions
    from amtflow.client.check import check_all
    from amtflow.report import agents as agents_report

    checks = asyncio.run(check_all(definitions.load(definitions_paths(paths))))
    agents_report.show_checks(checks)
    return 0 if all(check.ok for check in checks) else 1


@click.group()
def notify() -> None:
    """Notifications: messages on run and job events through Apprise URLs."""


@notify.command("test")
@click.argument("name")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def notify_test(name: str, paths: tuple[Path, ...]) -> int:
    """Send a test message to every URL of notification NAME; exit 1 if one is not delivered.

    The notifications come from the definitions in PATH... (files or folders; default: the
    definitions roots of amtflow.yaml, else definitions/, as for validate).
    """
    import asyncio

    from amtflow import definitions
    from amtflow.definitions.checks import did_you_mean
    from amtflow.notify import send_test
    from amtflow.report import notify as notify_report

    known = definitions.load(definitions_paths(paths)).notifications
    if name not in known:
        hint = did_you_mean(name, set(known)) or f" (defined: {', '.join(sorted(known)) or 'none'})"
        raise click.UsageError(f"unknown notification '{name}'{hint}")
    results = asyncio.run(send_test(known[name], os.environ))
    notify_report.test_results(results)
    return 0 if results and all(result.delivered for result in results) else 1


COMMANDS = (simulator, agents, notify)
