"""The main job as one Airflow DAG: ingest (all departments) -> analytic -> publish -> serve.

Triggered by hand (or `airflow dags test`) for a full run; the scheduled path is the per-department
ingest DAGs and the asset-triggered `govlake_tiers` DAG in govlake_departments.py. This file only
wires tasks: no IO and no heavy imports at parse time.
"""
from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from govlake.core import times
from govlake.dag_tasks import RETRIES, RETRY_DELAY, retried_if_transient


@dag(
    dag_id="govlake_main",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["govlake"],
    doc_md=__doc__,
)
def govlake_main():
    @task(retries=RETRIES, retry_delay=RETRY_DELAY)
    @retried_if_transient
    def ingest(**context) -> dict:
        from govlake.context import Context

        report = Context().stage_ingest(times.logical_time(context))
        if report["failures"]:
            # other departments were ingested; the failure is reported, not hidden
            print(f"departments with failed ingest: {report['failures']}")
        return report

    @task(retries=RETRIES, retry_delay=RETRY_DELAY)
    @retried_if_transient
    def build_analytic(_ingested: dict) -> dict:
        from govlake.context import Context

        return Context().stage_analytic()

    @task(retries=RETRIES, retry_delay=RETRY_DELAY)
    @retried_if_transient
    def publish(_analytic: dict, **context) -> list[dict]:
        from govlake.context import Context

        return Context().stage_publish(times.logical_time(context))

    @task(retries=RETRIES, retry_delay=RETRY_DELAY)
    @retried_if_transient
    def serve(published: list[dict]) -> dict:
        from govlake.context import Context

        return Context().stage_serve(published)

    serve(publish(build_analytic(ingest())))


govlake_main()
