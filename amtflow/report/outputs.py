"""What a run leaves for machines at its end, and how the command exits: the ``--json``,
``--junit`` and ``--html`` files, written by the edge (``cli/``, the Python API) from the
``RunResult`` the core returns."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from amtflow.errors import AmtflowError, Interrupted, UsageError
from amtflow.report import run_concluded, runfiles, warning
from amtflow.report import runview as view
from amtflow.runs import RunResult
from amtflow.state import Journal


@dataclass(frozen=True)
class RunOutputs:
    """The files a run's end is written to, when asked for."""

    json_path: Path | None = None
    junit_path: Path | None = None
    html_path: Path | None = None

    def check(self) -> None:
        """``--json``/``--junit`` files can be written: checked before anything starts."""
        for path in (self.json_path, self.junit_path):
            if path is not None:
                _check_writable(path)


def conclude(result: RunResult, outputs: RunOutputs, state_dir: Path) -> int:
    """Write ``outputs`` of ``result``, then give its exit status; raises ``Interrupted`` (after
    the files) when a signal cut the run short."""
    run_concluded()
    if result.run_id:  # a run was carried out, or had run: nothing to write for "nothing to run"
        _write_summaries(outputs, result, state_dir)
        _write_html(outputs.html_path, state_dir, result)
    if result.signal is not None:
        raise Interrupted(result.signal)
    return result.exit_status


def _write_summaries(outputs: RunOutputs, result: RunResult, state_dir: Path) -> None:
    """``--json`` and ``--junit``, with each job's times and whether the run was simulated, as
    the journal recorded them."""
    if not (outputs.json_path or outputs.junit_path):
        return
    with Journal.open(state_dir, read_only=True) as journal:
        spans = runfiles.spans_of(journal.job_runs(result.run_id))
        simulated = journal.run(result.run_id).simulated
    run = {
        "run_id": result.run_id,
        "schedule": result.schedule,
        "date": result.date.isoformat() if result.date else "",
        "state": result.state.value,
        "exit_status": result.exit_status,
        "began": result.began.value,
        "simulated": simulated,
    }
    if outputs.json_path:
        with _only_warned():
            runfiles.write_json(outputs.json_path, run, result.outcomes, spans)
    if outputs.junit_path:
        with _only_warned():
            runfiles.write_junit(
                outputs.junit_path,
                result.schedule,
                result.outcomes,
                result.elapsed,
                spans,
                simulated=simulated,
            )


@contextlib.contextmanager
def _only_warned() -> Iterator[None]:
    """A file of the run's end that cannot be written (checked up front; the disk filled up
    since) is a warning: the run happened, and its exit status says how it went, as when its
    stdout is gone. The other files are still written."""
    try:
        yield
    except AmtflowError as exc:
        warning(str(exc))


def _write_html(html_path: Path | None, state_dir: Path, result: RunResult) -> None:
    """The run's HTML report: one that cannot be written is a warning, never a failed run. Its
    facts come from the plan the run carried out, else (a date that already ran) the journal."""
    if html_path is None:
        return
    from amtflow.report import html as html_report  # only for --html: not every run's import

    facts = {name: html_report.JobFacts(*job) for name, job in result.jobs.items()}
    try:
        html_report.write_run_report(
            state_dir, result.run_id, html_path, html_report.RunFacts(facts) if facts else None
        )
    except AmtflowError as exc:
        warning(str(exc))
    else:
        view.report_written(html_path, f"run {result.run_id}")


def _check_writable(path: Path) -> None:
    folder = path.absolute().parent
    if path.is_dir():
        raise UsageError(f"{path}: is a folder, not a file to write the run's summary to")
    if not folder.is_dir():
        raise UsageError(f"{path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{path}: folder {folder} is not writable")
