"""Crash points: named places where the fault tests kill a job for real.

`GOVLAKE_CRASH_AT=<point>` makes the first `point(<point>)` a job reaches send SIGKILL to its
whole process group (the Python driver and the Spark JVM it started), as `kill -9` of the tree
would; `<point>+<seconds>` sends it that long after the point, so the kill lands inside the step
that follows (a MERGE's commit, a VACUUM's deletes). Without the variable a point costs one
dictionary lookup. The tests start the job in a session of its own, so nothing else is killed.
"""
from __future__ import annotations

import os
import signal
import threading

VARIABLE = "GOVLAKE_CRASH_AT"


def _kill() -> None:
    os.killpg(os.getpgrp(), signal.SIGKILL)


def point(name: str) -> None:
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    target, _, delay = wanted.partition("+")
    if target != name:
        return
    os.environ.pop(VARIABLE)  # once per process
    if not delay:
        _kill()
    timer = threading.Timer(float(delay), _kill)
    timer.daemon = True
    timer.start()
