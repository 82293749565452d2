"""Benchmark: reading a GetMessages page (the client's wire parsing) and appending it to a job log.

    python bench/messages.py [--messages 1000] [--compare PATH]

Prints microseconds per message for this checkout's ``amtflow`` and, with ``--compare``, for the
package in PATH (a scratch copy with another version), interleaved, best of several rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import datetime as dt, json, sys, tempfile, timeit
from pathlib import Path
from amtflow.client import wire
from amtflow.joblog import JobLog, log_path
from amtflow.joblog.layout import JobLogHeader
from amtflow.task import AmtTask, TaskType
count, rounds = int(sys.argv[1]), int(sys.argv[2])
page = {"more": False, "messages": [
    {"seq": i, "batchRequestId": 4280, "time": "2026-11-24T02:00:01.123+00:00",
     "text": f"step {i} of the job: 1,024 records read, 1,020 written, 4 rejected"}
    for i in range(1, count + 1)]}
header = JobLogHeader(server="http://amt:42000", agent="amt",
    task=AmtTask(TaskType.BATCH_JOB, "DEMO2", "BIG"), run_id="bench", schedule="S", job="BIG",
    attempt=1)
parse = min(timeit.repeat(lambda: wire.parse_messages(page, "GetMessages"), number=5,
    repeat=rounds)) / 5
messages = wire.parse_messages(page, "GetMessages").messages
with tempfile.TemporaryDirectory() as tmp:
    def append() -> None:
        log = JobLog.create(log_path(Path(tmp), "S", dt.date(2026, 11, 24), "BIG", 4280),
            header, batch_request_id=4280, started_at=dt.datetime.now(dt.timezone.utc))
        log.append(messages)
        log.close()
    write = min(timeit.repeat(append, number=3, repeat=rounds)) / 3
print(json.dumps({"parse": parse / count * 1e6, "append": write / count * 1e6}))
"""


def measure(path: str | None, count: int, rounds: int) -> dict[str, float]:
    import json
    import os

    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [path, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as cwd:  # not a checkout: PYTHONPATH decides
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(count), str(rounds)],
            env=env, cwd=cwd, capture_output=True, text=True, check=True,
        )  # fmt: skip
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--compare", action="append", default=[], metavar="PATH")
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parent.parent)
    contenders = {"amtflow (this checkout)": here, **{f"amtflow {p}": p for p in args.compare}}
    best: dict[str, dict[str, float]] = {}
    for _ in range(3):  # interleaved: a busy spell of the machine hits every contender alike
        for name, path in contenders.items():
            figures = measure(path, args.messages, args.rounds)
            kept = best.setdefault(name, figures)
            best[name] = {k: min(v, kept[k]) for k, v in figures.items()}
    print(f"{args.messages} messages a page, best of 3 x {args.rounds} rounds ({dt.date.today()})")
    print(f"  {'':38} {'parse us/msg':>13} {'append us/msg':>14}")
    for name, figures in best.items():
        print(f"  {name:38} {figures['parse']:13.2f} {figures['append']:14.2f}")
    if args.compare:
        first, *others = best.values()
        for name, figures in zip(list(best)[1:], others, strict=True):
            ratio = figures["parse"] / first["parse"]
            print(f"  parse: {name} / this checkout = {ratio:.2f}")


if __name__ == "__main__":
    main()
