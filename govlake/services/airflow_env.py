"""The environment govlake runs Airflow in (`airflow dags test`, `airflow standalone`): its home
in the state folder, govlake's DAG folder, and Airflow's OpenLineage provider pointed at
govlake's receiver (`POST /api/v1/lineage`, the receiver's bearer token), so DAG and task runs
become lineage events beside the Spark jobs' own. With no receiver running the provider is
switched off rather than left to log failed posts.

Airflow's metadata database is `airflow_db_url`, or the `airflow` database of the PostgreSQL
govlake runs itself (`postgres_port`, services/postgres.py), else Airflow's own SQLite in its
home. Airflow 3 speaks PostgreSQL through psycopg 3 (`postgresql+psycopg://`), for its
synchronous and its asynchronous engine alike, so no other driver is needed."""
from __future__ import annotations

import json
import os
from pathlib import Path

from govlake.core.settings import PROJECT_ROOT, Settings
from govlake.platform import postgres_access
from govlake.services import audit_receiver, trino_security

NAMESPACE = "govlake-airflow"


def openlineage(settings: Settings) -> dict[str, str]:

    port = audit_receiver.running_port(settings)
    if port is None:
        return {"AIRFLOW__OPENLINEAGE__DISABLED": "True"}

    transport = {"type": "http", "url": audit_receiver.url(port), "endpoint": audit_receiver.LINEAGE_PATH.lstrip("/"),
                 "timeout": 10, "auth": {"type": "api_key", "apiKey": audit_receiver.lineage_token(settings)},
                 "sslContext": {"caCertPath": str(trino_security.tls_files(settings)[1])}}
    return {"AIRFLOW__OPENLINEAGE__DISABLED": "False", "AIRFLOW__OPENLINEAGE__NAMESPACE": NAMESPACE,
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport)}


def database(settings: Settings) -> dict[str, str]:
    """Airflow's executor and metadata database (unset: Airflow's own defaults)."""
    env = {}
    if settings.airflow_executor:
        env["AIRFLOW__CORE__EXECUTOR"] = settings.airflow_executor
    db = settings.airflow_db_url or (postgres_access.url(settings, "airflow") if settings.postgres_port else None)
    if db:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = db
        if db.startswith("postgresql+psycopg:"):  # else Airflow derives postgresql+asyncpg, a driver govlake does not install
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = db
    return env


def environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(
        AIRFLOW_HOME=str(settings.airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(Path(PROJECT_ROOT) / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
    )
    env.update(database(settings))
    env.update(openlineage(settings))
    return env
