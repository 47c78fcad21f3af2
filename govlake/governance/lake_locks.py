"""Where the lake lock lives (core/locks.py has its rules): on PostgreSQL when the governance
store is PostgreSQL, so every host writing the lakehouse (CLI, Airflow workers, the console on
any machine) takes the same locks; else host locks in the state folder.

On PostgreSQL each held lock is a session-level advisory lock on a connection of its own, kept
open for the hold: shared for writers, exclusive for erasure and retention. A job that dies, on
any host, loses its connection and with it its locks, as a process's `flock` ends with it. The
lock's key is a 63-bit hash of its name. Each connection's `application_name` says which job
holds it, on which host, with which pid, so a waiting job (and its timeout error) names the
holder from `pg_locks`.
"""
from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from govlake.core import locks
from govlake.core.settings import Settings
from govlake.governance import store

log = logging.getLogger("govlake.locks")

POLL_S = 0.25
_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


def space(settings: Settings) -> Path | locks.LockSpace:
    """The lake lock's space for these settings: PostgreSQL's advisory locks on the governance
    store's database, or host locks in the run folder."""
    url = store.url(settings)
    if sa.make_url(url).get_backend_name() == "postgresql":
        return PostgresLocks(url)
    return settings.run_dir


def key(name: str) -> int:
    """The advisory lock key of lock `name`: positive, so pg_locks shows it as (classid, objid) = (high, low 32 bits)."""
    return int.from_bytes(hashlib.sha256(f"govlake lake lock {name}".encode()).digest()[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


def _engine(url: str) -> sa.Engine:
    with _engines_lock:
        if url not in _engines:
            # no pool: each hold is a session of its own, closed (locks released) when the hold ends
            _engines[url] = sa.create_engine(url, poolclass=sa.pool.NullPool, hide_parameters=True, isolation_level="AUTOCOMMIT",
                                             connect_args={"connect_timeout": 10})
        return _engines[url]


class PostgresLocks:
    def __init__(self, url: str):
        self.url = url

    def ident(self, name: str) -> object:
        return ("postgresql", sa.make_url(self.url).render_as_string(hide_password=True), name)

    def holders(self, conn: sa.Connection, name: str) -> str:
        k = key(name)
        rows = conn.execute(sa.text(
            "SELECT a.application_name, a.backend_start, l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = CAST(CAST(:hi AS bigint) AS oid) AND l.objid = CAST(CAST(:lo AS bigint) AS oid) AND l.objsubid = 1 "
            "AND a.pid <> pg_backend_pid() ORDER BY a.backend_start"), {"hi": k >> 32, "lo": k & 0xFFFF_FFFF}).all()
        if not rows:
            return "another govlake job"
        return "; ".join(f"{app or 'a session without a name'} since {started:%Y-%m-%dT%H:%M:%SZ}" for app, started, _ in rows)

    @contextmanager
    def hold(self, name: str, shared: bool, job: str, wait_s: float):
        k = key(name)
        take = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        who = f"govlake {job} (pid {os.getpid()} on {socket.gethostname()})"
        with _engine(self.url).connect() as conn:
            # PostgreSQL keeps 63 bytes of an application name
            conn.execute(sa.text("SELECT set_config('application_name', :who, false)"), {"who": who.encode()[:63].decode(errors="ignore")})
            deadline, said = time.monotonic() + wait_s, False
            while not conn.execute(sa.text(f"SELECT {take}(:k)"), {"k": k}).scalar():
                if not said:
                    log.info("%s waits for %s (lock %s on PostgreSQL)", job, self.holders(conn, name), name)
                    said = True
                if time.monotonic() >= deadline:
                    raise locks.timeout_error(job, wait_s, name, self.holders(conn, name))
                time.sleep(POLL_S)
            yield  # released when the connection closes, also if this process dies
