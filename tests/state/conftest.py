from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from amtflow.state import Journal
from tests.run.conftest import start_simulator

__all__ = ["start_simulator"]

DATE = dt.date(2026, 11, 24)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def journal(state_dir: Path) -> Iterator[Journal]:
    with Journal.open(state_dir) as opened:
        yield opened
