"""What the commands that run or act on runs share: which state dir records RUN, where the
servers are, and how a recorded run carried on is shown."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amtflow.orchestration.drive import RunOptions
    from amtflow.orchestration.servers import Servers


def of_run(state_dir: Path, run_id: str | None) -> Path:
    """The state dir recording RUN: this one, or its simulated runs' (``amtflow.state.apart``)."""
    if run_id is None:
        return state_dir
    from amtflow.state.apart import state_dir_of

    return state_dir_of(state_dir, run_id)


def servers() -> Servers:
    """Where runs find their servers: the agents' own, or the embedded simulator (--simulate)."""
    from amtflow.simulator.seam import AGENTS_OR_SIMULATOR

    return AGENTS_OR_SIMULATOR


def shown(
    state_dir: Path,
    live: bool | None,
    scenario: Path | None = None,
) -> RunOptions:
    """How a recorded run carried on is shown and reported; the rest comes from the journal."""
    from amtflow.orchestration.drive import RunOptions

    return RunOptions(
        definitions=Path(),
        date=dt.date.today(),
        log_dir=Path(),
        state_dir=state_dir,
        environ=dict(os.environ),
        scenario=scenario,
        live=sys.stdout.isatty() if live is None else live,
        servers=servers(),
    )
