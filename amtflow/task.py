"""One AMT task: what an OpConJobAction Start asks an AMT Batch Server to run.

The same frozen value goes from the definitions to the wire: a ``MasterJob`` holds it unresolved
(its texts may carry ``[[PROPERTY]]`` references), planning resolves it once (``amtflow.plan``
makes an ``amtflow.request.AmtRequest`` of it), the engine starts it and the job log shows it; only ``amtflow.client.wire`` turns it into the
JSON fields of a Start (docs/amt-api.md). A field added here is added in those places only.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class TaskType(str, enum.Enum):
    """What the task starts: an AMT batch job or a script (stable strings: journalled)."""

    BATCH_JOB = "batch_job"
    SCRIPT = "script"


@dataclass(frozen=True)
class AmtTask:
    """The fields of the vendor's task form, with its defaults.

    ``name`` is the AMT job (batch_job) or the script (script) to run; ``parameters`` are a batch
    job's task values, or a script's ``NAME=value`` parameters (a name never holds ``=``).
    """

    type: TaskType
    application: str
    name: str
    parameters: tuple[str, ...] = ()
    submit_user: str = "BATCH"
    user: str | None = None  # RunAs
    station: str = "OPCON"
    queue: str | None = None

    def texts(self) -> list[str]:
        """Every text the task sends (a script parameter as its name and its value)."""
        texts = [self.application, self.submit_user, self.station, self.name]
        texts += [part for parameter in self.parameters for part in self._parts(parameter)]
        return [*texts, *(text for text in (self.user, self.queue) if text is not None)]

    def mapped(self, change: Callable[[str], str]) -> AmtTask:
        """The task with ``change`` applied to every text it sends, in the order of the form."""

        def optional(text: str | None) -> str | None:
            return None if text is None else change(text)

        application, submit_user = change(self.application), change(self.submit_user)
        user, station, queue = optional(self.user), change(self.station), optional(self.queue)
        return AmtTask(
            type=self.type,
            application=application,
            name=change(self.name),
            parameters=tuple("=".join(map(change, self._parts(p))) for p in self.parameters),
            submit_user=submit_user,
            user=user,
            station=station,
            queue=queue,
        )

    def _parts(self, parameter: str) -> tuple[str, ...]:
        """A parameter's texts: a task value whole, a script parameter as name and value (each
        resolved on its own, as written in the definitions)."""
        if self.type is TaskType.SCRIPT:
            name, _, value = parameter.partition("=")
            return name, value
        return (parameter,)
