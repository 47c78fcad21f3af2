"""Retention once a day: rows past their period (policies/retention.yaml; application tables: their
contract's `retention_days`) are deleted, rewritten out of the files and vacuumed, and the run is
recorded in the audit log (`retention.run`). Same as `govlake retention run`.

This file only wires the task: no IO and no heavy imports at parse time. A table that fails (e.g.
a concurrent ingest commit) fails the task after the others were enforced; the retry reruns it.
"""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from govlake.core import times
from govlake.dag_tasks import RETRIES, retried_if_transient


@dag(
    dag_id="govlake_retention",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["govlake", "retention"],
    doc_md=__doc__,
)
def govlake_retention():
    @task(retries=RETRIES, retry_delay=timedelta(minutes=10))  # a store or lock held by another run
    @retried_if_transient
    def enforce(**context) -> dict:
        from govlake.context import Context

        return Context().stage_retention(times.logical_time(context))

    enforce()


govlake_retention()
