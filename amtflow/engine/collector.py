"""The garbage collector while a run loads, plans and runs its jobs (issue 16,
docs/architecture.md "Cost per job").

A run of many short jobs makes a few hundred thousand container objects (futures, coroutines,
HTTP answers, journal rows) that reference counting frees as soon as they are done with.
CPython's cyclic collector still walks the young ones every 700 allocations, and from time to
time every object alive in its older generations: the definitions, the plan, the view, which
live as long as the run. Measured (GC callbacks) on zero-duration jobs: 0.42 s of collection in
a run of 2,000 jobs, 2.3 s in one of 10,000, some 8% of the run's CPU.

``quieter`` lets the young generation grow to ``YOUNG`` allocations before it is collected, and
freezes what is alive when it is entered (``gc.freeze``: modules, definitions, plan; nothing a
run lets go of) out of the collector's sight. ``amtflow run`` and the commands that carry a run
on enter it before they load anything (loading, planning and recording 10,000 jobs took
1.16-1.44 s of CPU with the collector as it was, 0.90-1.02 s so), the engine again when it
starts. Cyclic garbage is still collected, only less often: memory stays flat (``bench/run.py
--huge``). When the last one is left the thresholds come back and the frozen objects are handed
back to the collector (``gc.unfreeze``), so a process that carries out many runs (a test
session) frees them as before.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG = 10_000  # allocations between collections of the young generation (CPython: 700)
OLDER = 10  # collections of a generation between collections of the next one (CPython: 10)


class _Settled:
    """How many ``quieter`` sections are open in this process, and the thresholds to come back
    to: the first one in settles the collector, the last one out gives it back."""

    runs = 0
    before = gc.get_threshold()


@contextlib.contextmanager
def quieter() -> Iterator[None]:
    """Within: long-lived objects frozen, young ones collected every ``YOUNG`` allocations."""
    if _Settled.runs == 0:
        _Settled.before = gc.get_threshold()
        gc.set_threshold(YOUNG, OLDER, OLDER)
    gc.freeze()  # again when nested: what the outer part made (definitions, plan) lives on too
    _Settled.runs += 1
    try:
        yield
    finally:
        _Settled.runs -= 1
        if _Settled.runs == 0:
            gc.set_threshold(*_Settled.before)
            gc.unfreeze()
