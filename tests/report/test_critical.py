"""The critical path as a table: spans and dependencies in, the chain that decided the run out."""

from __future__ import annotations

import pytest

from amtflow.report.html.critical import Span, critical_path

S = Span

CASES = [
    # (what, spans, depends_on, chain)
    ("no job ran", {}, {}, ()),
    ("one job", {"A": S(0, 5)}, {}, ("A",)),
    (
        "a chain",
        {"A": S(0, 2), "B": S(2, 5), "C": S(5, 6)},
        {"B": ["A"], "C": ["B"]},
        ("A", "B", "C"),
    ),
    (
        "the latest dependency released the job",
        {"A": S(0, 2), "B": S(0, 4), "C": S(4, 6)},
        {"C": ["A", "B"]},
        ("B", "C"),
    ),
    (
        "the job that ended last starts the walk, not the longest",
        {"LONG": S(0, 9), "X": S(0, 1), "Y": S(1, 10)},
        {"Y": ["X"]},
        ("X", "Y"),
    ),
    (
        "a dependency that did not run is passed over",
        {"A": S(0, 2), "C": S(3, 4)},
        {"C": ["A", "NOTRUN"]},
        ("A", "C"),
    ),
    ("no dependency ran: the chain is the last job", {"C": S(3, 4)}, {"C": ["NOTRUN"]}, ("C",)),
    (
        "a tie on the end goes to the later start",
        {"A": S(0, 4), "B": S(1, 4), "C": S(4, 5)},
        {"C": ["A", "B"]},
        ("B", "C"),
    ),
    (
        "a tie on end and start goes to the name, whatever the order given",
        {"B": S(0, 4), "A": S(0, 4), "C": S(4, 5)},
        {"C": ["B", "A"]},
        ("B", "C"),
    ),
    (
        "a diamond follows the slower branch",
        {"A": S(0, 1), "FAST": S(1, 2), "SLOW": S(1, 6), "Z": S(6, 7)},
        {"FAST": ["A"], "SLOW": ["A"], "Z": ["FAST", "SLOW"]},
        ("A", "SLOW", "Z"),
    ),
    (
        "a job still running ends now and can be the last",
        {"A": S(0, 2), "RUNNING": S(2, 30), "DONE": S(0, 20)},
        {"RUNNING": ["A"]},
        ("A", "RUNNING"),
    ),
    (
        "a cycle in broken data never loops",
        {"A": S(0, 2), "B": S(2, 4)},
        {"A": ["B"], "B": ["A"]},
        ("A", "B"),
    ),
]


@pytest.mark.parametrize(
    ("spans", "depends_on", "chain"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_critical_path(
    spans: dict[str, Span], depends_on: dict[str, list[str]], chain: tuple[str, ...]
) -> None:
    assert critical_path(spans, depends_on) == chain
