"""An AMT task resolved for one run: every ``[[PROPERTY]]`` substituted, its environment values
masked wherever it is shown and kept as references wherever it is recorded. Pure: planning
resolves each job's task once (``plan.py``); the journal and the engine carry it on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from amtflow.errors import DefinitionError
from amtflow.model import MasterJob
from amtflow.properties import PropertyContext, secret_values, substitute
from amtflow.task import AmtTask


@dataclass(frozen=True, repr=False)
class AmtRequest:
    """A job's task with every property resolved: a Start without its task id.

    ``shown`` is the same task as every output must show it: values that came from the
    environment (``[[ENV:...]]``) written as ``********``. The real one goes only to the server.
    """

    task: AmtTask
    masked: AmtTask | None = field(default=None, compare=False)  # when secrets are in it
    secrets: tuple[str, ...] = field(default=(), compare=False)  # the real values masked
    kept: AmtTask | None = field(default=None, compare=False)  # with [[ENV:...]] unresolved

    def __repr__(self) -> str:
        shown = self.shown
        return f"AmtRequest({shown.type.value} {shown.name!r} {shown.parameters!r})"

    @property
    def shown(self) -> AmtTask:
        """The task with its secrets masked: what plans, logs and reports print."""
        return self.masked or self.task

    @property
    def recorded(self) -> AmtRequest:
        """The request as the journal keeps it: environment values as their ``[[ENV:NAME]]``
        references, never the values (``with_environment`` makes it whole again)."""
        return AmtRequest(self.kept) if self.kept else self

    def with_environment(self, environ: Mapping[str, str]) -> AmtRequest:
        """A recorded request made whole again: its ``[[ENV:...]]`` references resolved,
        masked and secret values as ``resolve_request`` gives them."""
        texts = self.task.texts()
        if not any("[[ENV:" in text for text in texts):
            return self
        ctx = PropertyContext({}, environ, "", "", dt.date.min)
        real = self.task.mapped(lambda text: substitute(text, ctx))
        masked_ctx = dataclasses.replace(ctx, masked=True)
        masked = self.task.mapped(lambda text: substitute(text, masked_ctx))
        return AmtRequest(real, masked, secret_values(texts, ctx), kept=self.task)

    @property
    def secret(self) -> bool:
        """Whether any value of the task came from the environment."""
        return self.masked is not None


def resolve_request(job: MasterJob, context: PropertyContext) -> AmtRequest:
    """The job's task with its properties substituted for ``context``'s date.

    Resolved twice when it holds environment values: once as sent, once masked (``shown``).
    """
    texts = job.task.texts()
    if not any("[[" in text for text in texts):  # no reference: nothing to resolve or mask
        return AmtRequest(job.task)
    ctx = dataclasses.replace(context, job_name=job.name, masked=False)
    task = _resolved(job.task, ctx)
    masked = _resolved(job.task, dataclasses.replace(ctx, masked=True))
    if masked == task:
        return AmtRequest(task)
    secrets = secret_values(texts, ctx)
    kept = _resolved(job.task, dataclasses.replace(ctx, kept_env=True))
    return AmtRequest(task, masked, secrets, kept)


def _resolved(task: AmtTask, ctx: PropertyContext) -> AmtTask:
    return task.mapped(lambda text: substitute(text, ctx))


def resolve_all(running: Sequence[MasterJob], context: PropertyContext) -> dict[str, AmtRequest]:
    """Each job's request for ``context``; ``DefinitionError`` names every job that does not
    resolve, at once."""
    requests: dict[str, AmtRequest] = {}
    problems: list[str] = []
    for job in running:
        try:
            requests[job.name] = resolve_request(job, context)
        except DefinitionError as exc:
            where = f"{job.location}: " if job.location else ""
            problems.append(f"{where}job {job.name}: {exc}")
    if problems:
        raise DefinitionError("; ".join(problems))
    return requests
