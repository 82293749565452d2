"""Job log files and their retention (docs/architecture.md, joblog/).

One function decides where a log lives (``log_path``), ``JobLog`` writes it as the job runs and
rewrites it atomically when it ends, ``purge`` removes logs past their agent's retention.
"""

from __future__ import annotations

from amtflow.joblog.layout import JobLogHeader
from amtflow.joblog.paths import default_log_dir, log_path, safe_component
from amtflow.joblog.retention import PurgeResult, purge, retention_of
from amtflow.joblog.writer import JobLog

__all__ = [
    "JobLog",
    "JobLogHeader",
    "PurgeResult",
    "default_log_dir",
    "log_path",
    "purge",
    "retention_of",
    "safe_component",
]
