"""What ``amtflow hold``, ``release``, ``skip`` and ``mark-ok`` say once the action is recorded."""

from __future__ import annotations

from amtflow.operator import OperatorAction
from amtflow.orchestration.operate import ActionAnswer, Runner
from amtflow.report import shown, stdout
from amtflow.report.status import next_step

_NEXT = {
    OperatorAction.HOLD: "{what} not start until amtflow release {run} {jobs}",
    OperatorAction.RELEASE: "{what} start as {their} dependencies allow",
    OperatorAction.SKIP: "{what} not run; {their} dependents treat {them} as ended OK",
    OperatorAction.MARK_OK: "{what} count as ended OK; the jobs not run because of {them} start "
    "as their dependencies allow",
}


def acted(answer: ActionAnswer) -> None:
    """One line: what was recorded, by whom and when, and what happens next."""
    first = answer.records[0]
    run_id = answer.run.run_id
    jobs = [record.job for record in answer.records]
    many = len(jobs) > 1
    then = _NEXT[first.action].format(
        what="they will" if many else "it will",
        run=run_id,
        jobs=" ".join(jobs),
        their="their" if many else "its",
        them="them" if many else "it",
    )
    line = (
        f"{first.action.past} {', '.join(jobs)} of run {run_id} "
        f"(by {first.user} at {first.at}): {then}"
    )
    if answer.runner is Runner.LIVE:
        line += "; the run's runner picks it up within a second"
    elif answer.runner is Runner.GONE:
        line += f"; the run's runner is gone: {next_step(answer.run)}"
    else:
        line += "; the run was carried on"
    stdout.print(shown(line))
