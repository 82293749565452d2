"""The embedded AMT Batch Server simulator: docs/amt-api.md on loopback, scripted jobs, faults.

Used in-process by tests and ``amtflow run --simulate``, and on its own by ``amtflow simulator``.
Its names are imported when first used: every ``amtflow run`` imports ``simulator.seam``, and
only a simulated one needs the server (aiohttp.web, about a tenth of a second of imports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amtflow.simulator.app import Simulator
    from amtflow.simulator.faults import Faults
    from amtflow.simulator.record import Record, RecordedRequest
    from amtflow.simulator.scenario import ChildScript, JobScript, Scenario, TimedMessage
    from amtflow.simulator.seam import SIMULATED_PASSWORD

_HOMES = {
    "SIMULATED_PASSWORD": "seam",
    "ChildScript": "scenario",
    "Faults": "faults",
    "JobScript": "scenario",
    "Record": "record",
    "RecordedRequest": "record",
    "Scenario": "scenario",
    "Simulator": "app",
    "TimedMessage": "scenario",
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


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
