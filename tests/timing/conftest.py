from __future__ import annotations

from tests.run.conftest import start_simulator

__all__ = ["start_simulator"]
