"""A Spark standalone cluster on this host: one master and `spark_workers` workers, started from
pyspark's own `spark-class` (the wheel has no `start-master.sh`), for the cluster profile on one
machine. In production the master and workers run on their own hosts, `spark_workers` is 0 and
govlake starts nothing here; the jobs connect to `spark_master` either way.

- Loopback only: the master, the workers and their web UIs bind to the master's host.
- No REST submission server (`spark.master.rest.enabled=false`): applications are submitted only
  by drivers holding the shared secret (`spark.authenticate`), generated into
  `<state>/secrets/spark.json` and handed to the daemons in a private properties file, never on
  a command line other accounts can read.
- Executors' work folders live in `<state>/spark-work` (private), cleaned when an application ends.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from govlake.core import private
from govlake.core.errors import ConfigError, ServiceError
from govlake.core.settings import Settings
from govlake.platform.java import find_jdk
from govlake.platform import processes
from govlake.platform.processes import port_in_use, rss_mb, running_pid
from govlake.platform.secrets import spark_secret
from govlake.services.trino import Status

DAEMON_MEMORY = "256m"
START_TIMEOUT_S = 90.0


def master_address(settings: Settings) -> tuple[str, int]:
    url = urlparse(settings.spark_master)
    if url.scheme != "spark" or not url.hostname:
        raise ConfigError(f"spark_workers={settings.spark_workers} needs a standalone master `spark://host:port`, "
                          f"not `{settings.spark_master}`: set GOVLAKE_SPARK_MASTER")
    return url.hostname, url.port or 7077


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _pid_file(settings: Settings, name: str) -> Path:
    return settings.run_dir / f"spark-{name}.pid"


def _names(settings: Settings) -> list[str]:
    return ["master"] + [f"worker-{i + 1}" for i in range(settings.spark_workers)]


def _ui(settings: Settings) -> str:
    host, _ = master_address(settings)
    return f"http://{host}:{settings.spark_master_webui_port}"


def _state(settings: Settings) -> dict | None:
    try:
        with urllib.request.urlopen(f"{_ui(settings)}/json/", timeout=3) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def status(settings: Settings) -> Status:
    if settings.spark_workers == 0:
        return Status("spark", "external" if settings.spark_master.startswith("spark://") else "stopped", settings.spark_master,
                      detail="" if settings.spark_master.startswith("spark://") else "local mode: no cluster")
    pids = {n: running_pid(_pid_file(settings, n)) for n in _names(settings)}
    master = pids["master"]
    if master is None:
        return Status("spark", "stopped", settings.spark_master)
    info = _state(settings)
    memory = sum(rss_mb(p) or 0 for p in pids.values() if p)
    if info is None:
        return Status("spark", "starting", settings.spark_master, master, "master web UI not answering", memory)
    alive_workers = int(info.get("aliveworkers", 0))
    detail = f"{alive_workers}/{settings.spark_workers} workers, {info.get('cores', 0)} cores, {len(info.get('activeapps', []))} applications"
    missing = [n for n, p in pids.items() if p is None]
    if missing:
        return Status("spark", "unhealthy", settings.spark_master, master, detail + f"; not running: {', '.join(missing)}", memory)
    state = "running" if info.get("status") == "ALIVE" and alive_workers >= settings.spark_workers else "starting"
    return Status("spark", state, settings.spark_master, master, detail, memory)


def _properties(settings: Settings) -> Path:
    """The daemons' private properties file: authentication and the work folder's cleanup."""
    path = settings.state / "spark" / "daemon.properties"
    private.private_dir(path.parent)
    private.write_private(path, "\n".join([
        "spark.authenticate=true",
        f"spark.authenticate.secret={spark_secret(settings)}",
        "spark.master.rest.enabled=false",
        "spark.worker.cleanup.enabled=true",
        "spark.worker.cleanup.appDataTtl=3600",
        "spark.ui.reverseProxy=false",
    ]) + "\n")
    return path


def _launch(settings: Settings, name: str, args: list[str], env: dict[str, str]) -> None:
    out = (settings.logs_dir / f"spark-{name}.log").open("ab")
    cmd = [str(_spark_home() / "bin" / "spark-class"), *args]
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=str(settings.state))
    _pid_file(settings, name).write_text(str(proc.pid))


def start(settings: Settings, *, log=print) -> Status:
    """Start the master and workers that are not running; wait until every worker has registered."""
    if settings.spark_workers == 0:
        return status(settings)
    host, port = master_address(settings)
    current = status(settings)
    if current.state == "running":
        return current
    jdk = find_jdk(minimum=17, maximum=21, explicit=settings.spark_java_home, purpose="Spark")
    for d in (settings.logs_dir, settings.run_dir):
        d.mkdir(parents=True, exist_ok=True)
    work = private.private_dir(settings.state / "spark-work")
    props = _properties(settings)
    env = {**os.environ, "JAVA_HOME": str(jdk.home), "SPARK_HOME": str(_spark_home()), "SPARK_LOCAL_IP": host,
           "SPARK_LOG_DIR": str(settings.logs_dir), "SPARK_DAEMON_MEMORY": DAEMON_MEMORY, "SPARK_WORKER_DIR": str(work),
           "SPARK_DAEMON_JAVA_OPTS": f"-XX:-UsePerfData -Djava.io.tmpdir={private.scratch_dir(settings.state, 'spark-daemons')}"}
    if running_pid(_pid_file(settings, "master")) is None:
        for p in (port, settings.spark_master_webui_port):
            if port_in_use(host, p):
                raise ServiceError(f"port `{p}` on {host} is taken by another program; stop it or set GOVLAKE_SPARK_MASTER / "
                                   f"GOVLAKE_SPARK_MASTER_WEBUI_PORT to free ports")
        log(f"starting the Spark master on {settings.spark_master}")
        _launch(settings, "master", ["org.apache.spark.deploy.master.Master", "--host", host, "--port", str(port),
                                     "--webui-port", str(settings.spark_master_webui_port), "--properties-file", str(props)], env)
    for i in range(settings.spark_workers):
        name = f"worker-{i + 1}"
        if running_pid(_pid_file(settings, name)) is None:
            log(f"starting Spark {name} ({settings.spark_worker_cores} cores, {settings.spark_worker_memory})")
            _launch(settings, name, ["org.apache.spark.deploy.worker.Worker", "--host", host, "--port", "0",
                                     "--webui-port", "0", "--cores", str(settings.spark_worker_cores),
                                     "--memory", settings.spark_worker_memory, "--work-dir", str(work),
                                     "--properties-file", str(props), settings.spark_master], env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        st = status(settings)
        if st.state == "running":
            return st
        dead = [n for n in _names(settings) if running_pid(_pid_file(settings, n)) is None]
        if dead:
            raise ServiceError(f"Spark {', '.join(dead)} exited during start; see {settings.logs_dir}/spark-{dead[0]}.log")
        time.sleep(0.5)
    raise ServiceError(f"the Spark cluster did not become ready within {START_TIMEOUT_S:.0f} s ({status(settings).detail}); "
                       f"see {settings.logs_dir}/spark-*.log", transient=True)


def stop_one(settings: Settings, name: str, *, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    processes.stop(_pid_file(settings, name), sig=sig, timeout=timeout)


def stop(settings: Settings) -> Status:
    if settings.spark_workers == 0:
        return status(settings)
    for name in reversed(_names(settings)):  # workers first: the master would mark them lost
        stop_one(settings, name)
    return status(settings)
