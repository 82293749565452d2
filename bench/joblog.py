"""Peak memory of finishing a big job log: main's JobLog (reads the log back whole) against this
tree's (streams it), each in a fresh child process, for logs of growing size.

    python bench/joblog.py [MB ...]        # default: 10 100

Prints, per size: the log's bytes, the child's peak RSS before ``finish`` (writing it, which
streams in both), the peak after, and the ratio of the peaks after.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
BASE = "fcf3b7a"  # main before issue 11: finish() read the whole log back
PAGE = 1000
TEXT = "step output " * 8  # ~100 characters a message


def _writer(which: str, folder: Path) -> ModuleType:
    if which == "after":
        from amtflow.joblog import writer

        return writer
    source = subprocess.run(
        ["git", "show", f"{BASE}:amtflow/joblog/writer.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = folder / "writer_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("writer_before", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def child(which: str, megabytes: int) -> None:
    """One measurement: write a log of ``megabytes``, finish it, print the figures as JSON."""
    from amtflow.batch import Message
    from amtflow.joblog import JobLogHeader
    from amtflow.task import AmtTask, TaskType

    with tempfile.TemporaryDirectory() as tmp:
        writer = _writer(which, Path(tmp))
        header = JobLogHeader(
            server="http://amt:42000", agent="amt", task=AmtTask(TaskType.BATCH_JOB, "DEMO2", "BIG"),
            run_id="bench", schedule="S", job="BIG", attempt=1,
        )  # fmt: skip
        start = dt.datetime.now(dt.timezone.utc)
        kwargs = {"max_bytes": 1 << 40} if which == "after" else {}
        log = writer.JobLog.create(
            Path(tmp) / "big.log", header, batch_request_id=1, started_at=start, **kwargs
        )
        seq, target = 0, megabytes * 1024 * 1024
        while log.path.stat().st_size < target:
            log.append(Message(seq + n, 1, "t", TEXT) for n in range(1, PAGE + 1))
            seq += PAGE
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        log.finish(4, ended_at=dt.datetime.now(dt.timezone.utc))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        size = log.path.stat().st_size
    print(json.dumps({"bytes": size, "rss_before_kb": before, "rss_after_kb": after}))


def measure(which: str, megabytes: int) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", which, str(megabytes)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    figures: dict[str, int] = json.loads(done.stdout)
    return figures


def main(sizes: list[int]) -> None:
    print(f"{'log MB':>7} {'contender':>9} {'peak RSS writing':>17} {'peak RSS finish':>16}")
    for megabytes in sizes:
        peaks = {}
        for which in ("before", "after"):
            f = measure(which, megabytes)
            peaks[which] = f["rss_after_kb"]
            print(
                f"{f['bytes'] / 2**20:7.0f} {which:>9} {f['rss_before_kb'] / 1024:14.0f} MB"
                f" {f['rss_after_kb'] / 1024:13.0f} MB"
            )
        print(f"{'':7} {'ratio':>9} {'':17} {peaks['before'] / peaks['after']:15.1f}x")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]))
    else:
        main([int(a) for a in sys.argv[1:]] or [10, 100])
