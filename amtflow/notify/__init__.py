"""Notifications: messages on run and job events, through Apprise URLs (email, chat, webhooks).

The runner holds one ``RunNotices`` per run and calls it at each moment worth telling
(``run.py``); ``notify test`` sends a test message (``send_test``). Underneath:

    message.py    what a message says (title, bounded body, log tails): pure but for the tails
    notifier.py   who hears of what, batching of job events, background sends, records, warnings
    send.py       one message to one URL: own thread, timeout, tries, secrets masked

Sending never fails, slows or blocks a run; no URL (they hold tokens) is ever shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from amtflow.model import Notification, NotifyEvent

from .message import JobFact, RunFacts
from .run import RunNotices, closing, policy_from, refusal

__all__ = [
    "JobFact",
    "NotifyEvent",
    "RunFacts",
    "RunNotices",
    "TestResult",
    "closing",
    "refusal",
    "send_test",
]


@dataclass(frozen=True)
class TestResult:
    """How the test message went for one URL of a notification (``reason`` masked)."""

    __test__ = False  # not a pytest class

    label: str
    delivered: bool
    reason: str = ""


async def send_test(
    notification: Notification, environ: Mapping[str, str] | None = None
) -> list[TestResult]:
    """Send a test message to every URL of ``notification``; one result per URL, in order."""
    from .message import test_message
    from .notifier import usable_targets

    policy = policy_from(environ or {})
    problems: list[str] = []
    targets = usable_targets(notification, problems.append)
    results = [TestResult(problem, False) for problem in problems]
    for target in targets:
        outcome = await target.send(test_message(notification.name), policy)
        results.append(TestResult(target.label, outcome.delivered, outcome.reason))
    return results
