"""The local S3-compatible object store: s3proxy on loopback, objects kept as plain files.

With `object_store_port` (the cluster profile on one host) govlake runs s3proxy on
127.0.0.1:<port> with its file-system backend under `<state>/objects`, so Spark (S3A), Trino
(native S3) and govlake's own Python (platform/storage.py) reach an `s3a://` warehouse through
the S3 API, as they would a real store. The keys come from `storage.s3_credentials` (generated
into `<state>/secrets/object-store.json`); s3proxy reads them from a private properties file,
never from its command line. Starting creates the warehouse's bucket if it is missing.

With `s3_endpoint` naming another store govlake starts nothing: status only probes it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse
from xml.etree import ElementTree

from govlake.core import private
from govlake.core.errors import ConfigError, ServiceError
from govlake.core.settings import Settings
from govlake.platform import artifacts, storage
from govlake.platform.java import find_jdk
from govlake.platform import processes
from govlake.platform.processes import alive, port_in_use, rss_mb, running_pid
from govlake.services.trino import Status

NAME = "objects"
HOST = "127.0.0.1"
HEAP = "256m"
START_TIMEOUT_S = 60.0
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def objects_dir(settings: Settings) -> Path:
    """Where s3proxy keeps the buckets: one folder per bucket, one file per object."""
    return settings.state / "objects"


def _config_file(settings: Settings) -> Path:
    return settings.state / "object-store" / "s3proxy.properties"


def _pid_file(settings: Settings) -> Path:
    return settings.run_dir / "object-store.pid"


def _log_file(settings: Settings) -> Path:
    return settings.logs_dir / "object-store.log"


def warehouse_bucket(settings: Settings) -> str | None:
    """The bucket holding the warehouse, when the warehouse is on an object store."""
    root = settings.warehouse_root
    return urlparse(root).netloc if storage.is_object_store(root) else None


# --- S3 requests (Signature V4, standard library only) ------------------------------------------

def _sign(creds: storage.S3Credentials, method: str, path: str, host: str, now: dt.datetime) -> dict[str, str]:
    """Headers that sign a request without a body or query string (AWS Signature Version 4)."""
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {"host": host, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": stamp}
    names = ";".join(sorted(headers))
    canonical = "\n".join([method, path, "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "", names, EMPTY_SHA256])
    scope = f"{day}/{creds.region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + creds.secret_key).encode()
    for part in (day, creds.region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = f"AWS4-HMAC-SHA256 Credential={creds.access_key}/{scope}, SignedHeaders={names}, Signature={signature}"
    return headers


def _request(creds: storage.S3Credentials, method: str, path: str = "/", timeout: float = 5.0) -> tuple[int, bytes]:
    url = urlparse(creds.endpoint)
    conn_type = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    conn = conn_type(url.netloc, timeout=timeout)
    try:
        conn.request(method, path, headers=_sign(creds, method, path, url.netloc, dt.datetime.now(dt.timezone.utc)))
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _s3_error(body: bytes) -> str:
    try:
        root = ElementTree.fromstring(body)
        return f"{root.findtext('Code')}: {root.findtext('Message')}"
    except ElementTree.ParseError:
        return body[:200].decode(errors="replace")


def list_buckets(creds: storage.S3Credentials, timeout: float = 5.0) -> list[str]:
    """The bucket names (ListBuckets): the health check, it proves the store answers and takes the keys."""
    code, body = _request(creds, "GET", "/", timeout)
    if code != 200:
        raise ServiceError(f"the object store at {creds.endpoint} refused ListBuckets (HTTP {code}, {_s3_error(body)}); "
                           "check GOVLAKE_S3_ACCESS_KEY/GOVLAKE_S3_SECRET_KEY (local store: <state>/secrets/object-store.json)")
    root = ElementTree.fromstring(body)
    return sorted(e.text or "" for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Name")


def ensure_bucket(creds: storage.S3Credentials, bucket: str) -> bool:
    """Create `bucket` unless it exists; True when this call created it."""
    if bucket in list_buckets(creds):
        return False
    code, body = _request(creds, "PUT", f"/{bucket}")
    if code == 409 and b"BucketAlreadyOwnedByYou" in body:
        return False
    if code != 200:
        raise ServiceError(f"cannot create bucket `{bucket}` at {creds.endpoint} (HTTP {code}, {_s3_error(body)})")
    return True


def _probe(creds: storage.S3Credentials, timeout: float = 2.0) -> str | None:
    """None when the store answers ListBuckets with these keys, else why not."""
    try:
        list_buckets(creds, timeout)
    except ServiceError as exc:
        return str(exc)
    except (OSError, http.client.HTTPException, ElementTree.ParseError) as exc:
        return f"not answering ({exc.__class__.__name__}: {exc})"
    return None


# --- the local server ---------------------------------------------------------------------------

def _escape(value: str) -> str:
    if any(c in value for c in "\r\n"):
        raise ConfigError("the object store's access and secret keys must be single-line values")
    return value.replace("\\", "\\\\")


def configure(settings: Settings, creds: storage.S3Credentials) -> Path:
    """Write s3proxy's private properties file (it holds the secret key); return its path."""
    path = _config_file(settings)
    private.private_dir(path.parent)
    private.private_dir(objects_dir(settings))
    private.write_private(path, "\n".join([
        f"s3proxy.endpoint=http://{HOST}:{settings.object_store_port}",
        "s3proxy.authorization=aws-v2-or-v4",
        # Trino's S3 client asks ListObjectsV2 for optional attributes (x-amz-optional-object-attributes),
        # which s3proxy otherwise refuses with 501; the listing itself is complete without them
        "s3proxy.ignore-unknown-headers=true",
        f"s3proxy.identity={_escape(creds.access_key)}",
        f"s3proxy.credential={_escape(creds.secret_key)}",
        "jclouds.provider=filesystem-nio2",
        f"jclouds.filesystem.basedir={_escape(str(objects_dir(settings)))}",
    ]) + "\n")
    return path


def status(settings: Settings) -> Status:
    creds = storage.s3_credentials(settings)
    if creds is None:
        return Status(NAME, "stopped", "", detail="no object store configured (object_store_port, s3_endpoint)")
    if not settings.object_store_port:
        why = _probe(creds)
        return Status(NAME, "unhealthy" if why else "external", creds.endpoint, detail=why or "")
    pid = running_pid(_pid_file(settings))
    if pid is None:
        return Status(NAME, "stopped", creds.endpoint)
    why = _probe(creds)
    if why:
        return Status(NAME, "unhealthy", creds.endpoint, pid, why, rss_mb(pid))
    return Status(NAME, "running", creds.endpoint, pid, f"objects in {objects_dir(settings)}", rss_mb(pid))


def start(settings: Settings, *, log=print) -> Status:
    """Start s3proxy unless it runs; wait until it answers ListBuckets, then make sure the
    warehouse's bucket exists. Another store (`s3_endpoint` without `object_store_port`) is only probed."""
    creds = storage.s3_credentials(settings)
    if creds is None or not settings.object_store_port:
        return status(settings)
    pid = running_pid(_pid_file(settings))
    if pid is None:
        pid = _launch(settings, creds, log)
        proc_started = True
    else:
        proc_started = False
    _wait_ready(settings, creds, pid, proc_started)
    bucket = warehouse_bucket(settings)
    if bucket and ensure_bucket(creds, bucket):
        log(f"created bucket `{bucket}` in the object store")
    return status(settings)


def _launch(settings: Settings, creds: storage.S3Credentials, log) -> int:
    port = settings.object_store_port
    if port_in_use(HOST, port):
        raise ServiceError(f"port `{port}` on {HOST} is taken by another program; stop it or set GOVLAKE_OBJECT_STORE_PORT to a free port")
    jdk = find_jdk(minimum=17, purpose="the object store (s3proxy)")
    private.private_dir(settings.state)
    jar = artifacts.object_store_jar(settings, log=log)
    config = configure(settings, creds)
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    cmd = [str(jdk.java), f"-Xmx{HEAP}", "-XX:-UsePerfData", f"-Djava.io.tmpdir={private.scratch_dir(settings.state, 'object-store')}",
           "-jar", str(jar), "--properties", str(config)]
    log(f"starting the object store (s3proxy, Java {jdk.major}) on {creds.endpoint}, objects in {objects_dir(settings)}")
    with _log_file(settings).open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=settings.state, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    _pid_file(settings).write_text(str(proc.pid))
    return proc.pid


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_ready(settings: Settings, creds: storage.S3Credentials, pid: int, launched: bool) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    why = "not listening yet"
    while time.monotonic() < deadline:
        if not alive(pid):
            _pid_file(settings).unlink(missing_ok=True)
            raise ServiceError(f"the object store (s3proxy) exited {'during start' if launched else 'unexpectedly'}; "
                               f"see {_log_file(settings)}")
        if _listening(settings.object_store_port):
            why = _probe(creds)
            if why is None:
                return
            if "refused ListBuckets" in why:  # it answers, but not to these keys: waiting will not help
                raise ServiceError(why)
        time.sleep(0.2)
    raise ServiceError(f"the object store did not answer on {creds.endpoint} within {START_TIMEOUT_S:.0f}s (pid {pid}; {why}); "
                       f"see {_log_file(settings)}", transient=True)


def stop(settings: Settings, *, timeout: float = 20.0) -> Status:
    processes.stop(_pid_file(settings), timeout=timeout)
    return status(settings)
