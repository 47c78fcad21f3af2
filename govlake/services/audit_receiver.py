"""The audit receiver: Trino's HTTP event listener posts every completed query here, and each
becomes an entry of the keyed, hash-chained audit log (actor, query text, tables and columns
read, masks and filters applied, outcome). It is also govlake's OpenLineage endpoint: run events
posted to `/api/v1/lineage` (the OpenLineage HTTP API) are stored as lineage (governance/lineage.py).

It runs as a small local process beside the embedded Trino (started and stopped with it),
listens on loopback only, serves HTTPS with the local certificate (Trino and the lineage
producers verify it, so a process that takes the port while the receiver is down gets neither
the token nor a query text), and accepts only requests carrying the token generated into the
secrets folder, with a body of bounded size.

No event is lost when the store cannot take it at once (a writer holding it, a full disk later
freed): each event is first written durably to the spool folder (`<state>/audit-spool/`,
fsync'd) and only then acknowledged; a drain thread moves spooled events into the chain, each
exactly once (keyed by query id in `audit_received`, in the same transaction as its entry), and
retries until the store takes them. An entry's `received_at` shows when the event arrived, so a
late entry is visible as such. Only when the spool itself cannot be written does Trino get a 500
(and retry). The query text can hold identifiers an operator searched for: the audit log is
readable by compliance officers only.

    python -m govlake.services.audit_receiver --port N
"""
from __future__ import annotations

import argparse
import hmac
import itertools
import json
import logging
import os
import secrets as pysecrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from govlake.core import private
from govlake.core.errors import ServiceError
from govlake.core.settings import Settings, load_settings
from govlake.governance import audit, lineage, store
from govlake.platform.processes import alive
from govlake.services import trino_security

PATH = "/trino/events"
LINEAGE_PATH = "/api/v1/lineage"
MAX_BODY = 64 << 20  # a completed-query event (query text up to Trino's 1M characters, plans) stays far below this
log = logging.getLogger("govlake.audit_receiver")


def url(port: int) -> str:
    return f"https://127.0.0.1:{port}"


def client_context(settings: Settings) -> ssl.SSLContext:
    """TLS context that trusts only the local certificate the receiver serves."""

    return ssl.create_default_context(cafile=str(trino_security.tls_files(settings)[1]))


def spool_dir(settings: Settings) -> Path:
    return settings.state / "audit-spool"


def token(settings: Settings) -> str:
    """The bearer token Trino's event listener posts with: it writes audit entries."""
    return _token_file(settings, "audit-receiver.token")


def lineage_token(settings: Settings) -> str:
    """The bearer token lineage producers (the Spark jobs, Airflow's OpenLineage provider) post
    with: it writes lineage events only, never audit entries, so the environments that hold it
    (every Airflow task) cannot forge the audit."""
    return _token_file(settings, "lineage-receiver.token")


def _token_file(settings: Settings, name: str) -> str:
    path = settings.secrets_dir / name
    if not path.is_file():
        private.create_private(path, pysecrets.token_urlsafe(32))
    return path.read_text().strip()


def entry_of(event: dict) -> tuple[str, str, str, dict, datetime]:
    """(actor, action, object, detail, time) for one QueryCompletedEvent."""
    meta, ctx, stats = event.get("metadata", {}), event.get("context", {}), event.get("statistics", {})
    failure = event.get("failureInfo")
    tables = []
    for t in meta.get("tables", []) or []:
        tables.append({
            "table": f"{t.get('catalog')}.{t.get('schema')}.{t.get('table')}",
            "columns": [c.get("column") for c in t.get("columns", [])],
            "masks": {c.get("column"): c.get("mask") for c in t.get("columns", []) if c.get("mask")},
            "filters": t.get("filters", []),
            "direct": t.get("directlyReferenced"),
        })
    inputs = [f"{i.get('catalogName')}.{i.get('schema')}.{i.get('table')}" for i in (event.get("ioMetadata", {}).get("inputs") or [])]
    detail = {
        "query_id": meta.get("queryId"), "query": meta.get("query"), "state": meta.get("queryState"),
        "tables": tables, "inputs": inputs, "source": ctx.get("source"),
        "groups": sorted(ctx.get("groups") or []),  # department and role as Trino saw them at the time
        "outcome": "failed" if failure else "succeeded",
        "error": ({"code": (failure.get("errorCode") or {}).get("name"), "message": (failure.get("failureMessage") or "")[:500]} if failure else None),
        "wall_s": _seconds(stats.get("wallTime")), "rows": stats.get("outputRows"),
    }
    denied = bool(failure) and (failure.get("errorCode") or {}).get("name") == "PERMISSION_DENIED"
    action = "query.denied" if denied else ("query.failed" if failure else "query.completed")
    when = _time(event.get("endTime") or event.get("createTime"))
    user = ctx.get("user")
    actor = "".join(c for c in user if c.isprintable())[:64] if isinstance(user, str) else ""
    return actor or "?", action, f"trino:{str(meta.get('queryId'))[:200]}", detail, when


SIGN_IN_ACTIONS = {"auth.failed": "wrong user or password", "auth.lockout": "wrong password; the user is now locked out",
                   "auth.locked": "refused: the user is locked out after repeated failures"}


def sign_in_entry(record: dict) -> tuple[str, str, str, dict, datetime]:
    """(actor, action, object, detail, time) for a failed or refused sign-in."""
    action = record.get("action") if record.get("action") in SIGN_IN_ACTIONS else "auth.failed"
    user = "".join(c for c in str(record.get("user", "?")) if c.isprintable())[:64] or "?"
    return user, action, f"{record.get('source', 'trino')}:sign-in", {"outcome": SIGN_IN_ACTIONS[action]}, _time(record.get("at"))


def _seconds(v) -> float | None:
    """Trino serialises durations as seconds (a number) or as ISO-8601 `PT1.234S`."""
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and v.upper().startswith("PT") and v.upper().endswith("S"):
        try:
            return float(v[2:-1])
        except ValueError:
            return None
    return None


def _time(v) -> datetime:
    if isinstance(v, str):
        try:
            return datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(timezone.utc)
        except ValueError:
            pass
    return datetime.now(timezone.utc)


_sequence = itertools.count()


def spool(settings: Settings, body: bytes) -> Path:
    """Write one request's events durably; the receiver acknowledges only after this."""
    d = private.private_dir(spool_dir(settings))
    received = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    path = d / f"{time.time_ns():020d}-{os.getpid()}-{next(_sequence):06d}.json"
    tmp = path.with_suffix(".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, private.FILE_MODE)
    try:
        os.write(fd, json.dumps({"received_at": received}).encode() + b"\n" + body)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return path


def pending(settings: Settings) -> list[Path]:
    """Spooled events not yet in the chain, oldest first."""
    d = spool_dir(settings)
    return sorted(d.glob("*.json")) if d.is_dir() else []


def drain(settings: Settings) -> int:
    """Move every spooled event into the chain (each query once); returns how many entries were
    appended. A file is removed only after its entries are committed."""
    with _drain_lock:  # the drain thread and the last drain at shutdown never interleave
        return _drain(settings)


_drain_lock = threading.Lock()


def _entries_in(path: Path) -> tuple[str, list[tuple[str, tuple]]]:
    """(received_at, [(dedupe key, (actor, action, object, detail, time))]) of one spool file."""
    head, _, body = path.read_bytes().partition(b"\n")
    received = json.loads(head)["received_at"]
    parsed = json.loads(body)
    out = []
    for i, event in enumerate(parsed if isinstance(parsed, list) else [parsed]):
        if not isinstance(event, dict):
            raise ValueError(f"event {i} is not a JSON object")
        if "govlake_sign_in" in event:  # written by govlake's Trino sign-in plugin
            out.append((f"spool:{path.name}:{i}", sign_in_entry(event["govlake_sign_in"])))
        elif "govlake_refused" in event:  # an event the receiver could not take whole
            refused = event["govlake_refused"]
            out.append((f"spool:{path.name}:{i}", ("?", "audit.event_refused", f"receiver:{refused.get('path')}",
                                                    {"bytes": refused.get("bytes"), "limit": MAX_BODY}, _time(None))))
        elif "metadata" in event and "statistics" in event:
            entry = entry_of(event)
            out.append((entry[2] if entry[3].get("query_id") else f"spool:{path.name}:{i}", entry))
        # anything else is a QueryCreatedEvent: only completed queries are recorded
    return received, out


def _reject(settings: Settings, path: Path, exc: Exception) -> None:
    """A spool file govlake cannot read is moved aside (never retried forever in front of the
    others) and the gap is recorded in the chain, naming the file, not its content."""

    aside = private.private_dir(spool_dir(settings) / "rejected")
    audit.record(settings, "?", "audit.event_rejected", f"spool:{path.name}", {"error": type(exc).__name__, "kept": str(aside / path.name)})
    path.replace(aside / path.name)
    log.error("audit spool file %s is not a readable event (%s); moved to %s", path.name, type(exc).__name__, aside)


def _drain(settings: Settings) -> int:
    import sqlalchemy as sa

    added = 0
    for path in pending(settings):
        try:
            received, entries = _entries_in(path)
        except FileNotFoundError:
            continue
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError, OverflowError) as exc:  # nested past reason too
            _reject(settings, path, exc)
            continue
        with audit.transaction(settings) as conn:  # a store error leaves the file for the next pass
            for key, (actor, action, obj, detail, when) in entries:
                if conn.execute(sa.select(store.audit_received.c.event).where(store.audit_received.c.event == key)).first():
                    continue  # Trino re-sent an event the chain already holds
                detail["received_at"] = received
                seq = audit.append(conn, actor, action, obj, detail, when)
                conn.execute(store.audit_received.insert().values(event=key, seq=seq))
                added += 1
        path.unlink()
    return added


def _drain_forever(settings: Settings, wake: threading.Event) -> None:
    while True:
        wake.wait(1.0)
        wake.clear()
        try:
            drain(settings)
        except Exception as exc:  # noqa: BLE001 - the store is busy or down: the spool keeps the events
            log.warning("audit spool not drained yet (%s); %d event file(s) waiting, retrying", type(exc).__name__, len(pending(settings)))
            time.sleep(1.0)


def _follow_registry(settings: Settings) -> None:
    """Apply identity-registry changes to the running Trino (passwords, groups, rules) while
    nobody runs `govlake up`: a removed user is locked out within seconds."""

    seen = trino_security.registry_fingerprint(settings)
    while True:
        time.sleep(1.0)
        now = trino_security.registry_fingerprint(settings)
        if now != seen:
            try:
                trino_security.sync_registry(settings)
                seen = now
                log.info("identity registry changed: Trino's passwords, groups and rules rewritten")
            except Exception as exc:  # noqa: BLE001 - an invalid registry keeps the last good state
                log.error("identity registry changed but is not usable (%s): %s", type(exc).__name__, str(exc)[:300])
                seen = now


def _authorized(header: str | None, expected: str) -> bool:
    """Constant-time token check on bytes: any header (non-ASCII included) is simply wrong."""
    got = (header or "").encode("latin-1", "replace")  # http.server decodes header bytes as latin-1
    return hmac.compare_digest(got, expected.encode())


def serve(settings: Settings, port: int) -> None:

    expected = {PATH: f"Bearer {token(settings)}", LINEAGE_PATH: f"Bearer {lineage_token(settings)}"}
    wake = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        timeout = 30  # an idle or slow client does not hold a thread for ever

        def _answer(self, status: int, message: str = "") -> None:
            body = message.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes | None:
            try:
                size = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._answer(411, "a Content-Length header is required\n")
                return None
            if size < 0 or size > MAX_BODY:
                self.close_connection = True
                if size > MAX_BODY and self.path == PATH:  # Trino does not retry a 413: the gap goes on record
                    spool(settings, json.dumps({"govlake_refused": {"bytes": size, "path": self.path}}).encode())
                    wake.set()
                self._answer(413, f"body of {size} bytes refused; at most {MAX_BODY}\n")
                return None
            return self.rfile.read(size)

        def do_POST(self):  # noqa: N802 - http.server API
            if self.path not in expected or not _authorized(self.headers.get("Authorization"), expected[self.path]):
                self.close_connection = True
                self._answer(403, "forbidden: POST to /trino/events with the audit token, or to /api/v1/lineage with the lineage token\n")
                return
            body = self._body()
            if body is None:
                return
            if self.path == LINEAGE_PATH:
                try:
                    lineage.ingest(settings, json.loads(body))
                except RecursionError:
                    self._answer(400, "rejected: the body nests too deeply\n")
                    return
                except (ValueError, lineage.LineageEventError) as exc:
                    self._answer(400, f"rejected: {exc}\n")
                    return
                except Exception:  # noqa: BLE001 - 500 so the producer retries
                    log.exception("could not store a lineage event")
                    self._answer(500, "could not store the event\n")
                    return
                self._answer(201)
                return
            try:
                json.loads(body)
            except (ValueError, RecursionError):
                self._answer(400, "rejected: the body is not JSON (or nests too deeply)\n")
                return
            try:
                spool(settings, body)
            except OSError as exc:  # answer 500 so that Trino retries; never acknowledge what is not kept
                log.error("could not spool a Trino event: %s", type(exc).__name__)
                self._answer(500, "could not keep the event\n")
                return
            wake.set()
            self._answer(200)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(trino_security.tls_files(settings)[0]))
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)  # handshake in the handler's thread
    threading.Thread(target=_drain_forever, args=(settings, wake), daemon=True, name="audit-spool-drain").start()
    if not settings.trino_url:
        threading.Thread(target=_follow_registry, args=(settings,), daemon=True, name="registry-follower").start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()
        try:
            drain(settings)  # what arrived last, while the store is still there
        except Exception:  # noqa: BLE001 - kept in the spool for the next start
            pass


# --- lifecycle, used by services/trino.py ------------------------------------------------------

def _pid_file(settings: Settings) -> Path:
    return settings.run_dir / "audit-receiver.pid"


def _port_file(settings: Settings) -> Path:
    return settings.run_dir / "audit-receiver.port"


def running_port(settings: Settings) -> int | None:
    try:
        pid = int(_pid_file(settings).read_text())
        return int(_port_file(settings).read_text()) if alive(pid) else None
    except (OSError, ValueError):
        return None


def backlog(settings: Settings) -> tuple[int, float | None]:
    """Events in the spool not yet in the chain, and the age in seconds of the oldest: the gap a
    compliance officer sees while the receiver is down or the store is busy."""
    files = pending(settings)
    if not files:
        return 0, None
    try:
        oldest = time.time() - files[0].stat().st_mtime
    except FileNotFoundError:
        oldest = 0.0
    return len(files), round(max(0.0, oldest), 1)


def status_line(settings: Settings) -> tuple[str, int | None, str]:
    """(state, port, detail) of the receiver for `govlake status`."""
    port = running_port(settings)
    waiting, oldest = backlog(settings)
    detail = f"{waiting} event file(s) waiting in the spool, oldest {oldest} s: not in the audit chain yet" if waiting else "spool empty"
    return ("running" if port else "stopped"), port, detail


def start(settings: Settings, port: int | None = None) -> int:
    """Start the receiver unless it runs (on `port`, or a free one); return its port."""
    current = running_port(settings)
    if current is not None:
        return current
    if port is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    token(settings), lineage_token(settings)  # made before the receiver reads them

    trino_security.tls_files(settings)
    env = {**os.environ, **settings.as_env()}
    out = (settings.logs_dir / "audit-receiver.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "govlake.services.audit_receiver", "--port", str(port)],
                            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=str(settings.home))
    _pid_file(settings).write_text(str(proc.pid))
    _port_file(settings).write_text(str(port))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return port
        if proc.poll() is not None:
            break
        time.sleep(0.2)

    raise ServiceError(f"the audit receiver did not start; see {settings.logs_dir / 'audit-receiver.log'}")


def stop(settings: Settings) -> None:
    try:
        pid = int(_pid_file(settings).read_text())
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not alive(pid):
                break
            time.sleep(0.1)
    except (OSError, ValueError):
        pass
    _pid_file(settings).unlink(missing_ok=True)
    _port_file(settings).unlink(missing_ok=True)


def main() -> int:

    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    serve(load_settings(), args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
