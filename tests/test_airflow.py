"""Airflow: every DAG file parses, and the main DAG runs for real with `airflow dags test`."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.airflow


def airflow_env(settings, project_root) -> dict:
    env = os.environ.copy()
    env.update(
        AIRFLOW_HOME=str(settings.airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(project_root / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
    )
    return env


def test_every_dag_file_parses_without_import_errors(settings, project_root):
    code = (
        "from airflow.dag_processing.dagbag import DagBag; import sys;"
        f"b = DagBag(dag_folder={str(project_root / 'dags')!r});"
        "print(sorted(b.dag_ids)); print(b.import_errors); sys.exit(1 if b.import_errors else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=airflow_env(settings, project_root), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "govlake_main" in proc.stdout


@pytest.mark.spark
@pytest.mark.trino
def test_main_dag_runs_end_to_end(settings, project_root, lakehouse):
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
