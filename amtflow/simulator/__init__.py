"""The embedded AMT Batch Server simulator: docs/amt-api.md on loopback, scripted jobs, faults.

Used in-process by tests and ``amtflow run --simulate``, and on its own by ``amtflow simulator``.
"""

from __future__ import annotations

from amtflow.simulator.app import Simulator
from amtflow.simulator.faults import Faults
from amtflow.simulator.record import Record, RecordedRequest
from amtflow.simulator.scenario import ChildScript, JobScript, Scenario, TimedMessage

SIMULATED_PASSWORD = "simulated"
"""What amtflow logs on with to its own simulator, which takes any password: no secret is read."""

__all__ = [
    "SIMULATED_PASSWORD",
    "ChildScript",
    "Faults",
    "JobScript",
    "Record",
    "RecordedRequest",
    "Scenario",
    "Simulator",
    "TimedMessage",
]
