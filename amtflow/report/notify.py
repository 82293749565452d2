"""What ``amtflow notify test`` shows: one line per URL of the notification (never the URL)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape

from amtflow.notify import TestResult

from . import stdout, terminal_safe


def test_results(results: Sequence[TestResult]) -> None:
    """``notification 'ops' URL 1 (json): delivered`` or ``...: NOT delivered: why``."""
    for result in results:
        label = escape(terminal_safe(result.label))
        if result.delivered:
            stdout.print(f"{label}: [green]delivered[/]")
        elif result.reason:
            stdout.print(f"{label}: [red]NOT delivered[/]: {escape(terminal_safe(result.reason))}")
        else:
            stdout.print(f"[red]{label}[/]")
    sent = sum(result.delivered for result in results)
    stdout.print(f"{sent} of {len(results)} URLs got the test message")
