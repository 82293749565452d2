"""What a report needs to know of each job beyond its attempts: its agent and its dependencies.

One shape from any source: the plan a run is carrying out (``amtflow run --html``), the plan the
journal recorded when a past run began (``amtflow report``), or, for a run recorded before the
journal kept plans, the definitions file it began from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from amtflow import definitions as defs
from amtflow.errors import AmtflowError
from amtflow.model import Schedule
from amtflow.orchestration.record import RecordedPlan
from amtflow.plan import Plan
from amtflow.runs import RunRecord

UNKNOWN_AGENT = "(agent unknown)"


@dataclass(frozen=True)
class JobFacts:
    agent: str
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunFacts:
    """Each job's facts, and a note for the page when they are missing or may be out of date."""

    jobs: Mapping[str, JobFacts] = field(default_factory=dict)
    note: str = ""

    def of(self, job: str) -> JobFacts:
        return self.jobs.get(job) or JobFacts(UNKNOWN_AGENT)

    @property
    def depends_on(self) -> dict[str, tuple[str, ...]]:
        return {name: facts.depends_on for name, facts in self.jobs.items()}


def plan_facts(plan: Plan) -> RunFacts:
    """The facts of the plan a run carries out."""
    return _schedule_facts(plan.schedule)


def recorded_facts(run: RunRecord) -> RunFacts:
    """The facts of a past run: from the plan the journal recorded for it, else (a run recorded
    before plans were kept) from its definitions file.

    Never fails: a plan that cannot be read, or definitions that are gone or no longer validate,
    leave the agents unknown and the critical path empty, and the page says why.
    """
    if run.plan:
        try:
            return plan_facts(RecordedPlan.from_json(run.plan, run.run_id).plan())
        except AmtflowError as exc:
            return RunFacts(note=f"agents and dependencies unknown: {exc}")
    properties = json.loads(run.options or "{}").get("properties") or {}
    try:
        definitions = defs.load([run.definitions], properties=properties)
    except AmtflowError as exc:
        return RunFacts(note=f"agents and dependencies unknown: {run.definitions}: {exc}")
    schedule = definitions.schedules.get(run.schedule)
    if schedule is None:
        return RunFacts(note=f"schedule {run.schedule} is no longer in {run.definitions}")
    facts = _schedule_facts(schedule)
    if run.digest and definitions.digest != run.digest:
        note = "the definitions changed since this run: agents and dependencies as they are now"
        return RunFacts(facts.jobs, note)
    return facts


def _schedule_facts(schedule: Schedule) -> RunFacts:
    return RunFacts(
        {
            job.name: JobFacts(job.agent, tuple(d.job for d in job.depends_on))
            for job in schedule.jobs
        }
    )
