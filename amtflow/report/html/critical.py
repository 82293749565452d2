"""The critical path of a run: the chain of dependencies that decided its length. Pure.

Walking back from the job that ended last, each step goes to the dependency that ended last
among those that ran: the one whose end released the job. The walk stops at a job none of whose
dependencies ran. Ties go to the later start, then to the name, so the answer never depends on
the order the journal returned rows in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """When a job occupied the run: its first attempt's Start to its last attempt's end."""

    start: float  # seconds since the run began
    end: float  # seconds since the run began; "now" for a job still running


def critical_path(
    spans: Mapping[str, Span], depends_on: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    """The jobs of the critical path, first to last; empty when no job ran."""
    if not spans:
        return ()
    chain = [_latest(spans, spans)]
    seen = set(chain)
    while True:
        ran = [d for d in depends_on.get(chain[-1], ()) if d in spans and d not in seen]
        if not ran:
            return tuple(reversed(chain))
        chain.append(_latest(spans, ran))
        seen.add(chain[-1])


def _latest(spans: Mapping[str, Span], names: Sequence[str] | Mapping[str, Span]) -> str:
    return max(names, key=lambda name: (spans[name].end, spans[name].start, name))
