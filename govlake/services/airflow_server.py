"""Airflow as a running service: its scheduler (with the profile's executor, LocalExecutor on the
cluster profile, so tasks run side by side), its DAG processor and its API server, started on
loopback by `govlake up` when `airflow_port` is set, stopped by `govlake down`, reported by
`govlake status`.

All three run in govlake's Airflow environment (services/airflow_env.py: its home in the state
folder, govlake's DAG folder, the metadata database on PostgreSQL, lineage to the receiver) and
with govlake's own settings (`GOVLAKE_*`), so every task reaches the same lakehouse, Spark master,
Trino and governance store as the CLI. Airflow 3's task processes talk to the API server's
execution API; the JWT secret that signs their tokens is generated into `<state>/secrets` and
given to the three processes in their environment, never on a command line.

Starting migrates the metadata database (`airflow db migrate`, idempotent) first. Healthy means
the three processes run and the API server's health endpoint reports the metadata database,
the scheduler and the DAG processor healthy. DAGs stay paused at creation: a person (or a test)
unpauses the ones that should run on their schedule.

Elsewhere (an Airflow deployment of its own) `airflow_port` stays unset and govlake starts
nothing; `airflow_env.environment` is what its components need.
"""
from __future__ import annotations

import json
import secrets as pysecrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from govlake.core import private
from govlake.core.errors import ServiceError
from govlake.core.settings import Settings
from govlake.platform import processes
from govlake.platform.processes import alive, port_in_use, rss_mb, running_pid
from govlake.services import airflow_env
from govlake.services.trino import Status

NAME = "airflow"
HOST = "127.0.0.1"
COMPONENTS = ("api-server", "scheduler", "dag-processor")
START_TIMEOUT_S = 180.0
MIGRATE_TIMEOUT_S = 600.0


def url(settings: Settings) -> str:
    return f"http://{HOST}:{settings.airflow_port}"


def _pid_file(settings: Settings, component: str) -> Path:
    return settings.run_dir / f"airflow-{component}.pid"


def _log_file(settings: Settings, component: str) -> Path:
    return settings.logs_dir / f"airflow-{component}.log"


def _jwt_secret(settings: Settings) -> str:
    """The secret the scheduler signs task tokens with and the API server checks them by."""
    path = settings.secrets_dir / "airflow-jwt"
    private.create_private(path, pysecrets.token_urlsafe(48))
    return path.read_text().strip()


def environment(settings: Settings) -> dict[str, str]:
    """What the scheduler, the DAG processor and the API server (and so every task) run with."""
    env = airflow_env.environment(settings)
    env.update(settings.as_env())
    env.update({
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        "AIRFLOW__API__BASE_URL": url(settings),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url(settings)}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": _jwt_secret(settings),
        "AIRFLOW__CORE__PARALLELISM": str(settings.airflow_parallelism),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        # a new or changed DAG file is seen within half a minute, not Airflow's default five
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
    })
    return env


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def health(settings: Settings, timeout: float = 3.0) -> dict | None:
    """The API server's health report (metadata database, scheduler, DAG processor), None when it does not answer."""
    try:
        with urllib.request.urlopen(f"{url(settings)}/api/v2/monitor/health", timeout=timeout) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _unhealthy(report: dict | None) -> str | None:
    if report is None:
        return "the API server does not answer"
    bad = [f"{part} {(report.get(part) or {}).get('status') or 'not reported'}"
           for part in ("metadatabase", "scheduler", "dag_processor") if (report.get(part) or {}).get("status") != "healthy"]
    return ", ".join(bad) or None


def status(settings: Settings) -> Status:
    if not settings.airflow_port:
        return Status(NAME, "stopped", "", detail="not run by govlake (airflow_port unset)")
    pids = {c: running_pid(_pid_file(settings, c)) for c in COMPONENTS}
    running = [c for c, p in pids.items() if p]
    memory = sum(rss_mb(p) or 0 for p in pids.values() if p) or None
    main = pids["scheduler"]
    if not running:
        return Status(NAME, "stopped", url(settings))
    missing = [c for c in COMPONENTS if not pids[c]]
    if missing:
        return Status(NAME, "unhealthy", url(settings), main, f"not running: {', '.join(missing)}", memory)
    why = _unhealthy(health(settings))
    executor = settings.airflow_executor or "Airflow's default executor"
    if why:
        return Status(NAME, "starting", url(settings), main, why, memory)
    return Status(NAME, "running", url(settings), main, f"scheduler ({executor}), DAG processor, API server", memory)


def migrate(settings: Settings, env: dict[str, str] | None = None) -> None:
    """Create or upgrade Airflow's metadata database (idempotent)."""
    private.private_dir(settings.airflow_home)
    proc = subprocess.run([_airflow(), "db", "migrate"], env=env or environment(settings), capture_output=True, text=True,
                          timeout=MIGRATE_TIMEOUT_S, cwd=settings.airflow_home)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        raise ServiceError(f"`airflow db migrate` failed (exit {proc.returncode}); its last lines:\n{tail}")


def start(settings: Settings, *, log=print) -> Status:
    """Migrate the metadata database, start whichever of the three components is not running,
    and wait until the API server reports all of them healthy."""
    if not settings.airflow_port:
        return status(settings)
    pids = {c: running_pid(_pid_file(settings, c)) for c in COMPONENTS}
    if not any(pids.values()) and port_in_use(HOST, settings.airflow_port):
        raise ServiceError(f"port `{settings.airflow_port}` on {HOST} is taken by another program; stop it or set "
                           "GOVLAKE_AIRFLOW_PORT to a free port")
    env = environment(settings)
    if not all(pids.values()):
        log("migrating Airflow's metadata database")
        migrate(settings, env)
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    for component in COMPONENTS:
        if pids[component]:
            continue
        log(f"starting Airflow's {component}" + (f" on {url(settings)}" if component == "api-server" else ""))
        log_file = _log_file(settings, component)
        log_file.touch(mode=0o600)
        with log_file.open("ab") as out:
            proc = subprocess.Popen([_airflow(), component], env=env, cwd=settings.airflow_home, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        _pid_file(settings, component).write_text(str(proc.pid))
        pids[component] = proc.pid
    deadline = time.monotonic() + START_TIMEOUT_S
    why = "not answering yet"
    while time.monotonic() < deadline:
        dead = [c for c in COMPONENTS if not alive(pids[c])]
        if dead:
            raise ServiceError(f"Airflow's {', '.join(dead)} exited during start; see "
                               + ", ".join(str(_log_file(settings, c)) for c in dead))
        why = _unhealthy(health(settings))
        if why is None:
            return status(settings)
        time.sleep(1.0)
    raise ServiceError(f"Airflow did not become healthy within {START_TIMEOUT_S:.0f} s ({why}); see its logs in "
                       f"{settings.logs_dir} (airflow-*.log)", transient=True)


def stop(settings: Settings, *, timeout: float = 15.0) -> Status:
    """Stop the scheduler first (it stops handing out tasks; LocalExecutor's workers go with its
    process group, a task still running after `timeout` is killed and retried at the next start),
    then the DAG processor and the API server."""
    for component in ("scheduler", "dag-processor", "api-server"):
        processes.stop(_pid_file(settings, component), timeout=timeout)
    return status(settings)
