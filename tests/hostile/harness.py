"""A worker that runs ``amtflow`` commands in forked children and reports what each one cost.

Started once per test session (``python -m tests.hostile.harness``): it imports amtflow, then for
each request line (JSON: argv, cwd) forks a child that runs ``amtflow.cli.main(argv)`` with its
output in files, and answers one JSON line: exit status, stdout, stderr, wall seconds, the CPU
seconds the child itself spent (user + system: what a loaded machine does not inflate) and its
own peak RSS growth (``ru_maxrss`` after minus before). Forking a warm process keeps a hundred
runs down to seconds, and each run's memory is its own.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
import time
from typing import Any

from amtflow.cli import main

MAX_OUTPUT = 60_000  # characters of stdout/stderr sent back: enough to judge, never megabytes
HANG_SECONDS = 60  # wall clock: a child blocked that long is killed, a hang reported as such
CPU_SECONDS = 30  # CPU: a child spinning that long is killed (RLIMIT_CPU), however loaded the host
MEMORY_CAP = (
    2 * 1024**3
)  # address space a child may map: a runaway fails instead of eating the host


def _child(request: dict[str, Any], out: int, err: int, answer: int) -> None:
    os.chdir(request["cwd"])
    signal.alarm(HANG_SECONDS)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    os.dup2(out, 1)
    os.dup2(err, 2)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    status: object = 0
    try:
        main(request["argv"])
    except SystemExit as exc:
        status = exc.code
    except BaseException as exc:
        status = f"escaped: {type(exc).__name__}"
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(
        answer,
        json.dumps(
            {
                "status": status,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rss_mb": (after.ru_maxrss - before.ru_maxrss) / 1024,
            }
        ).encode(),
    )


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Run one request in a forked child and collect its answer."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(reader)
            try:
                _child(request, out.fileno(), err.fileno(), writer)
            finally:
                os._exit(0)
        os.close(writer)
        with os.fdopen(reader, "rb") as answer_pipe:
            raw = answer_pipe.read()
        _, wait_status = os.waitpid(pid, 0)
        answer = (
            json.loads(raw)
            if raw
            else {
                "status": f"child died ({wait_status})",
                "seconds": 0,
                "cpu_seconds": 0,
                "rss_mb": 0,
            }
        )
        for name, stream in (("stdout", out), ("stderr", err)):
            stream.seek(0)
            answer[name] = stream.read(MAX_OUTPUT * 4).decode("utf-8", "replace")[:MAX_OUTPUT]
            answer[f"{name}_bytes"] = os.fstat(stream.fileno()).st_size
        return answer


def serve() -> None:
    """Answer one JSON line per request line until stdin closes."""
    for line in sys.stdin:
        sys.stdout.write(json.dumps(run(json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
