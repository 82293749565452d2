"""Whether a ready job can start: its agent, and each of its dependencies against the outcome
of the job it depends on (pure: the engine asks, once per ready job)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from amtflow.model import Agent, Condition, Dependency
from amtflow.plan import PlannedJob
from amtflow.runs import JobOutcome, JobState
from amtflow.wording import state_word


def why_not_run(
    planned: PlannedJob, agent: Agent, outcomes: Mapping[str, JobOutcome]
) -> tuple[JobState, str]:
    """NOT_RUN or SKIPPED with the reason, or a reason of "" when the job may start: a reason
    that leaves it NOT_RUN wins over one that only makes it not needed (SKIPPED)."""
    if not agent.enabled:
        return JobState.NOT_RUN, f"agent {agent.name} has communication disabled"
    unmet_deps = [unmet(dep, outcomes[dep.job]) for dep in planned.depends_on]
    reasons = [reason for reason in unmet_deps if reason[1]]
    hard = [reason for reason in reasons if reason[0] is JobState.NOT_RUN]
    return (hard or reasons or [(JobState.NOT_RUN, "")])[0]


def unmet(dependency: Dependency, outcome: JobOutcome) -> tuple[JobState, str]:
    """Why ``dependency`` can no longer be met by ``outcome`` ("" when it is met), and whether
    that leaves the waiting job NOT_RUN (something went wrong) or SKIPPED (it is not needed:
    a recovery path whose failure did not happen). A job an operator skipped or marked OK
    counts as ended OK."""
    state, job = outcome.state, dependency.job
    if outcome.operator is not None:
        state = JobState.OK
    if state is JobState.SKIPPED:
        if dependency.on is Condition.FINISHED:
            return JobState.SKIPPED, ""
        return JobState.SKIPPED, f"depends on {job}, which was skipped"
    if state is JobState.NOT_RUN:
        return JobState.NOT_RUN, f"depends on {job}, which was not run"
    if state is JobState.RUNNING:
        return JobState.NOT_RUN, f"depends on {job}, which did not end"
    if dependency.on is Condition.OK and state is not JobState.OK:
        return JobState.NOT_RUN, f"depends on {job} ending OK; it ended {state_word(state)}"
    if dependency.on is Condition.FAILED and state is JobState.OK:
        return JobState.SKIPPED, f"runs only if {job} fails; it ended OK"
    return JobState.NOT_RUN, ""


def dependents_of(jobs: Iterable[PlannedJob]) -> dict[str, list[str]]:
    """The jobs that depend on each job, for only the jobs something depends on."""
    dependents: dict[str, list[str]] = {}
    for job in jobs:
        for dep in job.depends_on:
            dependents.setdefault(dep.job, []).append(job.name)
    return dependents
