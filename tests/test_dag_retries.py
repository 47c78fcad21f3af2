"""The DAGs act on an error's kind: terminal govlake errors fail the task at once (no retry),
transient ones and unclassified errors are raised for Airflow's retries."""
from __future__ import annotations

import pytest

from govlake.core.errors import ConfigError, GovlakeError, ServiceError


@pytest.fixture(scope="module")
def tasks():
    from govlake import dag_tasks

    return dag_tasks


def _failing(exc):
    def body(**context):
        raise exc
    return body


def test_a_terminal_error_fails_at_once_and_says_why(tasks):
    from airflow.sdk.exceptions import AirflowFailException

    wrapped = tasks.retried_if_transient(_failing(ConfigError("policy file `policies/masking.yaml` is invalid: field `methods.grid`")))
    with pytest.raises(AirflowFailException, match=r"masking.yaml.*ConfigError: not transient, so not retried") as caught:
        wrapped(logical_date=None)
    assert isinstance(caught.value.__cause__, ConfigError)


@pytest.mark.parametrize("exc", [ServiceError("Trino is still starting", transient=True), GovlakeError("store busy", transient=True),
                                 OSError("connection reset")])
def test_transient_and_unclassified_errors_are_left_to_the_retries(tasks, exc):
    with pytest.raises(type(exc)) as caught:
        tasks.retried_if_transient(_failing(exc))()
    assert caught.value is exc


def test_every_govlake_task_has_retries_and_the_policy(project_root):
    """Each `@task` in the DAG files carries retries and is wrapped by `retried_if_transient`."""
    for path in sorted((project_root / "dags").glob("govlake_*.py")):
        text = path.read_text()
        tasks_declared = text.count("@task")
        assert text.count("@retried_if_transient") == tasks_declared, path.name
        assert text.count("retries=RETRIES") == tasks_declared, path.name


def test_a_run_without_a_logical_date_uses_the_time_it_was_due():
    """Airflow 3 gives runs triggered by hand or by an asset event no logical date: the tasks then
    use the run's due time (its `dag_run.run_after`), never a missing context key."""
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    from govlake.core import times

    due = datetime(2026, 12, 4, 20, 1, tzinfo=timezone(timedelta(hours=8)))
    assert times.logical_time({"logical_date": None, "dag_run": SimpleNamespace(run_after=due)}) == due.astimezone(timezone.utc)
    scheduled = datetime(2026, 12, 4, 0, 0, tzinfo=timezone.utc)
    assert times.logical_time({"logical_date": scheduled, "dag_run": SimpleNamespace(run_after=due)}) == scheduled
    with pytest.raises(ValueError, match="neither a logical date"):
        times.logical_time({"logical_date": None})
