"""What a finished run leaves for machines: the ``--json`` summary and JUnit XML, each job with
the span of its recorded attempts. Which files are asked for, and when they are written, is
``outputs.py``'s."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from amtflow.batch import completion_code
from amtflow.engine.timing import MISSED_START
from amtflow.report import terminal_safe, write_private
from amtflow.runs import JobOutcome, JobRunRecord, JobState
from amtflow.wording import SIMULATED, code_text, joined, seconds_between, state_word


@dataclass(frozen=True)
class JobSpan:
    """When a job ran, over all its attempts: the first start and the last end (ISO-8601)."""

    started_at: str | None = None
    ended_at: str | None = None

    @property
    def seconds(self) -> float | None:
        return seconds_between(self.started_at, self.ended_at)


def spans_of(records: Iterable[JobRunRecord]) -> dict[str, JobSpan]:
    """Each job's span from its recorded attempts (in the order they were recorded)."""
    spans: dict[str, JobSpan] = {}
    for record in records:
        first = spans.get(record.job, JobSpan()).started_at or record.started_at
        spans[record.job] = JobSpan(first, record.ended_at)
    return spans


def outcome_dict(o: JobOutcome, span: JobSpan | None = None) -> dict[str, object]:
    """One job of ``--json``: state values are the stored ones (``not_run``, docs/operations.md);
    times ISO-8601 with their offset; ``duration_seconds`` from the first start to the end."""
    span = span or JobSpan()
    return {
        "job": o.name,
        "name": o.name,  # the same, as --json wrote it first: kept for the scripts that read it
        "state": o.state.value,
        "completion_code": o.completion_code,
        "completion_name": None
        if o.completion_code is None
        else completion_code(o.completion_code).name,
        "attempts": o.attempts,
        "started_at": span.started_at,
        "ended_at": span.ended_at,
        "duration_seconds": span.seconds,
        "batch_request_id": o.batch_request_id,
        "log_path": o.log_path,
        "reason": o.reason,
        "late": bool(o.late),
        "late_reason": o.late,
        "missed_latest_start": o.state is JobState.NOT_RUN and o.reason.startswith(MISSED_START),
        "operator": operator_dict(o),
    }


def write_json(
    path: Path,
    run: Mapping[str, object],
    outcomes: Iterable[JobOutcome],
    spans: Mapping[str, JobSpan] | None = None,
) -> None:
    """A machine-readable summary of the run."""
    spans = spans or {}
    document = {**run, "jobs": [outcome_dict(o, spans.get(o.name)) for o in outcomes]}
    write_private(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))


_FAILURES = (JobState.FAILED, JobState.KILLED, JobState.NOT_RUN)


def write_junit(
    path: Path,
    schedule: str,
    outcomes: Iterable[JobOutcome],
    elapsed: float,
    spans: Mapping[str, JobSpan] | None = None,
    *,
    simulated: bool = False,
) -> None:
    """JUnit XML: each job a test case with its time. Failed, killed and ``not run`` jobs are
    failures (CI tools hide skipped cases, and a job that did not run is a problem); only a
    recovery branch that was not needed is skipped."""
    outcomes, spans = list(outcomes), spans or {}
    suite = ET.Element(
        "testsuite",
        name=schedule,
        tests=str(len(outcomes)),
        failures=str(sum(o.state in _FAILURES and not o.operator for o in outcomes)),
        errors="0",
        skipped=str(sum(o.state is JobState.SKIPPED for o in outcomes)),
        time=f"{elapsed:.3f}",
    )
    if simulated:
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name=SIMULATED, value="true")
    for o in outcomes:
        _junit_case(suite, schedule, o, spans.get(o.name, JobSpan()))
    write_private(path, ET.tostring(suite, encoding="utf-8", xml_declaration=True))


def _junit_case(suite: ET.Element, schedule: str, o: JobOutcome, span: JobSpan) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=schedule, name=o.name, time=f"{span.seconds or 0.0:.3f}"
    )
    reason = terminal_safe(o.reason)  # XML 1.0 cannot hold control characters
    if o.late:
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="late", value=o.late)
    if o.operator is not None:
        _operator_case(case, o)
    elif o.state is JobState.SKIPPED:
        ET.SubElement(case, "skipped", message=reason or state_word(o.state))
    elif o.state is not JobState.OK:
        words = joined((state_word(o.state), code_text(o.completion_code)))
        failure = ET.SubElement(
            case,
            "failure",
            type=state_word(o.state),
            message=f"{words}: {reason}" if reason else words,
        )
        failure.text = f"log: {o.log_path}" if o.log_path else None
    if o.late:
        ET.SubElement(case, "system-out").text = o.late


def _skipped_by_operator(o: JobOutcome) -> bool:
    return o.operator is not None and o.state is JobState.SKIPPED


def _operator_case(case: ET.Element, o: JobOutcome) -> None:
    """A job an operator skipped is a skipped case; one marked OK passes, and says so."""
    assert o.operator is not None
    said = terminal_safe(o.operator.said)
    properties = case.find("properties")
    if properties is None:
        properties = ET.SubElement(case, "properties")
    ET.SubElement(properties, "property", name="operator", value=said)
    if _skipped_by_operator(o):
        ET.SubElement(case, "skipped", message=said)
    else:
        reason = terminal_safe(o.reason)
        ET.SubElement(case, "system-out").text = f"{state_word(o.state)} ({reason}); {said}"


def operator_dict(o: JobOutcome) -> dict[str, str] | None:
    """What an operator did to the job that makes it count as OK: action, user, at."""
    if o.operator is None:
        return None
    record = o.operator
    return {"action": record.action.value, "user": record.user, "at": record.at}
