"""Supervised services, with faults caused for real: a service process is killed with SIGKILL and
the supervisor (its own process) must notice, restart it and put the outage on record; while a
service is down, the DAGs' tasks fail with an error Airflow retries, naming the service."""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest

from govlake.cli.services import _availability
from govlake.context import Context
from govlake.core.errors import ServiceUnavailable
from govlake.governance import audit
from govlake.platform.processes import alive
from govlake.services import audit_receiver, console_process, sql, supervisor, trino

ANALYST = "zhou_traffic_analyst"
GRANTED = "app_traffic.police_vehicle_sightings"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, check, timeout_s: float, every_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every_s)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s")


def _status_json(settings, window: str = "1h") -> dict:
    proc = subprocess.run([sys.executable, "-m", "govlake", "status", "--json", "--window", window], capture_output=True, text=True,
                          env={**os.environ, **settings.as_env()}, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    return {s["name"]: s for s in json.loads(proc.stdout)["services"]}


def _log(settings) -> str:
    return (settings.logs_dir / "supervisor.log").read_text()


# --- without Trino: the console, the lock, the error a task sees -----------------------------------

@pytest.fixture
def console_settings(make_settings):
    settings = make_settings(console_port=_free_port(), trino_port=_free_port(), supervise_every_s=0.5)
    yield settings
    supervisor.stop(settings)
    console_process.stop(settings)


def test_a_killed_console_is_restarted_and_its_outage_reported(console_settings):
    settings = console_settings
    first = console_process.start(settings)
    sup = supervisor.start(settings, ("console",))
    assert sup.state == "running" and "console" in sup.detail
    _wait("two samples of the console up", lambda: (supervisor.report(settings, 0, time.time() + 1).get("console") or {})
          and supervisor.report(settings, 0, time.time() + 1)["console"]["availability"].up_s >= 0.5, 15)

    os.kill(first.pid, signal.SIGKILL)
    killed = time.time()
    _wait("the supervisor sees the console down", lambda: supervisor.report(settings, 0, time.time() + 1)["console"]["down_since"], 10, 0.02)
    during = Context(settings).services(now=None)
    console = next(s for s in during.services if s.name == "console")
    assert console.state != "running"  # a console takes seconds to start: this look comes before it listens again
    assert not during.healthy and console.availability["down_since"] >= killed - 0.1
    assert _availability(console.availability, "1h")[0].startswith("DOWN for ")  # the outage first, loudly

    back = _wait("the console back under a new pid", lambda: (st := console_process.status(settings)).state == "running"
                 and st.pid != first.pid and st, 30)
    assert time.time() - killed < 30
    _wait("an up sample after the restart", lambda: supervisor.report(settings, 0, time.time() + 1)["console"]["down_since"] is None
          and supervisor.report(settings, 0, time.time() + 1)["console"]["availability"].outages[-1].end, 10)

    status = _status_json(settings)
    avail = status["console"]["availability"]
    assert status["console"]["state"] == "running" and status["console"]["pid"] == back.pid
    assert status["supervisor"]["state"] == "running" and status["supervisor"]["pid"] == sup.pid
    assert 0 < avail["percent"] < 100
    assert len(avail["outages"]) == 1 and avail["outages"][0]["start"] >= killed - 0.1 and avail["outages"][0]["end"] is not None
    assert avail["restarts"] == 1 and avail["last_restart"]["ok"] and f"pid {back.pid}" in avail["last_restart"]["detail"]
    assert avail["down_since"] is None and avail["not_observed_s"] > 3000  # the 1 h window is mostly before the supervisor ran
    assert status["trino"].get("availability") is None  # not supervised here: no figure is made up
    assert "console is stopped: restarting it" in _log(settings)


def test_a_service_that_cannot_start_is_retried_ever_later_and_the_failure_shown(console_settings):
    """Another program holds the console's port: each restart fails, saying why, and the tries
    come after a doubling delay instead of hammering."""
    settings = console_settings
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.console_port))
        squatter.listen(128)  # never accepts: every probe's connection waits in its queue
        supervisor.start(settings, ("console",))
        db = supervisor.db_path(settings)

        def tries():
            with closing(sqlite3.connect(db)) as conn:
                got = conn.execute("SELECT at, ok, detail FROM restarts WHERE service = 'console' ORDER BY at").fetchall()
            return got if len(got) >= 4 else None

        got = _wait("four restart attempts", tries, 30, 0.2)
        report = Context(settings).services(now=None)
    gaps = [b[0] - a[0] for a, b in zip(got, got[1:])]
    assert gaps[1] >= 1.5 * gaps[0] and gaps[2] >= 1.5 * gaps[1], gaps  # 1 s, 2 s, 4 s at a 0.5 s interval
    assert not any(ok for _, ok, _ in got)
    assert f"port {settings.console_port} is taken by another program" in got[-1][2]
    console = next(s for s in report.services if s.name == "console")
    assert not report.healthy and console.availability["down_since"] is not None and console.availability["percent"] == 0.0
    lines = _availability(console.availability, "24h")
    assert lines[0].startswith("DOWN for ") and "FAILED: restart of console failed: ServiceError" in lines[-1]


def test_there_is_never_a_second_supervisor(console_settings):
    settings = console_settings
    sup = supervisor.start(settings, ())
    assert supervisor.start(settings, ()).pid == sup.pid  # `govlake up` twice: the same one
    second = subprocess.run([sys.executable, "-m", "govlake.services.supervisor", "--services", ""], capture_output=True, text=True,
                            env={**os.environ, **settings.as_env()}, timeout=60)
    assert second.returncode == 0 and "another supervisor runs already" in second.stderr
    assert supervisor.status(settings).pid == sup.pid
    assert supervisor.stop(settings).state == "stopped"
    assert not (settings.run_dir / "supervisor.pid").exists()


def test_a_task_calling_a_trino_that_is_not_there_gets_a_retryable_error_naming_it(make_settings, monkeypatch):
    """A real connection to a port nobody listens on: refused, and said so in words a user acts on."""
    from govlake import dag_tasks

    monkeypatch.setenv("GOVLAKE_TRINO_PASSWORD_ETL_SERVICE", "not-needed")  # no server: nothing was set up here
    settings = make_settings(trino_port=_free_port())
    with pytest.raises(ServiceUnavailable) as caught:
        dag_tasks.retried_if_transient(lambda: Context(settings).stage_serve([]))()  # the serve task's body
    err = caught.value
    assert err.transient and err.service == "Trino" and err.url == settings.trino_endpoint
    assert str(err).startswith(f"cannot reach Trino at {settings.trino_endpoint} (connection refused: it is not running); start it with `govlake up`")
    assert "retried" in str(err)


def test_only_failures_of_reaching_the_server_count_as_unavailable():
    import requests
    import trino.exceptions

    try:
        requests.get(f"https://127.0.0.1:{_free_port()}/v1/info", timeout=5)
    except requests.ConnectionError as exc:
        assert sql.unreachable(exc) == "connection refused: it is not running"
    assert sql.unreachable(trino.exceptions.Http503Error("error 503: service unavailable")) == "HTTP 503: it is starting or overloaded"
    assert sql.unreachable(trino.exceptions.TrinoQueryError({"errorName": "TABLE_NOT_FOUND", "message": "no such table"})) is None
    assert sql.unreachable(ValueError("bad value")) is None


# --- against the session's Trino -------------------------------------------------------------------

@pytest.fixture
def supervised(settings, trino_server, monkeypatch):
    """The supervisor over the session's Trino and its receiver, probing every second."""
    from govlake.core.settings import load_settings

    monkeypatch.setenv("GOVLAKE_SUPERVISE_EVERY_S", "1")
    fast = load_settings()
    assert fast.state == settings.state and fast.trino_port == settings.trino_port
    sup = supervisor.start(fast, ("trino", "audit"))
    _wait("a first round of samples", lambda: {"trino", "audit"} <= set(supervisor.report(fast, 0, time.time() + 1)), 15)
    assert sup.state == "running"
    yield fast
    assert supervisor.stop(fast).state == "stopped"


def _receiver_pid(settings) -> int:
    return int((settings.run_dir / "audit-receiver.pid").read_text())


@pytest.mark.trino
@pytest.mark.faults
def test_a_killed_receiver_is_restarted_and_no_query_is_lost(supervised, lakehouse):
    """kill -9 of the audit receiver while an analyst queries: the supervisor starts it again on
    the port Trino posts to, every query is in the chain exactly once, and `govlake status` shows
    the outage and an availability under 100 %."""
    import trino as trino_client

    settings = supervised
    port, old = audit_receiver.running_port(settings), _receiver_pid(settings)
    marker = f"supervised-{time.time_ns()}"
    conn = sql.connect(settings, ANALYST)
    ids, while_down, i = [], 0, 0
    os.kill(old, signal.SIGKILL)
    killed = time.monotonic()
    while alive(old) and time.monotonic() - killed < 5:  # the kill has landed before the first query is counted
        time.sleep(0.01)
    back_at = None
    while time.monotonic() - killed < 60:
        down = audit_receiver.running_port(settings) is None
        cur = conn.cursor()
        try:
            cur.execute(f"SELECT count(*) FROM {GRANTED} WHERE camera_id <> '{marker}-{i}'")
            cur.fetchall()
        except trino_client.exceptions.TrinoQueryError:
            pass
        ids.append(cur.query_id)
        while_down += down
        i += 1
        if back_at is None and audit_receiver.running_port(settings) == port and _receiver_pid(settings) != old:
            back_at = time.monotonic()
        if back_at is not None and i >= while_down + 5:
            break
    conn.close()
    assert back_at is not None, "the supervisor did not restart the receiver within 60 s"
    assert back_at - killed < 20
    assert while_down >= 1  # queries really ran while nobody listened

    def all_in_chain():
        found = [e for e in audit.entries(settings, 5000, "query.") if marker in e["detail"]]
        return found if len(found) >= len(ids) and not audit_receiver.pending(settings) else None

    found = _wait("every query in the audit chain", all_in_chain, 120, 1)
    assert sorted(e["object"] for e in found) == sorted(f"trino:{q}" for q in ids)  # each exactly once
    assert audit.verify(settings).ok

    status = _status_json(settings)
    avail = status["audit"]["availability"]
    assert status["audit"]["state"] == "running"
    assert avail["percent"] < 100 and len(avail["outages"]) >= 1 and avail["outages"][-1]["end"] is not None
    assert avail["last_restart"]["ok"] and f"port {port}" in avail["last_restart"]["detail"] and avail["down_since"] is None
    assert status["trino"]["availability"]["percent"] == 100.0
    assert "audit is stopped: restarting it" in _log(settings)


def _served_now(settings) -> list[dict]:
    """The application tables Trino serves now, as the serve task receives them from publish."""
    from govlake.services import serving

    out = []
    for (schema,) in sql.query(settings, "etl_service", f"SHOW SCHEMAS FROM {settings.trino_catalog}").rows:
        if schema.startswith("app_"):
            for (table,) in sql.query(settings, "etl_service", f'SHOW TABLES FROM {settings.trino_catalog}."{schema}"').rows:
                location = serving._location(settings, schema, table)
                out.append({"contract": "", "schema": schema, "table": table, "rows": 0, "path": location.removeprefix("local://")})
    return out


@pytest.mark.trino
@pytest.mark.faults
def test_a_killed_trino_fails_tasks_retryably_until_the_supervisor_has_it_back(supervised, lakehouse):
    """kill -9 of Trino (the one Trino restart of the suite): the serve task's call fails with a
    transient error naming Trino while it is down, `govlake status` says it is DOWN, and once the
    supervisor has started it again the same call succeeds with nothing lost."""
    from govlake import dag_tasks

    settings = supervised
    served = _served_now(settings)
    assert served
    ctx = Context(settings)
    old = trino.status(settings).pid
    os.kill(old, signal.SIGKILL)
    killed = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        dag_tasks.retried_if_transient(lambda: ctx.stage_serve(served))()  # re-raised as is: Airflow retries it
    assert caught.value.transient and f"cannot reach Trino at {settings.trino_endpoint}" in str(caught.value)

    _wait("the supervisor sees Trino down", lambda: supervisor.report(settings, 0, time.time() + 1)["trino"]["down_since"], 15)
    during = ctx.services(now=None)
    st = next(s for s in during.services if s.name == "trino")
    assert st.state != "running" and st.availability["down_since"] is not None and not during.healthy

    back = _wait("Trino running again", lambda: (s := trino.status(settings)).state == "running" and s.pid != old and s,
                 settings.trino_start_timeout_s + 30, 1)
    took = time.monotonic() - killed
    print(f"Trino back {took:.0f} s after kill -9", file=sys.stderr)
    done = ctx.stage_serve(served)  # the task's retry
    assert done["unregistered"] == [] and {f"{t['schema']}.{t['table']}" for t in served} <= set(done["kept"])
    assert sql.query(settings, ANALYST, f"SELECT count(*) FROM {GRANTED}").rows[0][0] > 0

    _wait("an up sample of Trino", lambda: supervisor.report(settings, 0, time.time() + 1)["trino"]["down_since"] is None, 15)
    status = _status_json(settings)
    avail = status["trino"]["availability"]
    assert status["trino"]["pid"] == back.pid
    assert avail["percent"] < 100 and avail["outages"][-1]["end"] is not None and avail["outages"][-1]["down_s"] >= 10
    assert avail["last_restart"]["ok"] and "trino started again" in avail["last_restart"]["detail"]
    assert status["audit"]["state"] == "running"
