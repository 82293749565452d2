from __future__ import annotations

from tests.client.conftest import client, mocked, session
from tests.notify.conftest import webhook
from tests.run.conftest import start_simulator

__all__ = ["client", "mocked", "session", "start_simulator", "webhook"]
