"""DAG factory: one ingest DAG per registered department, plus the tier-building DAG they feed.

The factory reads only the department registry (small local YAML files, no Spark, no network,
no Airflow Variables). Each `govlake_ingest_<department>` DAG runs on the department's own
schedule; when it ingested new rows it emits the `govlake://base/detections` asset event, and
the `govlake_tiers` DAG (data-aware scheduling) rebuilds the analytic and application tiers and
refreshes Trino once for any number of such events.
"""
from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Asset, task

from govlake.core import times
from govlake.dag_tasks import RETRIES, RETRY_DELAY, retried_if_transient, scheduled_departments

BASE_DETECTIONS = Asset("govlake://base/detections")
START = pendulum.datetime(2026, 11, 1, tz="UTC")


def ingest_dag(department_id: str, schedule: str, name: str) -> DAG:
    with DAG(
        dag_id=f"govlake_ingest_{department_id}",
        schedule=schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["govlake", "ingest", department_id],
        doc_md=f"Ingest new landing files of {name} into the base tier.",
    ) as dag:

        @task(outlets=[BASE_DETECTIONS], retries=RETRIES, retry_delay=RETRY_DELAY)
        @retried_if_transient
        def ingest(**context) -> dict:
            from airflow.sdk.exceptions import AirflowSkipException

            from govlake.context import Context

            result = Context().stage_ingest_department(department_id, times.logical_time(context))
            if result is None:
                raise AirflowSkipException("no new landing files")  # no asset event, no tier rebuild
            return result

        ingest()
    return dag


@task(retries=RETRIES, retry_delay=RETRY_DELAY)
@retried_if_transient
def publish(_after: dict | None = None, **context) -> list[dict]:
    """The application tier for the active contracts (after `_after`, when given)."""
    from govlake.context import Context

    return Context().stage_publish(times.logical_time(context))


@task(retries=RETRIES, retry_delay=RETRY_DELAY)
@retried_if_transient
def serve(published: list[dict]) -> dict:
    from govlake.context import Context

    return Context().stage_serve(published)


def tiers_dag() -> DAG:
    with DAG(
        dag_id="govlake_tiers",
        schedule=[BASE_DETECTIONS],
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["govlake", "analytic", "application"],
        doc_md="Rebuild the analytic and application tiers and refresh Trino when base data changed.",
    ) as dag:

        @task(retries=RETRIES, retry_delay=RETRY_DELAY)
        @retried_if_transient
        def build_analytic() -> dict:
            from govlake.context import Context

            return Context().stage_analytic()

        serve(publish(build_analytic()))
    return dag


def contracts_dag() -> DAG:
    """`govlake publish` on a clock: contracts become active at their window start and expire at its
    end without any data change, so the application tier and Trino's rules follow the workflow
    every 5 minutes. (A revocation does not wait for this: it rewrites the rules at once.)"""
    with DAG(
        dag_id="govlake_publish",
        schedule="*/5 * * * *",
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["govlake", "contracts", "application"],
        doc_md="Publish the application tier for the active sharing contracts; retract expired and revoked ones.",
    ) as dag:
        serve(publish())
    return dag


for _id, _schedule, _name in scheduled_departments():
    globals()[f"govlake_ingest_{_id}"] = ingest_dag(_id, _schedule, _name)
globals()["govlake_tiers"] = tiers_dag()
globals()["govlake_publish"] = contracts_dag()
