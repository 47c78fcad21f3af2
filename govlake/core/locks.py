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

Where the locks live is the caller's `where`: a folder (`run_dir`) means host locks, `flock` on
files there, covering every govlake process of one host (the CLI, the Airflow tasks, the
console); a `LockSpace` such as PostgreSQL's advisory locks (governance/lake_locks.py, chosen when
the governance store is PostgreSQL) covers every host that reaches it. The rules above are the same
for both.

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
from typing import Protocol

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
                    raise timeout_error(job, wait_s, lock_file.name, _holder(lock_file)) from None
                time.sleep(POLL_S)
        if mode == fcntl.LOCK_EX:
            private.write_private(lock_file.with_suffix(".holder"), json.dumps(
                {"job": job, "pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        yield
    finally:
        os.close(fd)  # releases the lock


def _dir(run_dir: Path) -> Path:
    return run_dir / "locks"


class LockSpace(Protocol):
    """Named locks every govlake process that shares the lakehouse can take."""

    def ident(self, name: str) -> object:
        """What identifies lock `name` of this space (a thread holds each once)."""

    def hold(self, name: str, shared: bool, job: str, wait_s: float):
        """A context manager holding lock `name` (shared or exclusive) for `job`, waiting at most
        `wait_s` seconds, else raising LockTimeout naming the holder."""


class FileLocks:
    """Host locks: `flock` on files in `<run_dir>/locks`, released when the process ends."""

    def __init__(self, run_dir: Path):
        self.dir = _dir(run_dir)

    def ident(self, name: str) -> object:
        return self.dir / name

    def hold(self, name: str, shared: bool, job: str, wait_s: float):
        return _flock(self.dir / name, fcntl.LOCK_SH if shared else fcntl.LOCK_EX, job, wait_s)


def _space(where: Path | LockSpace) -> LockSpace:
    return FileLocks(where) if isinstance(where, Path) else where


def timeout_error(job: str, wait_s: float, name: str, holder: str) -> LockTimeout:
    return LockTimeout(f"{job} waited {wait_s:.0f} s for `{name}`, held by {holder}; "
                       "it will run once that job ends: retry then (GOVLAKE_LOCK_WAIT_S sets the wait)")


# what this thread holds: lock file -> (mode, depth). A job that runs others (the main job runs
# ingest, build and publish) holds the lake lock once; taking it again would queue behind an
# erasure waiting for this very job. Per thread: another thread of the process (the console's
# workers) takes the lock through its own descriptor and waits like any other process.
_local = threading.local()


def _held() -> dict[object, tuple[str, int]]:
    if not hasattr(_local, "held"):
        _local.held = {}
    return _local.held


@contextmanager
def _once(lock: object, mode: str, acquire):
    """`acquire()` (a context manager) unless this thread holds `lock` already."""
    held = _held()
    if lock in held:
        have, depth = held[lock]
        if have == "shared" and mode == "exclusive":
            raise GovlakeError("the lake lock is held shared by this job and cannot be taken exclusive; "
                               "run erasure and retention outside ingest, build and publish")
        held[lock] = (have, depth + 1)  # a job holding the lake alone (a key rotation) runs its own build and publish in it
        try:
            yield
        finally:
            held[lock] = (have, held[lock][1] - 1)
        return
    with acquire():
        held[lock] = (mode, 1)
        try:
            yield
        finally:
            held.pop(lock, None)


@contextmanager
def lake_writer(where: Path | LockSpace, job: str, departments: list[str] | tuple[str, ...] = ()):
    """Hold the lake lock shared (and, for ingest, each of `departments` exclusive) for the block.
    `where`: the run folder (host locks) or a LockSpace shared by every host."""
    wait, space = _wait_s(), _space(where)

    @contextmanager
    def shared():
        with ExitStack() as stack:
            with space.hold("lake.gate", False, job, wait):
                stack.enter_context(space.hold("lake.lock", True, job, wait))
            yield

    with ExitStack() as stack:
        stack.enter_context(_once(space.ident("lake.lock"), "shared", shared))
        for dept in sorted(set(departments)):
            name = f"ingest-{dept}.lock"
            stack.enter_context(_once(space.ident(name), "exclusive",
                                      lambda name=name, dept=dept: space.hold(name, False, f"{job} of `{dept}`", wait)))
        yield


@contextmanager
def lake_maintenance(where: Path | LockSpace, job: str):
    """Hold the lake lock exclusive for the block: no writer runs while it is held."""
    wait, space = _wait_s(), _space(where)

    @contextmanager
    def exclusive():
        with space.hold("lake.gate", False, job, wait):
            with space.hold("lake.lock", False, job, wait):
                yield

    with _once(space.ident("lake.lock"), "exclusive", exclusive):
        yield
