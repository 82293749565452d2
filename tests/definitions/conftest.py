from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amtflow.cli import cli

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"


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
