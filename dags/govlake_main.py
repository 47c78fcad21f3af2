"""The main job as one Airflow DAG: ingest (all departments) -> analytic -> publish -> serve.

Triggered by hand (or `airflow dags test`) for a full run; the scheduled path is the per-department
ingest DAGs and the asset-triggered `govlake_tiers` DAG in govlake_departments.py. This file only
wires tasks: no IO and no heavy imports at parse time.
"""
from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


def _run_time(context):
    return context.get("logical_date") or context["run_after"]


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
    @task
    def ingest(**context) -> dict:
        from govlake.pipeline import main_job
        from govlake.settings import load_settings
        from govlake.spark import get_spark

        settings = load_settings()
        report = main_job.ingest_all(get_spark(settings), settings, _run_time(context), settings.landing_root)
        if report.failures:
            # other departments were ingested; the failure is reported, not hidden
            print(f"departments with failed ingest: {report.failures}")
        return report.as_dict()

    @task
    def build_analytic(_ingested: dict) -> dict:
        from govlake.pipeline import analytic
        from govlake.secrets import token_key
        from govlake.settings import load_settings
        from govlake.spark import get_spark

        settings = load_settings()
        return analytic.build(get_spark(settings), settings, token_key(settings))

    @task
    def publish(_analytic: dict, **context) -> list[dict]:
        from govlake.contracts import spec
        from govlake.pipeline import application
        from govlake.settings import load_settings
        from govlake.spark import get_spark

        settings = load_settings()
        published = application.publish(get_spark(settings), settings, spec.load_all(settings), _run_time(context))
        return [p.__dict__ for p in published]

    @task
    def serve(published: list[dict]) -> dict:
        from govlake import serving
        from govlake.pipeline import application, main_job
        from govlake.settings import load_settings

        settings = load_settings()
        tables = main_job.served_tables(settings, [application.Published(**p) for p in published])
        return serving.sync(settings, tables)

    serve(publish(build_analytic(ingest())))


govlake_main()
