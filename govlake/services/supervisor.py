"""The supervisor: a small local process, started by `govlake up` and stopped by `govlake down`,
that keeps the services running and measures how often they were not.

Every `GOVLAKE_SUPERVISE_EVERY_S` seconds it probes each service it was started for (Trino, the
audit receiver, the console, and on the cluster profile PostgreSQL, the object store, the Spark
master and workers and Airflow's scheduler, DAG processor and API server) with the same checks as `govlake status`, and records one sample
per service (time, up or down, the state seen) in `<state>/availability.db`, a SQLite file
private to the service account; a probe that sees what the one before saw extends that sample
(`until`), so the file grows with state changes, not with time. A service found dead is restarted: the receiver and the console
at once, Trino (which takes a minute to come up) without waiting for it; a restart that does not
bring it back is tried again after a doubling delay (at most `MAX_BACKOFF_S`). Every restart is
one line in `<state>/logs/supervisor.log` and one row in the store, so `govlake status` shows the
last one. A Trino that stays unanswering for longer than its start timeout is stopped and
started again; a service that is merely starting is left alone. A platform service found stopped,
or with one of its processes gone (`unhealthy`: a Spark worker, Airflow's scheduler), gets its own
start again, which starts only what is missing and waits until it answers. A Trino whose coordinator answers
while one of its local workers does not (`unhealthy`: every query fails) keeps its coordinator:
a stopped worker is started at once, one alive but not answering past the start timeout is
stopped and started again.

Never two at once: the supervisor holds `run/supervisor.lock` for its whole life (a second one
exits at once), and every start, here or in `govlake up`, happens under `run/services.lock`
after a fresh look at the service (`starting`), so a service is never started twice.

    python -m govlake.services.supervisor --services trino,audit,console[,postgres,objects,spark,airflow]
"""
from __future__ import annotations

import argparse
import fcntl
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing, contextmanager
from pathlib import Path

from govlake.core import private
from govlake.core.errors import ServiceError
from govlake.core.settings import Settings, load_settings
from govlake.platform import processes
from govlake.platform.processes import running_pid
from govlake.services import airflow_server, audit_receiver, console_process, object_store, postgres, spark_cluster, trino
from govlake.services.availability import Availability, Sample, measure
from govlake.services.trino import Status

SERVICES = ("trino", "audit", "console")
# the services below Trino that govlake may run on this host (the cluster profile), and Airflow
PLATFORM = {"postgres": postgres, "objects": object_store, "spark": spark_cluster, "airflow": airflow_server}
KNOWN = SERVICES + tuple(PLATFORM)
UP = ("running", "external")
MAX_BACKOFF_S = 300.0
KEEP_DAYS = 400  # samples whose last probe is older than this are deleted (a year's figure stays possible)
log = logging.getLogger("govlake.supervisor")


def covers_s(every_s: float) -> float:
    """How long one sample may stand for: two probe intervals and the probes' own timeouts;
    a longer gap means the supervisor was not running."""
    return 2 * every_s + 10.0


# --- the store -----------------------------------------------------------------------------------

def db_path(settings: Settings) -> Path:
    return settings.state / "availability.db"


SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (service TEXT NOT NULL, at REAL NOT NULL, until REAL NOT NULL, up INTEGER NOT NULL, state TEXT NOT NULL,
                                    every_s REAL NOT NULL);
CREATE INDEX IF NOT EXISTS samples_by_service ON samples (service, at);
CREATE INDEX IF NOT EXISTS samples_by_state ON samples (service, up, at);
CREATE TABLE IF NOT EXISTS restarts (service TEXT NOT NULL, at REAL NOT NULL, ok INTEGER NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (pid INTEGER NOT NULL, started REAL NOT NULL, every_s REAL NOT NULL, services TEXT NOT NULL);
"""


def _connect(settings: Settings, *, write: bool) -> sqlite3.Connection | None:
    path = db_path(settings)
    if write:
        private.private_dir(path.parent)
        conn = sqlite3.connect(path, timeout=30)  # created 0600: govlake runs with umask 077
        conn.executescript(SCHEMA)
        return conn
    if not path.is_file():
        return None
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


def record_samples(settings: Settings, at: float, states: dict[str, str], every_s: float) -> None:
    """One probe of each service at `at`: extends the service's last sample when that saw the same
    state at the same interval no longer than a sample may stand for ago; else a new sample."""
    with closing(_connect(settings, write=True)) as conn, conn:
        for name, state in states.items():
            last = conn.execute("SELECT rowid, until, state, every_s FROM samples WHERE service = ? ORDER BY at DESC LIMIT 1", (name,)).fetchone()
            if last and last[2] == state and last[3] == every_s and 0 <= at - last[1] <= covers_s(every_s):
                conn.execute("UPDATE samples SET until = ? WHERE rowid = ?", (at, last[0]))
            else:
                conn.execute("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?)", (name, at, at, int(state in UP), state, every_s))


def record_restart(settings: Settings, service: str, at: float, ok: bool, detail: str) -> None:
    with closing(_connect(settings, write=True)) as conn, conn:
        conn.execute("INSERT INTO restarts VALUES (?, ?, ?, ?)", (service, at, int(ok), detail))


def prune(settings: Settings, now: float) -> None:
    with closing(_connect(settings, write=True)) as conn, conn:
        conn.execute("DELETE FROM samples WHERE until < ?", (now - KEEP_DAYS * 86400,))
        conn.execute("DELETE FROM restarts WHERE at < ?", (now - KEEP_DAYS * 86400,))


def report(settings: Settings, start: float, end: float) -> dict[str, dict]:
    """Per supervised service: its availability over [start, end] (`Availability`), the start of
    the outage it is in (from before the window too), its restarts in the window and the last
    restart ever; {} before the supervisor first ran."""
    conn = _connect(settings, write=False)
    if conn is None:
        return {}
    out: dict[str, dict] = {}
    with closing(conn):
        for (service,) in conn.execute("SELECT DISTINCT service FROM samples ORDER BY service").fetchall():
            before = conn.execute("SELECT at, until, up, every_s FROM samples WHERE service = ? AND at < ? ORDER BY at DESC LIMIT 1",
                                  (service, start)).fetchall()  # it may stand for the window's first hours
            rows = before + conn.execute("SELECT at, until, up, every_s FROM samples WHERE service = ? AND at >= ? AND at < ? ORDER BY at",
                                         (service, start, end)).fetchall()
            avail = measure([Sample(at, bool(up), covers_s(every), until) for at, until, up, every in rows], start, end)
            down_since = conn.execute(
                "SELECT min(at) FROM samples WHERE service = ? AND up = 0 AND at > coalesce((SELECT max(at) FROM samples WHERE service = ? AND up = 1), 0)",
                (service, service)).fetchone()[0]
            restarts = conn.execute("SELECT count(*) FROM restarts WHERE service = ? AND at >= ? AND at <= ?", (service, start, end)).fetchone()[0]
            last = conn.execute("SELECT at, ok, detail FROM restarts WHERE service = ? ORDER BY at DESC LIMIT 1", (service,)).fetchone()
            out[service] = {"availability": avail, "down_since": down_since if avail.current_outage else None, "restarts": restarts,
                            "last_restart": {"at": last[0], "ok": bool(last[1]), "detail": last[2]} if last else None}
    return out


def as_dict(entry: dict) -> dict:
    """One service's `report` entry, JSON-able."""
    avail: Availability = entry["availability"]
    return {**avail.as_dict(), "down_since": entry["down_since"], "restarts": entry["restarts"], "last_restart": entry["last_restart"]}


# --- probing and restarting ----------------------------------------------------------------------

def local_platform(settings: Settings) -> tuple[str, ...]:
    """The platform services these settings have govlake run on this host, in start order."""
    wanted = {"postgres": settings.postgres_port, "objects": settings.object_store_port, "spark": settings.spark_workers,
              "airflow": settings.airflow_port}
    return tuple(name for name in PLATFORM if wanted[name])


def probe(settings: Settings, service: str) -> str:
    """The service's state as `govlake status` sees it: running | external | starting | unhealthy | stopped."""
    if service in PLATFORM:
        return PLATFORM[service].status(settings).state
    if service == "trino":
        return trino.status(settings).state
    if service == "audit":
        port = audit_receiver.running_port(settings)
        if port is None:
            return "stopped"
        with socket.socket() as s:
            s.settimeout(2.0)
            return "running" if s.connect_ex(("127.0.0.1", port)) == 0 else "unhealthy"
    if service == "console":
        return console_process.status(settings).state
    raise ValueError(f"unknown service `{service}`")


@contextmanager
def starting(settings: Settings):
    """Held around every service start (here and in `govlake up`): one starter at a time."""
    with private.exclusive(settings.run_dir / "services.lock"):
        yield


def restart(settings: Settings, service: str) -> str:
    """Bring `service` back (under the start lock, after a fresh look); returns what was done.
    Raises ServiceError when it cannot be started."""
    with starting(settings):
        now = probe(settings, service)
        if now in UP:
            return f"{service} was back already ({now})"
        if service in PLATFORM:  # each one's start starts only its processes that are not running, and waits for health
            st = PLATFORM[service].start(settings, log=log.info)
            return f"{service} started again ({st.state}{'; ' + st.detail if st.detail else ''})"
        if service == "trino":
            if now == "unhealthy" and trino.coordinator_status(settings).state == "running":
                return _restart_workers(settings)
            if now in ("unhealthy", "starting"):  # hung longer than its start timeout: replace it
                trino.stop(settings)
            st = trino.start(settings, log=log.info, wait=False)  # with its receiver; comes up within a minute
            return f"trino started again (pid {st.pid}, {st.state})"
        if service == "audit":
            trino.ensure_receiver(settings)
            return f"audit receiver started again on port {audit_receiver.running_port(settings)}"
        st = console_process.start(settings)
        return f"console started again (pid {st.pid})"


def _restart_workers(settings: Settings) -> str:
    """The coordinator answers but a worker does not: the stopped workers are started (with the
    coordinator left running); when none is stopped, the ones alive but not answering (past the
    start timeout: hung) are stopped first."""
    workers = trino.worker_status(settings)
    down = [w.name for w in workers if w.state in ("stopped", "unhealthy")]
    if not any(w.state == "stopped" for w in workers):
        for i, w in enumerate(workers):
            if w.state == "unhealthy":
                trino.stop_worker(settings, i)
    st = trino.start(settings, log=log.info, wait=False)  # starts the missing workers only
    return f"{', '.join(down)} started again (coordinator pid {st.pid} kept; trino {st.state})"


def _worker_stopped(settings: Settings) -> bool:
    """The local Trino's coordinator runs but one of its workers is stopped."""
    return any(w.state == "stopped" for w in trino.worker_status(settings)) and trino.coordinator_status(settings).state == "running"


class Supervisor:
    def __init__(self, settings: Settings, services: tuple[str, ...]):
        self.settings, self.every = settings, settings.supervise_every_s
        self.services = tuple(s for s in services if not (settings.trino_url and s == "audit"))  # an external Trino has no local receiver
        self.failures = {s: 0 for s in self.services}   # restarts since the service was last seen up
        self.next_try = {s: 0.0 for s in self.services}
        self.odd_since: dict[str, float] = {}           # first probe of a run of `unhealthy`/`starting`
        self.threads: dict[str, threading.Thread] = {}
        self.stopping = threading.Event()

    def should_restart(self, service: str, state: str, mono: float) -> bool:
        if state in UP:
            self.odd_since.pop(service, None)
            self.failures[service] = 0
            return False
        if service in self.threads and self.threads[service].is_alive():
            return False  # a restart is under way
        if mono < self.next_try[service]:
            return False
        if service in PLATFORM:
            # stopped, or a daemon of it gone (a Spark worker, Airflow's scheduler): start what is missing.
            # One merely starting is left alone.
            return state in ("stopped", "unhealthy")
        if state == "stopped":
            if service == "audit":  # with a dead Trino the receiver comes back with Trino's restart
                return trino.status(self.settings).pid is not None
            return not (service == "trino" and self.settings.trino_url)
        if service == "trino" and state == "unhealthy" and not self.settings.trino_url and _worker_stopped(self.settings):
            return True  # a dead worker: every query fails until it is back, so at once, as a stopped service
        # starting or unhealthy: only a Trino that stays so past its start timeout is replaced
        since = self.odd_since.setdefault(service, mono)
        return service == "trino" and not self.settings.trino_url and mono - since > self.settings.trino_start_timeout_s \
            and trino.OLD_SERVER not in trino.status(self.settings).detail

    def _restart(self, service: str, state: str, attempt: int) -> None:
        at = time.time()
        log.warning("%s is %s: restarting it (attempt %d since it was last seen up)", service, state, attempt)
        try:
            detail, ok = restart(self.settings, service), True
            log.warning("%s", detail)
        except Exception as exc:  # noqa: BLE001 - recorded and retried after the backoff
            detail, ok = f"restart of {service} failed: {type(exc).__name__}: {str(exc)[:500]}", False
            log.error("%s", detail)
        self.odd_since.pop(service, None)
        record_restart(self.settings, service, at, ok, detail)

    def tick(self) -> dict[str, str]:
        at, mono = time.time(), time.monotonic()
        states = {s: probe(self.settings, s) for s in self.services}
        record_samples(self.settings, at, states, self.every)
        for service, state in states.items():
            if not self.stopping.is_set() and self.should_restart(service, state, mono):
                self.failures[service] += 1  # the next try waits twice as long, until the service is seen up again
                self.next_try[service] = mono + min(self.every * 2 ** self.failures[service], MAX_BACKOFF_S)
                self.threads[service] = threading.Thread(target=self._restart, args=(service, state, self.failures[service]),
                                                         name=f"restart-{service}", daemon=True)
                self.threads[service].start()
        return states

    def run(self) -> None:
        log.info("supervising %s every %s s", ", ".join(self.services), self.every)
        pruned = 0.0
        while not self.stopping.is_set():
            try:
                self.tick()
                if time.time() - pruned > 3600:
                    prune(self.settings, time.time())
                    pruned = time.time()
            except Exception:  # noqa: BLE001 - a busy store or a failed probe: the next tick tries again
                log.exception("supervisor tick failed; trying again in %s s", self.every)
            self.stopping.wait(self.every)
        for t in self.threads.values():
            t.join(60)  # a start under way finishes (and releases the start lock) before we exit


def _lock_file(settings: Settings) -> Path:
    return settings.run_dir / "supervisor.lock"


def _pid_file(settings: Settings) -> Path:
    return settings.run_dir / "supervisor.pid"


def serve(settings: Settings, services: tuple[str, ...]) -> int:
    private.private_dir(settings.run_dir)
    fd = os.open(_lock_file(settings), os.O_RDWR | os.O_CREAT, private.FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.info("another supervisor runs already (pid file %s); exiting", _pid_file(settings))
        return 0
    sup = Supervisor(settings, services)
    signal.signal(signal.SIGTERM, lambda *_: sup.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: sup.stopping.set())
    with closing(_connect(settings, write=True)) as conn, conn:
        conn.execute("INSERT INTO runs VALUES (?, ?, ?, ?)", (os.getpid(), time.time(), sup.every, ",".join(sup.services)))
    private.write_private(_pid_file(settings), str(os.getpid()))  # only the lock holder writes it
    try:
        sup.run()
    finally:
        _pid_file(settings).unlink(missing_ok=True)
        os.close(fd)
    return 0


# --- lifecycle, used by the Context ----------------------------------------------------------------

def _pid(settings: Settings) -> int | None:
    return running_pid(_pid_file(settings))


def status(settings: Settings) -> Status:
    pid = _pid(settings)
    log_file = settings.logs_dir / "supervisor.log"
    if pid is None:
        return Status("supervisor", "stopped", "", detail="services are not restarted and availability is not measured; `govlake up` starts it")
    run = None
    conn = _connect(settings, write=False)
    if conn is not None:
        with closing(conn):
            run = conn.execute("SELECT started, every_s, services FROM runs WHERE pid = ? ORDER BY started DESC LIMIT 1", (pid,)).fetchone()
    detail = f"probes {run[2].replace(',', ', ')} every {run[1]:g} s since {_clock(run[0])}; log {log_file}" if run else f"log {log_file}"
    return Status("supervisor", "running", "", pid, detail)


def _clock(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def start(settings: Settings, services: tuple[str, ...] = SERVICES, *, timeout_s: float = 30.0) -> Status:
    """Start the supervisor unless one runs; wait until it holds its lock."""
    current = status(settings)
    if current.state == "running":
        return current
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    out = (settings.logs_dir / "supervisor.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "govlake.services.supervisor", "--services", ",".join(services)],
                            env={**os.environ, **settings.as_env()}, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=str(settings.home))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        st = status(settings)
        if st.state == "running":
            return st
        if proc.poll() is not None and _pid(settings) is None:
            break
        time.sleep(0.1)
    raise ServiceError(f"the supervisor did not start; see {settings.logs_dir / 'supervisor.log'}")


def stop(settings: Settings, *, timeout_s: float = 90.0) -> Status:
    """Stop the supervisor (first, so that it restarts nothing `govlake down` stops); it waits for
    a start under way to finish."""
    # the supervisor alone, not its process group: run by hand it is no group leader
    processes.stop(_pid_file(settings), timeout=timeout_s, group=False)
    return status(settings)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--services", default=",".join(SERVICES), help="comma-separated: " + ", ".join(KNOWN))
    args = p.parse_args()
    services = tuple(s for s in args.services.split(",") if s)
    unknown = sorted(set(services) - set(KNOWN))
    if unknown:
        p.error(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(KNOWN)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return serve(load_settings(), services)


if __name__ == "__main__":
    sys.exit(main())
