"""What every govlake DAG task shares: its retry policy, acted on by the kind of failure.

A task gets `RETRIES` retries `RETRY_DELAY` apart, and `retried_if_transient` decides whether a
failure may use them. A `GovlakeError` that is not `transient` (an invalid policy or registry
file, a checksum mismatch, a refused contract) fails the task at once with AirflowFailException,
saying why it is not retried: repeating it would only repeat the error. A transient one (a server
still starting, a download that timed out) and any error govlake did not classify are raised as
they are, so Airflow retries them. The DAG files (dags/) are its only users.

Tasks reach govlake through `govlake.context.Context`, imported inside the task. The one engine
read at parse time is `scheduled_departments` (the registry's small YAML files: no Spark, no
network), which the scheduler needs to lay out one ingest DAG per department.
"""
from __future__ import annotations

import functools
from datetime import timedelta

from govlake.core.errors import GovlakeError
from govlake.core.settings import load_settings
from govlake.departments.registry import load_all

RETRIES = 2
RETRY_DELAY = timedelta(minutes=2)


def retried_if_transient(fn):
    @functools.wraps(fn)
    def run(*args, **kwargs):
        from airflow.sdk.exceptions import AirflowFailException

        try:
            return fn(*args, **kwargs)
        except GovlakeError as exc:
            if exc.transient:
                raise
            raise AirflowFailException(f"{exc} [{type(exc).__name__}: not transient, so not retried; fix the cause and clear the task]") from exc

    return run


def scheduled_departments() -> list[tuple[str, str, str]]:
    """(id, schedule, name) of every registered department, for the DAG factory at parse time."""
    return [(d.id, d.schedule, d.name) for d in load_all(load_settings())]
