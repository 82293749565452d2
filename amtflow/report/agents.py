"""How ``amtflow agents check`` and ``amtflow simulator`` show their results."""

from __future__ import annotations

from collections.abc import Sequence

from amtflow.client.check import AgentCheck
from amtflow.report import plain, shown, stderr, stdout


def show_checks(checks: Sequence[AgentCheck]) -> None:
    """One line per agent, then a count; problems say what to fix."""
    for check in checks:
        stdout.print(_line(check))
    failed = sum(1 for check in checks if not check.ok)
    if not checks:
        stdout.print("no agents defined")
    elif failed:
        stderr.print(f"[bold red]{failed} of {len(checks)} agent(s) failed the check[/]")
    else:
        stdout.print(f"[green]all {len(checks)} agent(s) OK[/]")


def _line(check: AgentCheck) -> str:
    name, url = shown(check.agent), shown(check.url)
    if check.skipped:
        return f"[yellow]SKIP[/] {name} {url}: {shown(check.problem)}"
    if check.ok:
        return f"[green]OK[/]   {name} {url} (AMT {shown(check.version or '?')})"
    return f"[bold red]FAIL[/] {name} {url}: {shown(check.problem)}"


def simulator_listening(url: str) -> None:
    """The first line ``amtflow simulator`` prints: where it listens (read by scripts)."""
    plain(f"AMT Batch Server simulator listening on {url} (Ctrl-C to stop)")


def simulator_stopped() -> None:
    stderr.print("simulator stopped")
