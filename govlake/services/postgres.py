"""The local PostgreSQL: a throwaway cluster on loopback for the governance store and Airflow.

With `postgres_port` (the cluster profile on one host) govlake runs its own PostgreSQL cluster
with Debian's server binaries (/usr/lib/postgresql/<version>/bin; `make postgres-server`
installs them) and creates the databases `governance` (governance/store.py) and `airflow`
(services/airflow_env.py) in it. The role `govlake` signs in with a password (scram-sha-256)
generated into `<state>/secrets/postgres.json` (platform/postgres_access.py); the server listens
on 127.0.0.1 only, and its unix socket sits in its own folder, reachable by its account only.
A real deployment leaves `postgres_port` unset and names its servers with `governance_url` and
`airflow_db_url`.

Which account runs the server, and where its files are:

- As a service account (not root), govlake runs the cluster under that same account, in
  `<state>/postgres` (data, socket, server log), private like the rest of the state folder.
- As root, it cannot: PostgreSQL refuses to run as root, so Debian's `postgres` account runs it
  (through `runuser`). That account cannot enter the state folder, which is 0700 root and kept
  so (core/private.py restores 0700 whenever it finds it looser): giving `postgres` search
  permission on the state folder and its parents would need that rule loosened for one account,
  and every file the state folder holds would then be one mode away from the database server's
  account. So the cluster lives in that account's own area instead, as Debian keeps its
  clusters: `~postgres/govlake/<digest of the state folder's path>` (0700 `postgres`, with a
  file `govlake-state` naming the state folder it belongs to). Its password stays in the state
  folder's secrets. `remove` deletes a cluster for good (`stop` keeps it); a cluster whose state
  folder is gone (and with it the only copy of its password) is deleted by the next `start`.

The cluster keeps PostgreSQL's durable defaults (the audit chain is acknowledged to the Trino
event spool only once committed). Test sessions set `postgres_durable=false` (LOOPBACK_TEST):
fsync, synchronous commit and full-page writes off, for a cluster they create and throw away.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

from govlake.core import private
from govlake.core.errors import ServiceError
from govlake.core.settings import Settings
from govlake.platform.postgres_access import HOST, USER, password, url
from govlake.platform.processes import port_in_use, rss_mb
from govlake.services.trino import Status

__all__ = ["DATABASES", "NAME", "binaries", "cluster_dir", "remove", "start", "status", "stop", "url"]

NAME = "postgres"
DATABASES = ("governance", "airflow")
SERVER_ACCOUNT = "postgres"  # Debian's account, used when govlake runs as root
START_TIMEOUT_S = 60
BINARIES = Path("/usr/lib/postgresql")

# Durability traded for speed: right for a cluster on loopback that tests and demos create and
# throw away; never for a store whose history must survive a crash of the host.
LOOPBACK_TEST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def binaries() -> Path:
    """The newest installed server's bin folder (initdb, pg_ctl, postgres)."""
    found = [d / "bin" for d in BINARIES.glob("*") if all((d / "bin" / b).is_file() for b in ("initdb", "pg_ctl", "postgres"))]
    if not found:
        raise ServiceError(f"PostgreSQL's server binaries are not installed (no {BINARIES}/<version>/bin/initdb); run "
                           "`make postgres-server` (it runs `apt-get install -y postgresql`), or set GOVLAKE_GOVERNANCE_URL "
                           "and GOVLAKE_AIRFLOW_DB_URL to an existing server and unset GOVLAKE_POSTGRES_PORT")
    return max(found, key=lambda b: tuple(int(p) if p.isdigit() else 0 for p in b.parent.name.split(".")))


def _account() -> pwd.struct_passwd | None:
    """The account the server runs as when it is not this process's own (govlake runs as root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        raise ServiceError(f"the `{SERVER_ACCOUNT}` account is missing (PostgreSQL refuses to run as root, govlake runs it as "
                           f"`{SERVER_ACCOUNT}`); reinstall Debian's server with `make postgres-server`") from None


def cluster_dir(settings: Settings) -> Path:
    """The folder holding the cluster's data, socket and server log (see the module's docstring)."""
    account = _account()
    if account is None:
        return settings.state / "postgres"
    digest = hashlib.sha256(str(settings.state).encode()).hexdigest()[:16]
    return Path(account.pw_dir) / "govlake" / digest


def _data(settings: Settings) -> Path:
    return cluster_dir(settings) / "data"


def _log_file(settings: Settings) -> Path:
    return cluster_dir(settings) / "postgres.log"


def _endpoint(settings: Settings) -> str:
    return f"postgresql://{HOST}:{settings.postgres_port}"


def _own_dir(path: Path, account: pwd.struct_passwd | None) -> None:
    """`path` created if missing, 0700 and owned by the server's account."""
    path.mkdir(mode=0o700, exist_ok=True)
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)
    os.chmod(path, 0o700)


def _write_owned(path: Path, text: str, account: pwd.struct_passwd | None) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if account is not None:
            os.fchown(fd, account.pw_uid, account.pw_gid)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _run(settings: Settings, argv: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Run a server program as the server's account, in the cluster folder."""
    account = _account()
    cmd = ["runuser", "-u", account.pw_name, "--", *argv] if account else argv
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C"}
    return subprocess.run(cmd, cwd=cluster_dir(settings), env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _read_pid(settings: Settings) -> int | None:
    return _running(_data(settings))


def _running(data: Path) -> int | None:
    """The postmaster's pid while it runs (first line of postmaster.pid)."""
    from govlake.platform.processes import alive

    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def _remove_orphans(account: pwd.struct_passwd, log) -> None:
    """Delete the stopped clusters in the server account's area whose state folder is gone."""
    for folder in (Path(account.pw_dir) / "govlake").glob("*"):
        try:
            state = Path((folder / "govlake-state").read_text().strip())
        except OSError:
            continue
        if not state.exists() and _running(folder / "data") is None:
            shutil.rmtree(folder, ignore_errors=True)
            log(f"removed the PostgreSQL cluster {folder}: its state folder {state} is gone")


def _connect(settings: Settings, database: str = "postgres", timeout: float = 3.0):
    import psycopg

    return psycopg.connect(host=HOST, port=settings.postgres_port, user=USER, password=password(settings), dbname=database,
                           connect_timeout=max(1, int(timeout)), autocommit=True)


def _probe(settings: Settings, timeout: float = 3.0) -> str | None:
    """None when the server answers a query with govlake's password, else why not."""
    import psycopg

    try:
        with _connect(settings, timeout=timeout) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        why = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        if "password authentication failed" in why:
            why += (f" (the cluster in {cluster_dir(settings)} was made with another password than "
                    f"{settings.secrets_dir / 'postgres.json'}: restore that file, or remove the cluster)")
        return why
    return None


def status(settings: Settings) -> Status:
    if not settings.postgres_port:
        return Status(NAME, "stopped", "", detail="no local PostgreSQL configured (postgres_port)")
    pid = _read_pid(settings)
    if pid is None:
        return Status(NAME, "stopped", _endpoint(settings))
    why = _probe(settings)
    if why:
        return Status(NAME, "unhealthy", _endpoint(settings), pid, why, rss_mb(pid))
    return Status(NAME, "running", _endpoint(settings), pid, f"data in {_data(settings)}", rss_mb(pid))


def start(settings: Settings, *, log=print) -> Status:
    """Create the cluster if missing, start it unless it runs, wait until it answers with
    govlake's password, and create the databases it serves if missing. Idempotent."""
    if not settings.postgres_port:
        return status(settings)
    with private.exclusive(settings.run_dir / "postgres.lock"):
        if _read_pid(settings) is None:
            port = settings.postgres_port
            if port_in_use(HOST, port):
                raise ServiceError(f"port `{port}` on {HOST} is taken by another program; stop it or set GOVLAKE_POSTGRES_PORT "
                                   "to a free port")
            bindir = binaries()
            _init(settings, bindir, log)
            _configure(settings)
            began = time.monotonic()
            out = _run(settings, [str(bindir / "pg_ctl"), "-D", str(_data(settings)), "-l", str(_log_file(settings)),
                                  "-w", "-t", str(START_TIMEOUT_S), "-s", "start"], timeout=START_TIMEOUT_S + 10)
            if out.returncode != 0:
                raise ServiceError(f"PostgreSQL did not start on {HOST}:{port}: {(out.stderr or out.stdout).strip()[-400:]}; "
                                   f"its log is {_log_file(settings)}{_log_tail(settings)}")
            log(f"PostgreSQL {bindir.parent.name} started on {HOST}:{port} in {time.monotonic() - began:.2f} s "
                f"(data in {_data(settings)})")
        _wait_answering(settings)
        _ensure_databases(settings, log)
    return status(settings)


def _log_tail(settings: Settings) -> str:
    try:
        lines = _log_file(settings).read_text(errors="replace").strip().splitlines()[-5:]
    except OSError:
        return ""
    return ("; it ends:\n  " + "\n  ".join(lines)) if lines else ""


def _init(settings: Settings, bindir: Path, log) -> None:
    """initdb, once: the `govlake` role with its password, UTF-8, scram-sha-256 for every connection."""
    account = _account()
    folder = cluster_dir(settings)
    if account is not None:
        _own_dir(folder.parent, account)
        _remove_orphans(account, log)
    else:
        private.private_dir(settings.state)
    _own_dir(folder, account)
    if (_data(settings) / "PG_VERSION").is_file():
        return
    _write_owned(folder / "govlake-state", f"{settings.state}\n", account)
    if _data(settings).exists():
        shutil.rmtree(_data(settings))  # an initdb that was interrupted
    pwfile = folder / "initdb.pw"
    _write_owned(pwfile, password(settings) + "\n", account)
    began = time.monotonic()
    try:
        out = _run(settings, [str(bindir / "initdb"), "-D", str(_data(settings)), "-U", USER, f"--pwfile={pwfile}",
                              "-A", "scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"], timeout=120)
    finally:
        pwfile.unlink(missing_ok=True)
    if out.returncode != 0:
        raise ServiceError(f"initdb failed for {_data(settings)}: {(out.stderr or out.stdout).strip()[-600:]}")
    with open(_data(settings) / "postgresql.conf", "a") as conf:  # keeps its owner: the server's account
        conf.write("\n# govlake's settings, rewritten at every start (services/postgres.py)\ninclude_if_exists = 'govlake.conf'\n")
    log(f"PostgreSQL cluster created in {_data(settings)} in {time.monotonic() - began:.2f} s")


def _configure(settings: Settings) -> None:
    """Write the settings govlake owns (port, addresses, socket, LOOPBACK_TEST) before each start."""
    account = _account()
    sock = cluster_dir(settings) / "sock"
    _own_dir(sock, account)
    socket_dirs = str(sock) if len(str(sock)) + len("/.s.PGSQL.65535") < 100 else ""  # a unix socket path has ~107 bytes
    lines = [
        "# Written by govlake at every start (services/postgres.py): edits here are lost.",
        f"port = {settings.postgres_port}",
        f"listen_addresses = '{HOST}'",
        f"unix_socket_directories = '{socket_dirs}'",
        "unix_socket_permissions = 0700",
        "password_encryption = 'scram-sha-256'",
        *(["# LOOPBACK_TEST (postgres_durable=false): a throwaway cluster trades durability for speed;",
           "# a crash of the host may lose or corrupt it."] + [f"{k} = {v}" for k, v in LOOPBACK_TEST.items()]
          if not settings.postgres_durable else []),
    ]
    _write_owned(_data(settings) / "govlake.conf", "\n".join(lines) + "\n", account)


def _wait_answering(settings: Settings, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        why = _probe(settings)
        if why is None:
            return
        if time.monotonic() > deadline:
            raise ServiceError(f"PostgreSQL at {HOST}:{settings.postgres_port} runs but does not answer govlake ({why}); "
                               f"see {_log_file(settings)}")
        time.sleep(0.2)


def _ensure_databases(settings: Settings, log) -> None:
    import psycopg
    from psycopg import sql

    with _connect(settings) as conn:
        have = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        for name in DATABASES:
            if name in have:
                continue
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                log(f"created PostgreSQL database `{name}`")
            except psycopg.errors.DuplicateDatabase:
                pass  # another process made it first


def stop(settings: Settings, *, timeout: float = 60.0) -> Status:
    """Stop the server (fast shutdown: open sessions are ended); the cluster is kept."""
    if not settings.postgres_port or _read_pid(settings) is None:
        return status(settings)
    with private.exclusive(settings.run_dir / "postgres.lock"):
        out = _run(settings, [str(binaries() / "pg_ctl"), "-D", str(_data(settings)), "-m", "fast", "-w", "-t", str(int(timeout)),
                              "-s", "stop"], timeout=timeout + 10)
        if out.returncode != 0 and _read_pid(settings) is not None:
            raise ServiceError(f"PostgreSQL did not stop: {(out.stderr or out.stdout).strip()[-400:]}; see {_log_file(settings)}")
    return status(settings)


def remove(settings: Settings) -> None:
    """Stop the server and delete the cluster with everything it held."""
    stop(settings)
    shutil.rmtree(cluster_dir(settings), ignore_errors=True)
