"""amtflow: declarative YAML workflows for Asysco AMT Batch Servers.

The public Python API is what ``__all__`` names (``docs/api.md``); everything else is private
and may change. The names are imported on first use, so ``import amtflow`` (and with it
``amtflow validate``'s start-up) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtflow.lazy import lazy_names

__version__ = "0.1.0"

if TYPE_CHECKING:
    from amtflow.api import load, make_plan, run, run_async, validate
    from amtflow.definitions.diagnostics import Diagnostic, Validation
    from amtflow.errors import AmtflowError, DefinitionError
    from amtflow.model import Agent, BatchUser, Definitions, MasterJob, Schedule
    from amtflow.plan import Plan, PlannedJob, SkippedJob
    from amtflow.runs import JobOutcome, JobState, RunResult, RunState

_HOMES = {
    "load": "amtflow.api",
    "validate": "amtflow.api",
    "make_plan": "amtflow.api",
    "run": "amtflow.api",
    "run_async": "amtflow.api",
    "Definitions": "amtflow.model",
    "Agent": "amtflow.model",
    "BatchUser": "amtflow.model",
    "Schedule": "amtflow.model",
    "MasterJob": "amtflow.model",
    "Validation": "amtflow.definitions.diagnostics",
    "Diagnostic": "amtflow.definitions.diagnostics",
    "Plan": "amtflow.plan",
    "PlannedJob": "amtflow.plan",
    "SkippedJob": "amtflow.plan",
    "RunResult": "amtflow.runs",
    "JobOutcome": "amtflow.runs",
    "JobState": "amtflow.runs",
    "RunState": "amtflow.runs",
    "AmtflowError": "amtflow.errors",
    "DefinitionError": "amtflow.errors",
}

__all__ = [
    "Agent",
    "AmtflowError",
    "BatchUser",
    "DefinitionError",
    "Definitions",
    "Diagnostic",
    "JobOutcome",
    "JobState",
    "MasterJob",
    "Plan",
    "PlannedJob",
    "RunResult",
    "RunState",
    "Schedule",
    "SkippedJob",
    "Validation",
    "__version__",
    "load",
    "make_plan",
    "run",
    "run_async",
    "validate",
]


__getattr__ = lazy_names(__name__, _HOMES, globals())
