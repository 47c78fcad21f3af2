"""The audit receiver: Trino's HTTP event listener posts every completed query here, and each
becomes an entry of the hash-chained audit log (actor, query text, tables and columns read,
masks and filters applied, outcome). It is also govlake's OpenLineage endpoint: run events
posted to `/api/v1/lineage` (the OpenLineage HTTP API) are stored as lineage (governance/lineage.py).

It runs as a small local process beside the embedded Trino (started and stopped with it),
listens on loopback only, and accepts only requests carrying the token generated into the
secrets folder. A write that fails answers 500, so Trino retries. The query text can hold
identifiers an operator searched for: the audit log is readable by compliance officers only.

    python -m govlake.services.audit_receiver --state-dir DIR --port N
"""
from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import secrets as pysecrets
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from govlake.services.processes import alive
from govlake.settings import Settings

PATH = "/trino/events"
LINEAGE_PATH = "/api/v1/lineage"
log = logging.getLogger("govlake.audit_receiver")


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
        settings.secrets_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(pysecrets.token_urlsafe(32))
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
        "outcome": "failed" if failure else "succeeded",
        "error": ({"code": (failure.get("errorCode") or {}).get("name"), "message": (failure.get("failureMessage") or "")[:500]} if failure else None),
        "wall_s": _seconds(stats.get("wallTime")), "rows": stats.get("outputRows"),
    }
    denied = bool(failure) and (failure.get("errorCode") or {}).get("name") == "PERMISSION_DENIED"
    action = "query.denied" if denied else ("query.failed" if failure else "query.completed")
    when = _time(event.get("endTime") or event.get("createTime"))
    return ctx.get("user", "?"), action, f"trino:{meta.get('queryId')}", detail, when


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


def serve(settings: Settings, port: int) -> None:
    from govlake.governance import audit, lineage

    expected = {PATH: f"Bearer {token(settings)}", LINEAGE_PATH: f"Bearer {lineage_token(settings)}"}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, message: str = "") -> None:
            body = message.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 - http.server API
            if self.path not in expected or not hmac.compare_digest(self.headers.get("Authorization", ""), expected[self.path]):
                self._answer(403, "forbidden: POST to /trino/events with the audit token, or to /api/v1/lineage with the lineage token\n")
                return
            if self.path == LINEAGE_PATH:
                try:
                    lineage.ingest(settings, json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0")))))
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
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                events = body if isinstance(body, list) else [body]
                for event in events:
                    if "metadata" not in event or "statistics" not in event:
                        continue  # a QueryCreatedEvent: only completed queries are recorded
                    actor, action, obj, detail, when = entry_of(event)
                    audit.record(settings, actor, action, obj, detail, when)
            except Exception:  # answer 500 so that Trino retries; never lose an event silently
                log.exception("could not record a Trino event")
                self.send_response(500)
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()


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
    env = {**os.environ, "GOVLAKE_STATE_DIR": str(settings.state)}
    if settings.governance_url:
        env["GOVLAKE_GOVERNANCE_URL"] = settings.governance_url
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
    from govlake.errors import ServiceError

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
    from govlake.settings import load_settings

    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    serve(load_settings(), args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
