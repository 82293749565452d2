"""The run-once decision as a table: the recorded runs of a schedule date -> what ``run`` does."""

from __future__ import annotations

import pytest

from amtflow.orchestration.once import Action, PastRun, decide
from amtflow.runs import RunState

OK = PastRun("r-ok", RunState.OK, counts={"ok": 3})
FAILED = PastRun("r-failed", RunState.FAILED, counts={"ok": 1, "failed": 2, "not_run": 3})
STALE = PastRun("r-stale", RunState.RUNNING, pid=4242)
INTERRUPTED = PastRun("r-int", RunState.INTERRUPTED, pid=4243)
ABANDONED = PastRun("r-abandoned", RunState.ABANDONED)
SUBSET_OK = PastRun("r-subset", RunState.OK, selection=("A", "B"))
SUBSET_STALE = PastRun("r-subset-stale", RunState.RUNNING, selection=("A",), pid=7)
DAMAGED = "its recorded options in journal j.db cannot be read (Expecting value)"
UNREADABLE_OK = PastRun("r-unreadable", RunState.OK, unreadable=DAMAGED)
UNREADABLE_STALE = PastRun("r-unreadable-stale", RunState.RUNNING, pid=8, unreadable=DAMAGED)
UNREADABLE_ABANDONED = PastRun("r-unreadable-gone", RunState.ABANDONED, unreadable=DAMAGED)

# (past runs newest first, selection, --again) -> (action, the run it concerns)
TABLE = [
    ([], (), False, Action.NEW, None),
    ([], (), True, Action.NEW, None),
    ([OK], (), False, Action.ALREADY_RAN, "r-ok"),
    ([FAILED], (), False, Action.ALREADY_RAN, "r-failed"),
    ([FAILED, OK], (), False, Action.ALREADY_RAN, "r-failed"),  # the newest tells the truth
    ([OK], (), True, Action.NEW, None),
    ([FAILED], (), True, Action.NEW, None),
    ([STALE], (), False, Action.RESUME, "r-stale"),
    ([INTERRUPTED], (), False, Action.RESUME, "r-int"),
    ([STALE], (), True, Action.REFUSE, "r-stale"),
    ([INTERRUPTED, OK], (), True, Action.REFUSE, "r-int"),
    ([OK, STALE], (), False, Action.RESUME, "r-stale"),  # an older unfinished run still counts
    ([ABANDONED], (), False, Action.NEW, None),
    ([ABANDONED, OK], (), False, Action.ALREADY_RAN, "r-ok"),
    ([SUBSET_OK], (), False, Action.NEW, None),  # a subset is its own unit
    ([SUBSET_OK], ("A", "B"), False, Action.ALREADY_RAN, "r-subset"),
    ([OK], ("A", "B"), False, Action.NEW, None),
    ([SUBSET_STALE], (), False, Action.REFUSE, "r-subset-stale"),  # may run the same jobs
    ([SUBSET_STALE], ("A",), False, Action.RESUME, "r-subset-stale"),
    # a run whose recorded options cannot be read: its selection is unknown
    ([UNREADABLE_OK], (), False, Action.REFUSE, "r-unreadable"),
    ([UNREADABLE_OK], ("A",), False, Action.REFUSE, "r-unreadable"),
    ([UNREADABLE_OK], (), True, Action.NEW, None),  # finished: --again as for any finished run
    ([OK, UNREADABLE_OK], (), False, Action.ALREADY_RAN, "r-ok"),  # a newer run answers
    ([UNREADABLE_STALE], (), False, Action.REFUSE, "r-unreadable-stale"),  # never resumed blind
    ([UNREADABLE_STALE], (), True, Action.REFUSE, "r-unreadable-stale"),
    ([UNREADABLE_ABANDONED], (), False, Action.NEW, None),  # abandoned: set aside
]


@pytest.mark.parametrize(("past", "selection", "again", "action", "run"), TABLE)
def test_the_run_once_rules(
    past: list[PastRun], selection: tuple[str, ...], again: bool, action: Action, run: str | None
) -> None:
    decision = decide("NIGHTLY", "2026-11-24", past, selection, again=again)
    assert decision.action is action
    assert (decision.run.run_id if decision.run else None) == run


def test_already_ran_says_how_it_ended_and_what_to_do() -> None:
    decision = decide("NIGHTLY", "2026-11-24", [FAILED])
    assert decision.message == (
        "NIGHTLY 2026-11-24 already ran: run r-failed ended failed (2 failed, 3 not run); "
        "amtflow rerun r-failed to rerun failed jobs, --again for a new run"
    )
    assert decide("NIGHTLY", "2026-11-24", [OK]).message == (
        "NIGHTLY 2026-11-24 already ran: run r-ok ended ok (3 ok); --again for a new run"
    )
    assert (FAILED.exit_status, OK.exit_status) == (1, 0)


def test_resume_and_refusals_name_the_run_and_its_runner() -> None:
    assert decide("NIGHTLY", "2026-11-24", [STALE]).message == (
        "resuming run r-stale of NIGHTLY 2026-11-24: its runner (pid 4242) is gone"
    )
    refused = decide("NIGHTLY", "2026-11-24", [STALE], again=True).message
    assert refused.startswith("--again refused: run r-stale of NIGHTLY 2026-11-24 did not finish")
    assert "amtflow abandon r-stale" in refused
    other = decide("NIGHTLY", "2026-11-24", [SUBSET_STALE]).message
    assert "run r-subset-stale of NIGHTLY 2026-11-24 (jobs A) did not finish" in other


SIM_OK = PastRun("r-sim-ok", RunState.OK, simulated=True)
SIM_STALE = PastRun("r-sim-stale", RunState.RUNNING, pid=99, simulated=True)

# A simulated run and a real run of a date are different units (a journal may hold both).
SIMULATED_TABLE = [
    ([SIM_OK], False, Action.NEW, None),  # a simulated run never makes the real run "already ran"
    ([SIM_STALE], False, Action.NEW, None),  # nor blocks it: its simulator died with its runner
    ([SIM_OK, OK], False, Action.ALREADY_RAN, "r-ok"),
    ([OK], True, Action.NEW, None),  # and a real run does not stop a simulated try-out
    ([SIM_OK, OK], True, Action.ALREADY_RAN, "r-sim-ok"),
    ([SIM_STALE, OK], True, Action.RESUME, "r-sim-stale"),
]


@pytest.mark.parametrize(("past", "simulated", "action", "run_id"), SIMULATED_TABLE)
def test_simulated_and_real_runs_of_a_date_are_apart(
    past: list[PastRun], simulated: bool, action: Action, run_id: str | None
) -> None:
    decision = decide("NIGHTLY", "2026-11-24", past, simulated=simulated)
    assert decision.action is action
    assert (decision.run.run_id if decision.run else None) == run_id


def test_an_unreadable_run_is_refused_in_one_line_with_the_way_forward() -> None:
    for simulated in (False, True):  # the damaged options no longer say which it was
        finished = decide("NIGHTLY", "2026-11-24", [UNREADABLE_OK], simulated=simulated)
        assert finished.message == (
            f"run r-unreadable of NIGHTLY 2026-11-24: {DAMAGED}: amtflow abandon r-unreadable "
            "sets it aside (its jobs and logs stay recorded) and the next run of the date is a "
            "new one; --again starts one now"
        )
    stale = decide("NIGHTLY", "2026-11-24", [UNREADABLE_STALE]).message
    assert stale.startswith(f"run r-unreadable-stale of NIGHTLY 2026-11-24: {DAMAGED}: ")
    assert stale.endswith(
        "it did not finish (its runner (pid 8) is gone): amtflow resume r-unreadable-stale "
        "carries it on instead"
    )
