"""The embedded AMT Batch Server simulator: docs/amt-api.md on loopback, scripted jobs, faults.

Used in-process by tests and ``amtflow run --simulate``, and on its own by ``amtflow simulator``.
Its names are imported when first used: every ``amtflow run`` imports ``simulator.seam``, and
only a simulated one needs the server (aiohttp.web, about a tenth of a second of imports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtflow.lazy import lazy_names

if TYPE_CHECKING:
    from amtflow.simulator.app import Simulator
    from amtflow.simulator.faults import Faults
    from amtflow.simulator.record import Record, RecordedRequest
    from amtflow.simulator.scenario import ChildScript, JobScript, Scenario, TimedMessage
    from amtflow.simulator.seam import SIMULATED_PASSWORD

_HOMES = {
    "SIMULATED_PASSWORD": "amtflow.simulator.seam",
    "ChildScript": "amtflow.simulator.scenario",
    "Faults": "amtflow.simulator.faults",
    "JobScript": "amtflow.simulator.scenario",
    "Record": "amtflow.simulator.record",
    "RecordedRequest": "amtflow.simulator.record",
    "Scenario": "amtflow.simulator.scenario",
    "Simulator": "amtflow.simulator.app",
    "TimedMessage": "amtflow.simulator.scenario",
}

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


__getattr__ = lazy_names(__name__, _HOMES, globals())
