"""Which jobs may change the lakehouse at the same time.

Writers (ingest, the analytic build, publish) hold the lake lock *shared*: they run side by side,
and Delta's optimistic commits settle their overlapping writes. Erasure and retention hold it
*exclusive*: they rewrite tables and VACUUM keeping 0 hours of history, which would delete the
files a concurrent writer is about to commit, and a build reading base before an erasure and
writing after it would put the erased subject back. So an erasure waits for the running writers
to finish, and writers that start meanwhile wait for the erasure.

A waiting erasure is never starved by a stream of writers: each job first passes a turnstile
(`lake.gate`) that an exclusive job holds while it waits, so new writers queue behind it.

Ingest also holds one lock per department, so two ingests of the same department run one after
the other and the second finds the files already in the manifest (each file is ingested once).
Locks are always taken in the same order (gate, lake, departments sorted), so no two jobs wait
for each other.

These are host locks (`flock` on files in the state folder): they cover every govlake process of
one host (the CLI, the Airflow tasks, the console). A lakehouse written from several hosts needs a
shared lock service instead; the cluster profile is not covered here.

Waiting is bounded (`GOVLAKE_LOCK_WAIT_S`, default one hour): past it a job fails with a
transient `LockTimeout` naming the holder, which the DAGs retry.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

from govlake.core import private
from govlake.core.errors import GovlakeError

log = logging.getLogger("govlake.locks")

DEFAULT_WAIT_S = 3600.0
POLL_S = 0.1


class LockTimeout(GovlakeError):
    """A job waited longer than allowed for another job's lock."""

    transient = True


def _wait_s() -> float:
    try:
        return float(os.environ.get("GOVLAKE_LOCK_WAIT_S", DEFAULT_WAIT_S))
    except ValueError:
        return DEFAULT_WAIT_S


def _holder(lock_file: Path) -> str:
    try:
        h = json.loads(lock_file.with_suffix(".holder").read_text(encoding="utf-8"))
        return f"{h['job']} (pid {h['pid']}, since {h['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another govlake job"


@contextmanager
def _flock(lock_file: Path, mode: int, job: str, wait_s: float):
    private.private_dir(lock_file.parent)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, private.FILE_MODE)
    try:
        deadline, said = time.monotonic() + wait_s, False
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not said:
                    log.info("%s waits for %s (lock %s)", job, _holder(lock_file), lock_file.name)
                    said = True
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"{job} waited {wait_s:.0f} s for `{lock_file.name}`, held by {_holder(lock_file)}; "
                        "it will run once that job ends: retry then (GOVLAKE_LOCK_WAIT_S sets the wait)") from None
                time.sleep(POLL_S)
        if mode == fcntl.LOCK_EX:
            private.write_private(lock_file.with_suffix(".holder"), json.dumps(
                {"job": job, "pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        yield
    finally:
        os.close(fd)  # releases the lock


def _dir(run_dir: Path) -> Path:
    return run_dir / "locks"


# what this thread holds: lock file -> (mode, depth). A job that runs others (the main job runs
# ingest, build and publish) holds the lake lock once; taking it again would queue behind an
# erasure waiting for this very job. Per thread: another thread of the process (the console's
# workers) takes the lock through its own descriptor and waits like any other process.
_local = threading.local()


def _held() -> dict[Path, tuple[str, int]]:
    if not hasattr(_local, "held"):
        _local.held = {}
    return _local.held


@contextmanager
def _once(lock_file: Path, mode: str, acquire):
    """`acquire()` (a context manager) unless this thread holds `lock_file` already."""
    held = _held()
    if lock_file in held:
        have, depth = held[lock_file]
        if have == "shared" and mode == "exclusive":
            raise GovlakeError(f"`{lock_file.name}` is held shared by this job and cannot be taken exclusive; "
                               "run erasure and retention outside ingest, build and publish")
        held[lock_file] = (have, depth + 1)  # a job holding the lake alone (a key rotation) runs its own build and publish in it
        try:
            yield
        finally:
            held[lock_file] = (have, held[lock_file][1] - 1)
        return
    with acquire():
        held[lock_file] = (mode, 1)
        try:
            yield
        finally:
            held.pop(lock_file, None)


@contextmanager
def lake_writer(run_dir: Path, job: str, departments: list[str] | tuple[str, ...] = ()):
    """Hold the lake lock shared (and, for ingest, each of `departments` exclusive) for the block."""
    wait = _wait_s()
    lake = _dir(run_dir) / "lake.lock"

    @contextmanager
    def shared():
        with ExitStack() as stack:
            with _flock(_dir(run_dir) / "lake.gate", fcntl.LOCK_EX, job, wait):
                stack.enter_context(_flock(lake, fcntl.LOCK_SH, job, wait))
            yield

    with ExitStack() as stack:
        stack.enter_context(_once(lake, "shared", shared))
        for dept in sorted(set(departments)):
            f = _dir(run_dir) / f"ingest-{dept}.lock"
            stack.enter_context(_once(f, "exclusive", lambda f=f, dept=dept: _flock(f, fcntl.LOCK_EX, f"{job} of `{dept}`", wait)))
        yield


@contextmanager
def lake_maintenance(run_dir: Path, job: str):
    """Hold the lake lock exclusive for the block: no writer runs while it is held."""
    wait = _wait_s()
    lake = _dir(run_dir) / "lake.lock"

    @contextmanager
    def exclusive():
        with _flock(_dir(run_dir) / "lake.gate", fcntl.LOCK_EX, job, wait):
            with _flock(lake, fcntl.LOCK_EX, job, wait):
                yield

    with _once(lake, "exclusive", exclusive):
        yield
