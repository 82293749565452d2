"""The public Python API, exported by ``amtflow`` itself (see ``docs/api.md``).

    definitions = amtflow.load(["definitions/nightly.yaml"])     # or amtflow.validate(...)
    plan = amtflow.make_plan(definitions, datetime.date(2026, 11, 24))
    result = amtflow.run(plan, definitions, simulate=True)       # await amtflow.run_async(...)

A thin layer over the pipeline that ``amtflow validate``, ``plan`` and ``run`` use, so that a
program embeds the same behaviour: the journal, the run lock, job logs and the terminal lines of
``amtflow run --plain``. Errors are ``amtflow.AmtflowError`` subclasses, as for the CLI.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from amtflow.definitions import load, validate
from amtflow.definitions.project import DEFAULT_LOG_DIR, DEFAULT_STATE_DIR
from amtflow.errors import UsageError
from amtflow.model import Definitions
from amtflow.orchestration.drive import RunOptions
from amtflow.orchestration.schedule_date import run_plan
from amtflow.orchestration.servers import AGENTS, Servers
from amtflow.plan import Plan
from amtflow.plan import plan_for as make_plan
from amtflow.report.outputs import RunOutputs, conclude
from amtflow.runs import RunResult
from amtflow.simulator.seam import AGENTS_OR_SIMULATOR
from amtflow.state.apart import simulated_log_dir, simulated_state_dir

__all__ = ["load", "make_plan", "run", "run_async", "validate"]

P = ParamSpec("P")
T = TypeVar("T")


async def run_async(
    plan: Plan,
    definitions: Definitions,
    *,
    state_dir: Path | str | None = None,
    log_dir: Path | str | None = None,
    max_parallel: int = 50,
    simulate: bool = False,
    scenario: Path | str | None = None,
) -> RunResult:
    """Run ``plan`` (made from ``definitions``) as ``amtflow run`` does; the result's
    ``exit_status`` is the one the command would exit with.

    ``simulate`` runs it on the embedded AMT Batch Server simulator (``scenario``: a scenario
    file). The state dir defaults to ``.amtflow`` and the log dir to ``.amtflow/logs``; a
    simulated run's, when not given, to ``.amtflow/simulated`` and ``.amtflow/simulated/logs``
    (kept apart from real runs, as ``amtflow run --simulate`` keeps them). SIGINT and SIGTERM interrupt the run and raise ``Interrupted`` after the summary; from
    another thread than the main one it raises ``UsageError`` before anything starts.
    """
    _check_call(simulate=simulate, scenario=scenario)
    root = Path(definitions.files[0]) if definitions.files else Path()
    state, logs = _dirs(state_dir, log_dir, simulate=simulate)
    options = RunOptions(
        definitions=root.absolute(),
        date=plan.date,
        log_dir=logs.absolute(),
        state_dir=state,
        schedule=plan.schedule.name,
        jobs=plan.selected,
        max_parallel=max_parallel,
        simulate=simulate,
        scenario=Path(scenario) if scenario is not None else None,
        servers=_servers(simulate),
    )
    result = await run_plan(options, definitions, plan)
    conclude(result, RunOutputs(), options.state_dir)  # Interrupted, as for the command
    return result


def _servers(simulate: bool) -> Servers:
    """The agents' own servers, or the embedded simulator."""
    return AGENTS_OR_SIMULATOR if simulate else AGENTS


def _dirs(
    state_dir: Path | str | None, log_dir: Path | str | None, *, simulate: bool
) -> tuple[Path, Path]:
    """The state and log dirs: as given, else the defaults (a simulated run's kept apart)."""
    base = Path(DEFAULT_STATE_DIR)
    state = simulated_state_dir(base) if simulate else base
    logs = simulated_log_dir(base) if simulate else Path(DEFAULT_LOG_DIR)
    return (
        Path(state_dir) if state_dir is not None else state,
        Path(log_dir) if log_dir is not None else logs,
    )


def _check_call(*, simulate: bool, scenario: object) -> None:
    """Refuse a call that cannot work, before anything is recorded."""
    if scenario is not None and not simulate:
        raise UsageError("a scenario goes with simulate=True")
    if threading.current_thread() is not threading.main_thread():
        # The runner turns SIGINT/SIGTERM into kills: Python allows signal handlers in the main
        # thread only, and would fail half-way, with the run already recorded.
        raise UsageError("amtflow.run handles SIGINT and SIGTERM: call it from the main thread")


def _blocking(function: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """``function`` in an event loop of its own, for code that is not async."""

    @functools.wraps(function)
    def blocking(*args: P.args, **kwargs: P.kwargs) -> T:
        return asyncio.run(function(*args, **kwargs))

    blocking.__doc__ = f"``{function.__name__}`` in an event loop of its own (``asyncio.run``)."
    blocking.__name__ = blocking.__qualname__ = function.__name__.removesuffix("_async")
    return blocking


run = _blocking(run_async)
