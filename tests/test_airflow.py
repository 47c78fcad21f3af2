"""Airflow: every DAG file parses, and the main DAG runs for real with `airflow dags test`."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.airflow


def airflow_env(settings, project_root) -> dict:
    from govlake.services import airflow_env as environment

    return environment.environment(settings)


def _dagbag(settings, project_root, **env_overrides) -> dict:
    code = (
        "from airflow.dag_processing.dagbag import DagBag; import json, sys;"
        f"b = DagBag(dag_folder={str(project_root / 'dags')!r});"
        "print('DAGBAG ' + json.dumps({'dag_ids': sorted(b.dag_ids), 'errors': {k: str(v) for k, v in b.import_errors.items()},"
        " 'schedules': {d.dag_id: str(d.timetable) for d in b.dags.values()}}))"
    )
    env = airflow_env(settings, project_root) | env_overrides
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("DAGBAG "))
    return json.loads(line[len("DAGBAG "):])


def test_every_dag_file_parses_without_import_errors(settings, project_root):
    bag = _dagbag(settings, project_root)
    assert bag["errors"] == {}
    assert set(bag["dag_ids"]) == {"govlake_main", "govlake_tiers", "govlake_publish", "govlake_retention",
                                   "govlake_ingest_police", "govlake_ingest_traffic", "govlake_ingest_transport"}
    assert "*/2 * * * *" in bag["schedules"]["govlake_ingest_police"]
    assert "0 0 * * *" in bag["schedules"]["govlake_retention"]
    assert "Asset" in bag["schedules"]["govlake_tiers"]


def test_one_ingest_dag_per_registry_file_with_100_departments(settings, project_root, tmp_path):
    from govlake.departments import synthetic

    synthetic.write_departments(tmp_path / "registry", 100)
    bag = _dagbag(settings, project_root, GOVLAKE_DEPARTMENTS_DIR=str(tmp_path / "registry"))
    assert bag["errors"] == {}
    ingest = [d for d in bag["dag_ids"] if d.startswith("govlake_ingest_")]
    assert len(ingest) == 100 and "govlake_ingest_syn099" in ingest


@pytest.mark.spark
@pytest.mark.trino
def test_main_dag_runs_end_to_end(settings, project_root, lakehouse):
    from govlake.departments import generator, registry
    from govlake.services import sql
    from tests.conftest import SAMPLE_START

    count = lambda: sql.query(settings, "ops_admin", "SELECT count(*) FROM base.detections WHERE department = 'police'").rows[0][0]  # noqa: E731
    before = count()
    # a new file, so the DAG's ingest task does real work with Airflow's own logical date
    generator.generate(registry.get(settings, "police"), settings.landing_root / "police", rows=30, seed=55, start=SAMPLE_START)
    env = airflow_env(settings, project_root)
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], check=True, capture_output=True, env=env, timeout=600)
    proc = subprocess.run(
        [airflow, "dags", "test", "govlake_main", "2026-11-21T00:05:00+00:00"],
        capture_output=True, text=True, env=env, timeout=1500,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    for task in ("ingest", "build_analytic", "publish", "serve"):
        assert f"[DAG TEST] end task task_id={task}" in log
    finished = [line for line in log.splitlines() if "DagRun Finished" in line]
    assert finished and "state=success" in finished[-1], finished
    assert count() == before + 30
    # Airflow's OpenLineage provider reported the DAG's task runs to govlake's receiver
    import sqlalchemy as sa

    from govlake.governance import store

    ev = store.lineage_events.c
    with store.engine(settings).connect() as conn:
        rows = conn.execute(sa.select(ev.job, ev.event_type).where(ev.job.like("govlake-airflow.govlake_main%"))).all()
    completed = {job for job, kind in rows if kind == "COMPLETE"}
    assert {f"govlake-airflow.govlake_main.{t}" for t in ("ingest", "build_analytic", "publish", "serve")} <= completed, sorted(set(rows))
