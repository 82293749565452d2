"""amtflow: declarative YAML workflows for Asysco AMT Batch Servers."""

from __future__ import annotations

__version__ = "0.1.0"
