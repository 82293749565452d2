"""The embedded AMT Batch Server simulator: docs/amt-api.md on loopback, scripted jobs, faults.

Used in-process by tests and ``amtflow run --simulate``, and on its own by ``amtflow simulator``.
"""

from __future__ import annotations

from amtflow.simulator.app import Simulator
from amtflow.simulator.faults import Faults
from amtflow.simulator.record import Record, RecordedRequest
from amtflow.simulator.scenario import ChildScript, JobScript, Scenario, TimedMessage
from amtflow.simulator.seam import SIMULATED_PASSWORD

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
