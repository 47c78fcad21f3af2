"""Airflow as the cluster profile runs it: a scheduler with LocalExecutor, a DAG processor and an
API server on PostgreSQL (services/airflow_server.py), scheduling govlake's own DAGs. Two
departments' ingest DAGs, unpaused, run on their schedule side by side (their task instances overlap in time), each task a
Spark application on the standalone cluster writing the object-store lakehouse; their asset events
start the tiers DAG, which builds the analytic tier, publishes and refreshes Trino. The rows
arrive exactly once, and the task runs reach govlake's lineage through Airflow's OpenLineage
provider."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from govlake.departments import generator, registry
from govlake.platform import postgres_access
from govlake.platform.processes import running_pid
from govlake.services import airflow_server, sql
from tests.conftest import SAMPLE_START

pytestmark = [pytest.mark.cluster, pytest.mark.spark, pytest.mark.trino, pytest.mark.airflow]

DEPARTMENTS = ("police", "traffic")
NEW_ROWS = 40
WAIT_S = 900


@pytest.fixture(scope="module")
def scheduler(settings, lakehouse):
    st = airflow_server.start(settings, log=lambda m: print(m, file=sys.stderr))
    assert st.state == "running", st
    yield st
    airflow_server.stop(settings)
    assert airflow_server.status(settings).state == "stopped"


def _airflow(settings, *args: str) -> str:
    proc = subprocess.run([str(Path(sys.executable).with_name("airflow")), *args], env=airflow_server.environment(settings),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc.stdout


def _runs(settings, dag_ids) -> list[dict]:
    """Airflow's own record of the DAG runs and their task instances (its metadata database)."""
    engine = sa.create_engine(postgres_access.url(settings, "airflow"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT r.dag_id, r.run_id, r.state AS run_state, t.task_id, t.state, t.start_date, t.end_date, t.hostname "
                "FROM dag_run r LEFT JOIN task_instance t ON t.dag_id = r.dag_id AND t.run_id = r.run_id "
                "WHERE r.dag_id = ANY(:ids) ORDER BY t.start_date"), {"ids": list(dag_ids)}).mappings().all()
    finally:
        engine.dispose()
    return [dict(r) for r in rows]


def _wait_parsed(settings, dag_ids, timeout_s: float = 300) -> None:
    """Until the DAG processor has put `dag_ids` in Airflow's database (unpausing needs them there)."""
    engine = sa.create_engine(postgres_access.url(settings, "airflow"))
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                found = {r[0] for r in conn.execute(sa.text("SELECT dag_id FROM dag WHERE dag_id = ANY(:ids)"), {"ids": list(dag_ids)})}
            if found == set(dag_ids):
                return
            time.sleep(2)
    finally:
        engine.dispose()
    pytest.fail(f"the DAG processor did not register {sorted(set(dag_ids) - found)} within {timeout_s:.0f} s; see {settings.logs_dir}")


def _wait(settings, dag_ids, done) -> list[dict]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        rows = _runs(settings, dag_ids)
        failed = [r for r in rows if r["run_state"] == "failed" or r["state"] in ("failed", "upstream_failed")]
        assert not failed, failed
        if done(rows):
            return rows
        time.sleep(2)
    pytest.fail(f"Airflow did not finish {dag_ids} within {WAIT_S} s: {_runs(settings, dag_ids)}; logs in {settings.logs_dir}")


def _count(settings, table: str, department: str) -> int:
    return sql.query(settings, "ops_admin", f"SELECT count(*) FROM {table} WHERE department = '{department}'").rows[0][0]


def test_the_scheduler_runs_department_ingests_side_by_side_and_their_assets_build_the_tiers(settings, lakehouse, scheduler):
    assert settings.airflow_executor == "LocalExecutor" and settings.airflow_parallelism >= len(DEPARTMENTS)
    # the JWT secret and the database password reach Airflow's processes in their environment, never on a command line
    secrets = [airflow_server.environment(settings)["AIRFLOW__API_AUTH__JWT_SECRET"], postgres_access.password(settings)]
    for component in airflow_server.COMPONENTS:
        pid = running_pid(settings.run_dir / f"airflow-{component}.pid")
        assert pid, component
        assert not any(secret in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace") for secret in secrets), component
    before = {d: (_count(settings, "base.detections", d), _count(settings, "analytic.detections_deidentified", d)) for d in DEPARTMENTS}
    for i, dept in enumerate(DEPARTMENTS):
        generator.generate(registry.get(settings, dept), settings.landing_root / dept, rows=NEW_ROWS, seed=70 + i, start=SAMPLE_START)

    ingest_dags = [f"govlake_ingest_{d}" for d in DEPARTMENTS]
    # unpaused, each DAG runs on its own schedule at once (its latest due time; no catch-up), as in
    # production; the tiers DAG waits for their asset events
    _wait_parsed(settings, [*ingest_dags, "govlake_tiers"])
    _airflow(settings, "dags", "unpause", "govlake_tiers")
    for dag_id in ingest_dags:
        _airflow(settings, "dags", "unpause", dag_id)

    def task_in(states):
        return lambda rows: all(any(r["dag_id"] == d and r["task_id"] == "ingest" and r["state"] in states for r in rows)
                                for d in ingest_dags)

    # paused again once their tasks run: those finish, and no later scheduled run (it would find
    # nothing new) competes with the tiers for the cluster
    _wait(settings, ingest_dags, task_in(("running", "success")))
    for dag_id in ingest_dags:
        _airflow(settings, "dags", "pause", dag_id)
    rows = _wait(settings, ingest_dags, task_in(("success",)))  # ingested: not skipped, it found the new files
    spans = {r["dag_id"]: (r["start_date"], r["end_date"]) for r in rows if r["task_id"] == "ingest" and r["state"] == "success"}
    assert len(spans) == len(DEPARTMENTS), rows
    # side by side: each started before the other ended
    assert max(s for s, _ in spans.values()) < min(e for _, e in spans.values()), spans

    def built(rs):  # the first tiers run the asset events started, finished
        return any(r["run_state"] == "success" for r in rs)

    tiers = _wait(settings, ["govlake_tiers"], built)
    _airflow(settings, "dags", "pause", "govlake_tiers")
    run = next(r["run_id"] for r in tiers if r["run_state"] == "success")
    tasks = {r["task_id"]: r for r in tiers if r["run_id"] == run}
    assert {t for t, r in tasks.items() if r["state"] == "success"} == {"build_analytic", "publish", "serve"}

    built_from = tasks["build_analytic"]["start_date"]
    covered = [d for d in DEPARTMENTS if spans[f"govlake_ingest_{d}"][1] <= built_from]
    assert covered, (spans, built_from)  # the run was started by an ingest's asset event, after that ingest ended
    for d in DEPARTMENTS:
        base = before[d][0]
        now = _count(settings, "base.detections", d)
        assert now == base + NEW_ROWS  # exactly once, whichever runs found the files
        if d in covered:  # in base before the build began: in the analytic tier now, with whatever earlier
            # tests ingested into base without a build (the analytic tier catches up with base as a whole)
            assert _count(settings, "analytic.detections_deidentified", d) == now, (d, before[d], now)

    from govlake.governance import store

    ev = store.lineage_events.c
    with store.engine(settings).connect() as conn:
        jobs = {job for job, kind in conn.execute(sa.select(ev.job, ev.event_type).where(ev.job.like("govlake-airflow.%"))) if kind == "COMPLETE"}
    assert {f"govlake-airflow.{d}.ingest" for d in ingest_dags} | {"govlake-airflow.govlake_tiers.build_analytic"} <= jobs, sorted(jobs)
