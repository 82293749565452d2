from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amtflow.cli import cli

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"

Write = Callable[[str, str], Path]  # the ``write`` fixture: (file name, text) -> its path


def schedule_head(schedule: str = "NIGHTLY") -> str:
    """A definitions file up to its one schedule's ``jobs:`` (a batch user ``u``, an agent
    ``amt``, defaults agent amt and application DEMO): jobs follow as items indented six spaces."""
    return f"""\
version: 1
batch_users:
  - {{name: u, identifier: U, password: {{env: P}}}}
agents:
  - {{name: amt, batch_server_url: "http://h:42000", batch_user: u}}
schedules:
  - name: {schedule}
    defaults: {{agent: amt, application: DEMO}}
    jobs:
"""


def run_cli(*args: str) -> Result:
    """Run amtflow in-process, as a user would call it."""
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a definition file (dedented) under a temp folder and return its path."""
    import textwrap

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    return _write
