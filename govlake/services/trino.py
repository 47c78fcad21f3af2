"""The embedded Trino server: configure, start, health-check, stop.

The server is unpacked from the Maven Central archive into the cache (see artifacts.py) and run
with its configuration, data and logs under `<state>/trino`. Configuration is rendered from
`infra/trino/` and `catalog/trino/` templates plus settings, so the same templates describe a
cluster coordinator when `trino_url` points elsewhere (then govlake starts nothing).
"""
from __future__ import annotations

import http.client
import json
import signal
import string
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from govlake.contracts import access
from govlake.core import private
from govlake.core.errors import JavaError, ServiceError
from govlake.core.settings import Settings
from govlake.platform import artifacts, processes, storage
from govlake.platform.java import Jdk, find_jdk
from govlake.platform.processes import port_in_use, rss_mb, running_pid
from govlake.services import audit_receiver, trino_plugin, trino_security

MIN_JAVA = 24
SERVICE_ACCOUNT = "etl_service"  # the scheduled ETL's identity: its failed sign-ins are recorded, it is never locked out
OLD_SERVER = "a Trino started by an older govlake (plain HTTP, no passwords) is running; run `govlake down`, then `govlake up`"


@dataclass
class Status:
    name: str
    state: str  # running | starting | stopped | external | unhealthy
    url: str
    pid: int | None = None
    detail: str = ""
    memory_mb: float | None = None
    availability: dict | None = None  # measured by the supervisor over a window (services/supervisor.py)

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _dir(settings: Settings) -> Path:
    return settings.state / "trino"


def _pid_file(settings: Settings) -> Path:
    return settings.run_dir / "trino.pid"


def _render(template: Path, **values: str) -> str:
    return string.Template(template.read_text()).substitute(values)


def _has_module(java: Path, module: str) -> bool:
    out = subprocess.run([str(java), "--list-modules"], capture_output=True, text=True, timeout=60)
    return any(line.split("@")[0] == module for line in out.stdout.splitlines())


SIGN_IN_UNRECORDED = "sign-in-unrecorded"  # marker in etc/: the stock authenticator runs, failed sign-ins go unrecorded


def configure(settings: Settings, install: Path, jdk: Jdk, audit_port: int, *, log=print) -> Path:
    """Write etc/ for the embedded server; return the etc directory."""
    base = _dir(settings)
    etc = base / "etc"
    catalog_dir = etc / "catalog"
    catalog_dir.mkdir(parents=True, exist_ok=True)
    (base / "data").mkdir(exist_ok=True)
    infra = settings.path("infra", "trino")
    heap = settings.trino_heap
    heap_mb = _to_mb(heap)
    jvm = _render(infra / "jvm.config", heap=heap)
    if _has_module(jdk.java, "jdk.incubator.vector"):
        jvm += "--add-modules=jdk.incubator.vector\n"
    (etc / "jvm.config").write_text(jvm)
    sec = trino_security.ensure(settings)
    access_file = etc / "access-control.properties"
    plugins = sorted(artifacts.load_manifest(settings).trino_plugins)
    try:
        plugin_dir = trino_plugin.plugin_dir(settings, install, plugins, jdk, log=log)
        authenticator = (f"password-authenticator.name=govlake-file\ngovlake.password-file={sec.password_db}\n"
                         f"govlake.audit-spool={audit_receiver.spool_dir(settings)}\n"
                         f"govlake.max-failures={settings.sign_in_max_failures}\ngovlake.lockout-seconds={settings.sign_in_lockout_s}\n"
                         f"govlake.lockout-exempt={SERVICE_ACCOUNT}\n")
        (etc / SIGN_IN_UNRECORDED).unlink(missing_ok=True)
        # every completed query also goes straight into the spool from Trino's own process: it is
        # audited even while the receiver is down (the HTTP listener only makes it prompt)
        (etc / SPOOL_LISTENER).write_text(f"event-listener.name=govlake-spool\ngovlake.audit-spool={audit_receiver.spool_dir(settings)}\n")
        listeners = [etc / "http-event-listener.properties", etc / SPOOL_LISTENER]
    except JavaError as exc:
        log(f"WARNING: failed sign-ins will not be recorded and no lockout applies: {exc}")
        (etc / SIGN_IN_UNRECORDED).write_text(str(exc))
        plugin_dir = install / "plugin"
        (etc / SPOOL_LISTENER).unlink(missing_ok=True)
        listeners = [etc / "http-event-listener.properties"]
        authenticator = f"password-authenticator.name=file\nfile.password-file={sec.password_db}\nfile.refresh-period={REGISTRY_REFRESH}\n"
    config = _render(
        infra / "config.properties",
        port=str(settings.trino_port),
        host=settings.trino_host,
        plugin_dir=str(plugin_dir),
        catalog_dir=str(catalog_dir),
        query_max_memory=f"{max(256, heap_mb // 3)}MB",
        tls_pem=str(sec.tls_pem),
        tls_cert=str(sec.tls_cert),
        shared_secret=sec.shared_secret,
        access_control_file=str(access_file),
        event_listener_file=",".join(str(p) for p in listeners),
        include_coordinator="false" if settings.trino_workers else "true",
    )
    private.write_private(etc / "config.properties", config)
    (etc / "password-authenticator.properties").write_text(authenticator)
    (etc / "group-provider.properties").write_text(
        f"group-provider.name=file\nfile.group-file={etc / 'groups.txt'}\nfile.refresh-period={REGISTRY_REFRESH}\n"
    )

    access_file.write_text(
        f"access-control.name=file\nsecurity.config-file={access.rules_path(settings)}\n"
        f"security.refresh-period={access.REFRESH_PERIOD}\n"
    )
    trino_security.sync_registry(settings)
    listener = etc / "http-event-listener.properties"
    # HTTPS to the receiver, verified against the local certificate: should the receiver be down
    # and another local process take its port, Trino sends it neither the token nor a query text
    private.write_private(listener, (
        "event-listener.name=http\n"
        "http-event-listener.log-completed=true\n"
        f"http-event-listener.connect-ingest-uri={audit_receiver.url(audit_port)}{audit_receiver.PATH}\n"
        f"http-event-listener.connect-http-headers=Authorization:Bearer {audit_receiver.token(settings)}\n"
        f"http-event-listener.http-client.trust-store-path={sec.tls_cert}\n"
        "http-event-listener.connect-retry-count=5\n"
        "http-event-listener.connect-retry-delay=1s\n"
    ))
    (etc / "log.properties").write_text((infra / "log.properties").read_text())
    private.write_private(catalog_dir / f"{settings.trino_catalog}.properties", catalog(settings))
    return etc


def catalog(settings: Settings) -> str:
    """The Delta catalog over the warehouse, for the coordinator and the workers alike (it holds
    the object store's keys: written private)."""
    metastore = settings.trino_metastore_dir
    if metastore is None:
        local = _dir(settings) / "metastore"
        local.mkdir(parents=True, exist_ok=True)
        metastore = f"local://{local}"
    creds = storage.s3_credentials(settings)
    lines = ["fs.native-local.enabled=true", "local.location=/"]
    if creds is not None:
        # conditional writes (`s3.exclusive-create`, the default) make Trino's own Delta commits safe
        lines += ["fs.native-s3.enabled=true", f"s3.endpoint={creds.endpoint}", f"s3.region={creds.region}",
                  "s3.path-style-access=true", f"s3.aws-access-key={creds.access_key}", f"s3.aws-secret-key={creds.secret_key}"]
    return _render(settings.path("catalog", "trino", "delta.properties.tmpl"), metastore_dir=metastore, filesystem="\n".join(lines))


def worker_port(settings: Settings, index: int) -> int:
    return (settings.trino_worker_port or settings.trino_port + 1) + index


def _worker_dir(settings: Settings, index: int) -> Path:
    return settings.state / f"trino-worker-{index + 1}"


def configure_worker(settings: Settings, index: int, coordinator_etc: Path, jdk: Jdk) -> Path:
    """etc/ of local worker `index`: the coordinator's plugins, catalog and certificate, its own
    port, node id and data folder."""
    base = _worker_dir(settings, index)
    etc = base / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (base / "data").mkdir(exist_ok=True)
    infra = settings.path("infra", "trino")
    sec = trino_security.ensure(settings)
    coordinator = dict(line.split("=", 1) for line in (coordinator_etc / "config.properties").read_text().splitlines()
                       if "=" in line and not line.startswith("#"))
    config = _render(
        infra / "worker.properties",
        port=str(worker_port(settings, index)),
        tls_pem=str(sec.tls_pem),
        tls_cert=str(sec.tls_cert),
        shared_secret=sec.shared_secret,
        coordinator_host=settings.trino_host,
        coordinator_port=str(settings.trino_port),
        plugin_dir=coordinator["plugin.dir"],
        catalog_dir=str(coordinator_etc / "catalog"),
        query_max_memory=coordinator["query.max-memory"],
    )
    private.write_private(etc / "config.properties", config)
    jvm = _render(infra / "jvm.config", heap=settings.trino_worker_heap)
    if _has_module(jdk.java, "jdk.incubator.vector"):
        jvm += "--add-modules=jdk.incubator.vector\n"
    (etc / "jvm.config").write_text(jvm)
    (etc / "log.properties").write_text((infra / "log.properties").read_text())
    return etc


SPOOL_LISTENER = "govlake-event-listener.properties"
REGISTRY_REFRESH = "1s"  # Trino re-reads the password and group files this often


def _to_mb(size: str) -> int:
    units = {"K": 1 / 1024, "M": 1, "G": 1024}
    s = size.strip().upper().rstrip("B")
    return int(float(s[:-1]) * units[s[-1]]) if s[-1] in units else int(s) // (1 << 20)


def _read_pid(settings: Settings) -> int | None:
    return running_pid(_pid_file(settings))


def _info(url: str, timeout: float = 2.0, cafile: Path | None = None) -> dict | None:
    import ssl

    context = ssl.create_default_context(cafile=str(cafile) if cafile else None) if url.startswith("https") else None
    try:
        with urllib.request.urlopen(f"{url}/v1/info", timeout=timeout, context=context) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException):  # e.g. TLS bytes to a plain-HTTP probe
        return None


def status(settings: Settings) -> Status:
    """Trino as its users see it: the coordinator's state, except that a coordinator that runs
    while a local worker it relies on is stopped or not answering is `unhealthy` (with workers
    the coordinator schedules no work itself, so every query fails)."""
    st = coordinator_status(settings)
    if st.state != "running":
        return st
    down = down_workers(settings)
    if not down:
        return st
    names = ", ".join(f"{w.name} ({'stopped' if w.state == 'stopped' else 'not answering'})" for w in down)
    return Status("trino", "unhealthy", st.url, st.pid, f"coordinator answers but {names}: queries fail "
                  f"(the coordinator schedules no work itself); {st.detail}", st.memory_mb)


def down_workers(settings: Settings) -> list[Status]:
    """The configured local workers that are stopped or not answering."""
    return [w for w in worker_status(settings) if w.state in ("stopped", "unhealthy")]


def coordinator_status(settings: Settings) -> Status:
    """The coordinator alone (or the external Trino), whatever its workers' state."""
    url = settings.trino_endpoint
    if settings.trino_url:
        info = _info(url)
        return Status("trino", "external" if info else "unhealthy", url, detail="" if info else "not reachable")
    pid = _read_pid(settings)
    if pid is None:
        return Status("trino", "stopped", url)
    info = _info(url, cafile=trino_security.client_cert(settings))
    if info is None:
        if url.startswith("https://") and _info("http://" + url[len("https://"):], timeout=1.0):
            return Status("trino", "unhealthy", url, pid, OLD_SERVER, rss_mb(pid))
        return Status("trino", "unhealthy", url, pid, "process alive but HTTP not answering", rss_mb(pid))
    state = "starting" if info.get("starting") else "running"
    detail = f"version {info.get('nodeVersion', {}).get('version', '?')}"
    if (_dir(settings) / "etc" / SIGN_IN_UNRECORDED).is_file():
        detail += "; failed sign-ins NOT recorded and queries audited only while the receiver runs (no javac >= 24 to build govlake's plugin)"
    return Status("trino", state, url, pid, detail, rss_mb(pid))


def start(settings: Settings, *, log=print, wait: bool = True) -> Status:
    """Start the embedded server unless it is already running; wait until it answers queries."""
    current = coordinator_status(settings)  # a running coordinator stays; only its missing workers are started
    if current.state in ("running", "starting", "unhealthy") and current.pid:
        trino_security.sync_registry(settings)  # `govlake up` on a running server applies registry changes
    if current.state == "running":
        ensure_receiver(settings)
        if any(w.state == "stopped" for w in worker_status(settings)):
            jdk = find_jdk(minimum=MIN_JAVA, explicit=settings.trino_java_home, purpose="Trino")
            _start_workers(settings, jdk, artifacts.trino_install(settings, log=log), _dir(settings) / "etc", log)
            return _wait_ready(settings, current.pid, log) if wait else status(settings)
        return status(settings)
    if current.state == "external":
        return current
    if current.detail == OLD_SERVER:
        raise ServiceError(OLD_SERVER)
    if current.state in ("starting", "unhealthy") and current.pid:
        return _wait_ready(settings, current.pid, log) if wait else current
    if port_in_use(settings.trino_host, settings.trino_port):
        raise ServiceError(
            f"port `{settings.trino_port}` on {settings.trino_host} is taken by another program; stop it or set "
            f"GOVLAKE_TRINO_PORT to a free port"
        )
    jdk = find_jdk(minimum=MIN_JAVA, explicit=settings.trino_java_home, purpose="Trino")
    private.private_dir(settings.state)
    private.tighten(settings.state)  # a state folder written before govlake kept it private
    install = artifacts.trino_install(settings, log=log)
    etc = configure(settings, install, jdk, audit_receiver.start(settings), log=log)
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    log(f"starting Trino (Java {'.'.join(map(str, jdk.version))}, heap {settings.trino_heap}) on {settings.trino_endpoint}")
    proc = _launch(settings, jdk, install, etc, _dir(settings), "govlake-local", "trino-server", _pid_file(settings))
    _start_workers(settings, jdk, install, etc, log)
    if not wait:
        return status(settings)
    return _wait_ready(settings, proc.pid, log, proc)


def _launch(settings: Settings, jdk: Jdk, install: Path, etc: Path, base: Path, node_id: str, log_name: str,
            pid_file: Path) -> subprocess.Popen:
    jvm_opts = [ln.strip() for ln in (etc / "jvm.config").read_text().splitlines() if ln.strip()]
    cmd = [
        str(jdk.java),
        *jvm_opts,
        f"-Dconfig={etc / 'config.properties'}",
        f"-Dlog.levels-file={etc / 'log.properties'}",
        f"-Dlog.output-file={settings.logs_dir / (log_name + '.log')}",
        "-Dlog.enable-console=false",
        "-Dnode.environment=govlake",
        f"-Dnode.id={node_id}",
        f"-Dnode.internal-address={settings.trino_host}",  # internal HTTPS must match the certificate
        f"-Dnode.bind-ip={settings.trino_host}",  # the HTTPS server listens on this address only (loopback)
        f"-Dnode.data-dir={base / 'data'}",
        f"-Djava.io.tmpdir={private.scratch_dir(settings.state, base.name)}",
        "-XX:-UsePerfData",  # no world-readable hsperfdata file in /tmp
        "-cp",
        f"{install / 'lib'}/*",
        "io.trino.server.TrinoServer",
    ]
    launcher = "trino-launcher" if log_name == "trino-server" else f"{log_name}-launcher"
    out = (settings.logs_dir / f"{launcher}.log").open("ab")
    proc = subprocess.Popen(cmd, cwd=base, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    pid_file.write_text(str(proc.pid))
    return proc


def _worker_pid_file(settings: Settings, index: int) -> Path:
    return settings.run_dir / f"trino-worker-{index + 1}.pid"


def _start_workers(settings: Settings, jdk: Jdk, install: Path, coordinator_etc: Path, log) -> None:
    for i in range(settings.trino_workers):
        if running_pid(_worker_pid_file(settings, i)) is not None:
            continue
        port = worker_port(settings, i)
        if port_in_use(settings.trino_host, port):
            raise ServiceError(f"port `{port}` on {settings.trino_host} (Trino worker {i + 1}) is taken by another program; "
                               f"set GOVLAKE_TRINO_WORKER_PORT to a free port")
        etc = configure_worker(settings, i, coordinator_etc, jdk)
        log(f"starting Trino worker {i + 1} (heap {settings.trino_worker_heap}) on port {port}")
        _launch(settings, jdk, install, etc, _worker_dir(settings, i), f"govlake-worker-{i + 1}", f"trino-worker-{i + 1}",
                _worker_pid_file(settings, i))


def worker_status(settings: Settings) -> list[Status]:
    out = []
    for i in range(settings.trino_workers):
        url = f"https://{settings.trino_host}:{worker_port(settings, i)}"
        pid = running_pid(_worker_pid_file(settings, i))
        if pid is None:
            out.append(Status(f"trino-worker-{i + 1}", "stopped", url))
            continue
        info = _info(url, cafile=trino_security.client_cert(settings))
        state = "unhealthy" if info is None else "starting" if info.get("starting") else "running"
        out.append(Status(f"trino-worker-{i + 1}", state, url, pid, "" if info else "process alive but HTTPS not answering", rss_mb(pid)))
    return out


def stop_worker(settings: Settings, index: int, *, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    processes.stop(_worker_pid_file(settings, index), sig=sig, timeout=timeout)


def ensure_receiver(settings: Settings) -> None:
    """Trino is up: make sure its audit receiver is too, on the port Trino was configured with."""
    listener = _dir(settings) / "etc" / "http-event-listener.properties"
    port = None
    if listener.is_file():
        for line in listener.read_text().splitlines():
            if line.startswith("http-event-listener.connect-ingest-uri="):
                port = int(line.split(":")[-1].split("/")[0])
    audit_receiver.start(settings, port)


def _wait_ready(settings: Settings, pid: int, log, proc: subprocess.Popen | None = None) -> Status:
    deadline = time.monotonic() + settings.trino_start_timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            _pid_file(settings).unlink(missing_ok=True)
            raise ServiceError(
                f"Trino exited during start with code {proc.returncode}; see {settings.logs_dir / 'trino-launcher.log'} "
                f"and {settings.logs_dir / 'trino-server.log'}"
            )
        info = _info(settings.trino_endpoint, cafile=trino_security.client_cert(settings))
        workers = worker_status(settings)
        if info and not info.get("starting") and all(w.state == "running" for w in workers):
            return status(settings)
        stopped = [w.name for w in workers if w.state == "stopped"]
        if stopped:
            raise ServiceError(f"{', '.join(stopped)} exited during start; see {settings.logs_dir / (stopped[0] + '.log')}")
        time.sleep(1)
    raise ServiceError(
        f"Trino did not become ready within {settings.trino_start_timeout_s:.0f}s (pid {pid}); see "
        f"{settings.logs_dir / 'trino-server.log'}; raise GOVLAKE_TRINO_START_TIMEOUT_S on a slow machine",
        transient=True,
    )


def stop(settings: Settings, *, timeout: float = 30.0) -> Status:
    for i in range(settings.trino_workers):  # workers first: the coordinator would reschedule around them
        stop_worker(settings, i, timeout=timeout)
    processes.stop(_pid_file(settings), timeout=timeout)
    audit_receiver.stop(settings)  # after Trino, which posts its last events on the way down
    return status(settings)
