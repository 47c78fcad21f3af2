"""Shared fixtures: one settings object on a temporary state folder, one SparkSession and one
Trino server per test session (on a free port, so a running demo is never disturbed).

Subprocesses (the `govlake` CLI, Airflow) inherit the same settings through GOVLAKE_* variables.
"""
from __future__ import annotations

import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from govlake.core.settings import PROJECT_ROOT, Settings, load_settings

SAMPLE_START = datetime(2026, 11, 20, tzinfo=timezone.utc)
RUN_TIME = datetime(2026, 11, 21, 0, 5, tzinfo=timezone.utc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def settings():
    """The session's settings. The state folder is left for govlake to create, inside a folder
    other accounts may enter (as /tmp is), so the tests see the modes govlake itself gives it;
    the identity registry is a copy the de-provisioning test may edit."""
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="govlake-test-"))
    base.chmod(0o755)
    shutil.copy(PROJECT_ROOT / "catalog" / "identities.yaml", base / "identities.yaml")
    env = {"GOVLAKE_STATE_DIR": str(base / "state"), "GOVLAKE_TRINO_PORT": str(free_port()),
           "GOVLAKE_IDENTITIES_FILE": str(base / "identities.yaml"),
           # a replaced application-table version is vacuumed 1 s after its replacement instead
           # of 10 s: no test holds a reader on it, and each publish of the suites would wait
           "GOVLAKE_APP_HISTORY_GRACE_S": "1"}
    env.update(_service_ports(load_settings()))
    os.environ.update(env)
    yield load_settings()
    shutil.rmtree(base, ignore_errors=True)


def _service_ports(profile: Settings) -> dict[str, str]:
    """Free ports for the services the profile (GOVLAKE_PROFILE) starts on this host, so a running
    `govlake up --profile cluster` is never disturbed either."""
    env = {}
    if profile.postgres_port:
        env["GOVLAKE_POSTGRES_PORT"] = str(free_port())
        env["GOVLAKE_POSTGRES_DURABLE"] = "false"  # a cluster the session throws away
    if profile.object_store_port:
        env["GOVLAKE_OBJECT_STORE_PORT"] = str(free_port())
    if profile.spark_workers:
        env["GOVLAKE_SPARK_MASTER"] = f"spark://127.0.0.1:{free_port()}"
        env["GOVLAKE_SPARK_MASTER_WEBUI_PORT"] = str(free_port())
    if profile.airflow_port:
        env["GOVLAKE_AIRFLOW_PORT"] = str(free_port())
    if profile.trino_workers:
        env["GOVLAKE_TRINO_WORKER_PORT"] = str(free_port())  # worker i listens on this + i
    return env


@pytest.fixture(scope="session")
def platform(settings):
    """The services below Trino that the profile runs here (PostgreSQL, the object store, a Spark
    master and workers); none on the embedded profile."""
    from govlake.context import Context

    ctx = Context(settings)
    statuses = ctx.start_platform(log=lambda m: print(m, file=sys.stderr))
    assert all(s.state == "running" for s in statuses), statuses
    yield statuses
    for module in reversed(ctx.platform_services()):
        module.stop(settings)
    if settings.postgres_port:
        from govlake.services import postgres

        postgres.remove(settings)  # its data area is outside the state folder when the tests run as root


@pytest.fixture(scope="session")
def spark(settings, platform):
    from govlake.platform.spark import get_spark

    session = get_spark(settings)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def trino_server(settings, platform):
    from govlake.services import trino

    status = trino.start(settings, log=lambda m: print(m, file=sys.stderr))
    assert status.state == "running", status
    yield status
    trino.stop(settings)


@pytest.fixture
def make_settings(tmp_path):
    """Factory for settings on a private state folder: make_settings(**overrides)."""

    def make(**overrides) -> Settings:
        overrides.setdefault("state_dir", tmp_path / "state")
        return Settings(**overrides)

    return make


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def sample_data(settings):
    """Canonical records and landing files for the three sample departments."""
    from govlake.departments import generator, registry

    data = {}
    for dept in registry.load_all(settings):
        data[dept.id] = generator.canonical(dept, rows=600, seed=3, start=SAMPLE_START)
        generator.generate(dept, settings.landing_root / dept.id, rows=600, seed=3, start=SAMPLE_START)
    return data


@pytest.fixture(scope="session")
def lakehouse(settings, spark, trino_server, sample_data):
    """The main job run once over the sample feeds, tables registered in the running Trino."""
    from govlake.contracts import workflow
    from govlake.pipeline import main_job

    workflow.bootstrap_samples(settings, RUN_TIME)
    report = main_job.run(spark, settings, RUN_TIME)
    assert report.failures == {}
    return report


def copy_of_lakehouse(settings: Settings, tmp_path_factory, name: str) -> Settings:
    """Settings on a private copy of the shared lakehouse's state (warehouse, landing, secrets,
    governance store), for a test that changes it; the services' own folders are left out."""
    import shutil

    dst = tmp_path_factory.mktemp(name) / "state"
    shutil.copytree(settings.state, dst, ignore=shutil.ignore_patterns("trino", "airflow", "logs", "run", "spark-warehouse", "tmp", "audit-spool"))
    return Settings(state_dir=dst)


# a test using one of these fixtures (directly or through another fixture) is slow by nature: it
# gets the mark from the fixture, so `make test-fast` can never start Spark or Trino by accident
FIXTURE_MARKS = {"spark": {"spark", "lakehouse"}, "trino": {"trino_server", "lakehouse"}}


def pytest_collection_modifyitems(config, items):
    """Slow marks come from the fixtures a test uses. Airflow tests run after the others: the DAG
    run ingests extra files into the shared lakehouse, and the end-to-end tests compare that
    lakehouse with the sample data exactly. Tests marked `last` (they inspect everything the
    suite wrote) run after those."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for mark, fixtures in FIXTURE_MARKS.items():
            if used & fixtures and item.get_closest_marker(mark) is None:
                item.add_marker(mark)
    items.sort(key=lambda item: (item.get_closest_marker("last") is not None, item.get_closest_marker("airflow") is not None))
