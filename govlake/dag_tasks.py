"""What every govlake DAG task shares: its retry policy, acted on by the kind of failure.

A task gets `RETRIES` retries `RETRY_DELAY` apart, and `retried_if_transient` decides whether a
failure may use them. A `GovlakeError` that is not `transient` (an invalid policy or registry
file, a checksum mismatch, a refused contract) fails the task at once with AirflowFailException,
saying why it is not retried: repeating it would only repeat the error. A transient one (a server
still starting, a download that timed out) and any error govlake did not classify are raised as
they are, so Airflow retries them. The DAG files (dags/) are its only users.
"""
from __future__ import annotations

import functools
from datetime import timedelta

RETRIES = 2
RETRY_DELAY = timedelta(minutes=2)


def retried_if_transient(fn):
    @functools.wraps(fn)
    def run(*args, **kwargs):
        from airflow.sdk.exceptions import AirflowFailException

        from govlake.core.errors import GovlakeError

        try:
            return fn(*args, **kwargs)
        except GovlakeError as exc:
            if exc.transient:
                raise
            raise AirflowFailException(f"{exc} [{type(exc).__name__}: not transient, so not retried; fix the cause and clear the task]") from exc

    return run
