"""The governance store on the local PostgreSQL (services/postgres.py): the store, the audit chain
under appends from many processes at once (on SQLite too), contract decisions racing each other,
and the head anchor kept in the warehouse.

Marked `cluster`: these tests start a PostgreSQL server, so they run only when selected with
`pytest -m cluster` (`make test-cluster`); every other run, `make test` and `make test-fast`
included, skips or deselects them. Their settings are the embedded profile's with a local
PostgreSQL, whatever GOVLAKE_PROFILE says, so they run alike in any session.
"""
from __future__ import annotations

import itertools
import json
import multiprocessing
import socket
import traceback
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from govlake.core.errors import ConfigError, ServiceError
from govlake.core.settings import Settings, load_settings
from govlake.governance import audit, store
from govlake.platform import storage
from govlake.services import airflow_env, postgres
from tests.conftest import free_port

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif("'cluster' not in (config.getoption('markexpr') or '')",
                       reason="starts PostgreSQL: run with `pytest -m cluster`"),
]

T = store.audit_log
WHEN = datetime(2026, 11, 21, tzinfo=timezone.utc)
FLOWS = "traffic-to-transport-flows"  # provider traffic; a traffic steward's approval is enough
WRITERS, APPENDS = 8, 200


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    """A local PostgreSQL on a free port for this module, removed at its end."""
    s = load_settings(profile="embedded", state_dir=tmp_path_factory.mktemp("pg") / "state", postgres_port=free_port())
    status = postgres.start(s, log=print)
    assert status.state == "running", status
    yield s
    postgres.remove(s)
    assert postgres.status(s).state == "stopped" and not postgres.cluster_dir(s).exists()


_databases = iter(range(1, 1000))


@pytest.fixture
def on_pg(pg, tmp_path) -> Settings:
    """Settings on a private state folder whose governance store is a new, empty database on `pg`."""
    name = f"test_{next(_databases)}"
    admin = sa.create_engine(postgres.url(pg, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return load_settings(profile="embedded", state_dir=tmp_path / "state", postgres_port=pg.postgres_port,
                         governance_url=postgres.url(pg, name))


def _spec(s: Settings):
    from govlake.contracts import spec as specs

    return specs.load_contract(s.path("policies", "contracts", f"{FLOWS}.yaml"))


# --- work done in other processes (spawned: nothing is shared but the database) -----------------

def _child(target, barrier, results, settings_kwargs: dict, *args) -> None:
    try:
        settings = Settings(**settings_kwargs)
        store.engine(settings)  # connected and the schema checked before the start line
        audit.chain_key(settings)
        barrier.wait(timeout=180)
        results.put(("ok", target(settings, *args)))
    except BaseException as exc:  # noqa: BLE001 - reported to the test, which fails with it
        results.put(("error", "".join(traceback.format_exception(exc))))


def _in_processes(s: Settings, target, args_list: list[tuple], timeout: float = 600.0) -> list:
    """Run target(settings, *args) for each args in its own spawned process, all released at once."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(args_list)), ctx.Queue()
    kwargs = {"profile": s.profile, "state_dir": str(s.state), "postgres_port": s.postgres_port, "governance_url": s.governance_url}
    procs = [ctx.Process(target=_child, args=(target, barrier, results, kwargs, *args)) for args in args_list]
    for p in procs:
        p.start()
    try:
        out = [results.get(timeout=timeout) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    errors = [text for kind, text in out if kind == "error"]
    assert not errors, errors[0]
    return [value for _, value in out]


def _append_many(settings: Settings, writer: str, n: int) -> int:
    for i in range(n):
        audit.record(settings, writer, "test.concurrent", f"object:{writer}:{i}", {"writer": writer, "i": i})
    return n


def _decide(settings: Settings, actor: str, approve: bool) -> str:
    from govlake.contracts import workflow

    try:
        if approve:
            rec = workflow.approve(settings, FLOWS, actor, WHEN)
        else:
            rec = workflow.reject(settings, FLOWS, actor, "raced", WHEN)
    except workflow.WorkflowError as exc:
        return f"refused: {exc}"
    return f"{'approved' if approve else 'rejected'}: {rec.status}"


# --- the tests ----------------------------------------------------------------------------------

def test_the_store_lives_in_the_local_postgresql_and_a_contract_goes_through_the_workflow(pg):
    from govlake.contracts import workflow

    assert store.url(pg).startswith("postgresql+psycopg://govlake:") and store.url(pg).endswith(f":{pg.postgres_port}/governance")
    engine = store.engine(pg)
    assert engine.dialect.name == "postgresql" and set(store.metadata.tables) <= set(sa.inspect(engine).get_table_names())
    spec = _spec(pg)
    workflow.new(pg, spec, spec.requester, WHEN)
    workflow.submit(pg, FLOWS, spec.requester, WHEN)
    rec = workflow.approve(pg, FLOWS, "liu_traffic_steward", WHEN)
    assert rec.status == "active" and [a["capacity"] for a in rec.approvals] == ["steward"]
    assert [e["action"] for e in rec.events] == ["new", "submit", "approve", "activate"]
    assert [c.id for c in workflow.list_all(pg)] == [FLOWS] and [sp.id for sp in workflow.active_specs(pg)] == [FLOWS]
    assert [r["action"] for r in audit.search(pg, action="contract.")[0]] == [
        "contract.activate", "contract.approve", "contract.submit", "contract.new"]
    v = audit.verify(pg)
    assert v.ok and v.entries == 4, v


def test_airflow_runs_on_the_local_postgresql_with_the_local_executor(pg):
    env = airflow_env.environment(pg.model_copy(update={"airflow_executor": "LocalExecutor"}), base={})
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == postgres.url(pg, "airflow")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == postgres.url(pg, "airflow")
    with sa.create_engine(postgres.url(pg, "airflow")).connect() as conn:  # the database exists and takes the password
        assert conn.exec_driver_sql("SELECT current_database()").scalar() == "airflow"


def test_start_is_idempotent_and_a_taken_port_is_named(pg, tmp_path):
    again = postgres.start(pg, log=lambda m: None)
    assert again.state == "running" and again.pid == postgres.status(pg).pid
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        other = load_settings(profile="embedded", state_dir=tmp_path / "other", postgres_port=taken.getsockname()[1])
        with pytest.raises(ServiceError, match=f"port `{other.postgres_port}`.*GOVLAKE_POSTGRES_PORT"):
            postgres.start(other, log=lambda m: None)


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_appends_from_eight_processes_at_once_keep_the_chain_gap_free(backend, request, tmp_path):
    s = (request.getfixturevalue("on_pg") if backend == "postgresql"
         else load_settings(profile="embedded", state_dir=tmp_path / "state", postgres_port=None, governance_url=None))
    assert store.engine(s).dialect.name == backend
    done = _in_processes(s, _append_many, [(f"writer-{w}", APPENDS) for w in range(WRITERS)])
    assert done == [APPENDS] * WRITERS
    with store.engine(s).connect() as conn:
        rows = conn.execute(sa.select(T.c.seq, T.c.actor, T.c.detail).order_by(T.c.seq)).all()
    assert [r.seq for r in rows] == list(range(1, WRITERS * APPENDS + 1))
    for w in range(WRITERS):  # each writer's entries all there, in the order it appended them
        assert [json.loads(r.detail)["i"] for r in rows if r.actor == f"writer-{w}"] == list(range(APPENDS))
    runs = 1 + sum(a.actor != b.actor for a, b in itertools.pairwise(rows))
    assert runs > WRITERS, "the writers never overlapped: nothing was tested"
    v = audit.verify(s)
    assert v.ok and v.entries == WRITERS * APPENDS, v


def test_racing_decisions_on_one_contract_leave_one_outcome(on_pg):
    from govlake.contracts import workflow

    spec = _spec(on_pg)
    workflow.new(on_pg, spec, spec.requester, WHEN)
    workflow.submit(on_pg, FLOWS, spec.requester, WHEN)
    outcomes = _in_processes(on_pg, _decide, [("liu_traffic_steward", True)] * 3 + [("zhao_compliance", False)] * 3)
    winners = [o for o in outcomes if not o.startswith("refused")]
    assert len(winners) == 1, outcomes
    rec = workflow.get(on_pg, FLOWS)
    decided = [e for e in rec.events if e["from_status"] == "submitted" and e["action"] in ("approve", "reject")]
    assert len(decided) == 1, decided
    if winners[0].startswith("approved"):
        assert rec.status == "active" and [a["capacity"] for a in rec.approvals] == ["steward"]
    else:
        assert rec.status == "rejected" and rec.approvals == []
    assert audit.verify(on_pg).ok


def test_the_head_anchor_is_kept_in_the_warehouse_and_catches_a_rewritten_chain(on_pg, monkeypatch):
    written = []
    real_write = storage.write_bytes
    monkeypatch.setattr(storage, "write_bytes", lambda s, uri, data: (written.append(uri), real_write(s, uri, data))[1])
    for i in range(10):
        audit.record(on_pg, "zhao_compliance", "test.action", f"object:{i}", {"i": i})
    uri = f"{on_pg.warehouse_root}/_governance/audit-head.json"
    assert audit.anchor_uri(on_pg) == uri and set(written) == {uri} and len(written) == 10
    head = audit.head(on_pg)
    assert json.loads(storage.read_bytes(on_pg, uri)) == {"seq": 10, "hash": head["hash"]}
    assert audit.verify(on_pg).ok

    # a head kept where older versions kept it still counts, until the next append replaces it
    legacy = audit.legacy_anchor_path(on_pg)
    legacy.write_text(json.dumps({"seq": 5, "hash": "0" * 64}))
    r = audit.verify(on_pg)
    assert (r.ok, r.first_bad) == (False, 5) and "beside the store" in r.problem
    audit.record(on_pg, "zhao_compliance", "test.action", "object:10", {"i": 10})
    assert not legacy.exists() and audit.verify(on_pg).ok

    # the key holder rewrites the chain from entry 4 but not the anchor: the anchor names it
    key = audit.chain_key(on_pg)
    with store.engine(on_pg).begin() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(T).where(T.c.seq >= 4).order_by(T.c.seq)).mappings()]
        prev = conn.execute(sa.select(T.c.hash).where(T.c.seq == 3)).scalar_one()
        for r in rows:
            actor = "mallory" if r["seq"] == 4 else r["actor"]
            h = audit.entry_hash(r["seq"], r["at"], actor, r["action"], r["object"], r["detail"], prev, key=key)
            conn.execute(T.update().where(T.c.seq == r["seq"]).values(actor=actor, prev_hash=prev, hash=h))
            prev = h
    cols = [T.c.seq, T.c.at, T.c.actor, T.c.action, T.c.object, T.c.detail, T.c.prev_hash, T.c.hash]
    with store.engine(on_pg).connect() as conn:
        chain = [tuple(r) for r in conn.execute(sa.select(*cols).order_by(T.c.seq))]
    assert audit.verify_rows(chain, key).ok  # every link and MAC checks out: only the head shows the rewrite
    r = audit.verify(on_pg)
    assert (r.ok, r.first_bad) == (False, 11) and "rewritten" in r.problem and "warehouse" in r.problem, r


def test_an_object_store_warehouse_keeps_the_anchor_as_an_object(make_settings):
    s = make_settings(profile="embedded", warehouse="s3a://govlake/warehouse/")
    assert audit.anchor_uri(s) == "s3a://govlake/warehouse/_governance/audit-head.json"
    with pytest.raises(ConfigError, match="not a local file"):
        audit.anchor_path(s)


# --- the lake lock on PostgreSQL: shared by every host, not one host's files -------------------

LOCK_JOB = """
import sys, time
from pathlib import Path
from govlake.core import locks
from govlake.core.settings import load_settings
from govlake.governance import lake_locks
kind, name, hold, log = sys.argv[1], sys.argv[2], float(sys.argv[3]), Path(sys.argv[4])
depts = sys.argv[5].split(",") if len(sys.argv) > 5 and sys.argv[5] else []
where = lake_locks.space(load_settings())
cm = locks.lake_maintenance(where, name) if kind == "maintenance" else locks.lake_writer(where, name, depts)
with cm:
    with log.open("a") as f:
        f.write(f"{time.time():.3f} start {name}\\n")
    time.sleep(hold)
    with log.open("a") as f:
        f.write(f"{time.time():.3f} end {name}\\n")
"""


def _host(on_pg: Settings, tmp_path, host: str) -> dict:
    """The environment of a job on `host`: a state folder (so a run folder) of its own, the one governance database."""
    import os

    return {**os.environ, "GOVLAKE_PROFILE": "embedded", "GOVLAKE_STATE_DIR": str(tmp_path / host / "state"),
            "GOVLAKE_POSTGRES_PORT": str(on_pg.postgres_port), "GOVLAKE_GOVERNANCE_URL": on_pg.governance_url}


def _lock_job(env: dict, tmp_path, kind: str, name: str, hold: float, depts: str = ""):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-c", LOCK_JOB, kind, name, str(hold), str(tmp_path / "log"), depts], env=env)


def _spans(tmp_path) -> dict[str, tuple[float, float]]:
    seen: dict[str, dict[str, float]] = {}
    for line in (tmp_path / "log").read_text().splitlines():
        t, what, name = line.split(" ", 2)
        seen.setdefault(name, {})[what] = float(t)
    return {name: (v["start"], v["end"]) for name, v in seen.items()}


def _started(tmp_path, name: str, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (tmp_path / "log").exists() and f" start {name}\n" in (tmp_path / "log").read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} did not start")


def test_the_lake_lock_on_postgresql_holds_across_hosts(on_pg, tmp_path):
    """Jobs on two hosts (two run folders: their host locks would never meet) share the lock on
    the governance database: writers side by side, an erasure alone, one ingest per department."""
    from govlake.governance import lake_locks

    assert isinstance(lake_locks.space(on_pg), lake_locks.PostgresLocks)
    a, b = _host(on_pg, tmp_path, "host-a"), _host(on_pg, tmp_path, "host-b")
    w1 = _lock_job(a, tmp_path, "writer", "ingest north on a", 10.0, "north")
    _started(tmp_path, "ingest north on a")
    w2 = _lock_job(b, tmp_path, "writer", "publish on b", 10.0)
    w3 = _lock_job(b, tmp_path, "writer", "ingest north on b", 0.2, "north")
    _started(tmp_path, "publish on b")
    e = _lock_job(b, tmp_path, "maintenance", "erasure on b", 0.5)
    for p in (w1, w2, w3, e):
        assert p.wait(timeout=120) == 0
    s = _spans(tmp_path)
    overlap = lambda x, y: x[0] < y[1] and y[0] < x[1]  # noqa: E731
    assert overlap(s["ingest north on a"], s["publish on b"])  # writers on two hosts side by side
    assert not overlap(s["ingest north on a"], s["ingest north on b"])  # one ingest of a department at a time, across hosts
    for writer in ("ingest north on a", "publish on b"):
        assert not overlap(s["erasure on b"], s[writer]), s
    assert not (tmp_path / "host-a" / "state" / "run" / "locks").exists()  # no host lock files: the database holds them


def test_a_wait_on_postgresql_names_the_holder_and_a_killed_holder_frees_the_lock(on_pg, tmp_path, monkeypatch):
    import signal

    from govlake.core import locks
    from govlake.governance import lake_locks

    holder = _lock_job(_host(on_pg, tmp_path, "host-a"), tmp_path, "maintenance", "erasure of subject 1a2b", 60.0)
    _started(tmp_path, "erasure of subject 1a2b")
    monkeypatch.setenv("GOVLAKE_LOCK_WAIT_S", "1")
    with pytest.raises(locks.LockTimeout) as caught:
        with locks.lake_writer(lake_locks.space(on_pg), "publish"):
            pass
    assert caught.value.transient
    assert "erasure of subject 1a2b" in str(caught.value) and f"pid {holder.pid}" in str(caught.value), str(caught.value)
    holder.send_signal(signal.SIGKILL)  # the holder dies mid-hold: its session ends, and its locks with it
    holder.wait(timeout=30)
    monkeypatch.setenv("GOVLAKE_LOCK_WAIT_S", "30")
    with locks.lake_writer(lake_locks.space(on_pg), "publish"):
        pass
