"""The main job: landing files -> base -> analytic -> application -> queryable in Trino.

Each stage is also callable on its own (the Airflow DAG runs them as separate tasks). The run's
logical time is a parameter, never `now()` inside logic. One department's broken feed is
reported and does not stop the others.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pyspark.sql import SparkSession

from govlake.compliance import export
from govlake.contracts import workflow
from govlake.core import faults, locks, times
from govlake.core.errors import PolicyError
from govlake.core.settings import Settings
from govlake.departments import registry
from govlake.governance import audit, lake_locks
from govlake.pipeline import analytic, application
from govlake.pipeline.ingest import BatchResult, ingest_departments
from govlake.platform import lake
from govlake.platform.secrets import token_key
from govlake.services import serving

log = logging.getLogger("govlake.job")

BASE_TABLES = ("cameras", "detections", "events", "quarantine", "batch_log", "ingest_manifest", "quality_results", "classification_flags")
ANALYTIC_TABLES = analytic.ANALYTIC_TABLES


class PublishRefused(PolicyError):
    """Some contracts' tables were refused (the others were published); names each column and why."""

    def __init__(self, refused: list[application.Refused]):
        self.refused = refused
        super().__init__("publishing refused:\n" + "\n".join(f"  {reason}" for r in refused for reason in r.reasons))


@dataclass
class RunReport:
    run_time: datetime
    batches: list[BatchResult] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    analytic_rows: dict[str, int] = field(default_factory=dict)
    published: list[application.Published] = field(default_factory=list)
    catalog: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "run_time": self.run_time.isoformat(),
            "batches": [b.as_dict() for b in self.batches],
            "failures": self.failures,
            "analytic_rows": self.analytic_rows,
            "published": [p.__dict__ for p in self.published],
            "catalog": self.catalog,
        }


def ingest_all(spark: SparkSession, settings: Settings, run_time: datetime, landing_root: Path, only: list[str] | None = None) -> RunReport:
    """Every registered department's new files, in one shared pass (see `ingest.ingest_departments`)."""
    report = RunReport(times.as_utc(run_time))
    work = [(d, landing_root / d.id) for d in registry.load_all(settings) if not only or d.id in only]
    report.batches, report.failures = ingest_departments(spark, settings, work, run_time)
    return report


def served_tables(settings: Settings, published: list[application.Published]) -> list[serving.ServedTable]:
    tables = [serving.ServedTable("base", t, lake.table_path(settings, "base", t)) for t in BASE_TABLES]
    tables += [serving.ServedTable("analytic", t, lake.table_path(settings, "analytic", t)) for t in ANALYTIC_TABLES]
    tables += [serving.ServedTable(p.schema, p.table, p.path) for p in published]
    tables += [serving.ServedTable("governance", t, lake.table_path(settings, "governance", t)) for t in export.TABLES]
    return tables


def run(spark: SparkSession, settings: Settings, run_time: datetime, *, landing_root: Path | None = None, serve: bool = True) -> RunReport:
    run_time = times.as_utc(run_time)
    with locks.lake_writer(lake_locks.space(settings), "main job"):  # one hold for all three stages: no erasure between them
        report = ingest_all(spark, settings, run_time, landing_root or settings.landing_root)
        report.analytic_rows = analytic.build(spark, settings, token_key(settings))
        report.published, report.catalog = publish(spark, settings, run_time, serve=serve)
    return report


def publish(spark: SparkSession, settings: Settings, run_time: datetime, *, serve: bool = True) -> tuple[list[application.Published], dict]:
    """`govlake publish`: rules first (a revoked contract loses access before anything else), then
    the application tables of the active contracts, then Trino's catalog. Holds the lake lock
    shared (core.locks)."""
    with locks.lake_writer(lake_locks.space(settings), "publish"):
        return _publish(spark, settings, run_time, serve=serve)


def _publish(spark: SparkSession, settings: Settings, run_time: datetime, *, serve: bool) -> tuple[list[application.Published], dict]:
    active = workflow.refresh_active(settings, times.as_utc(run_time))
    workflow.rewrite_rules(settings)  # from the states as they are now: a revocation since the line above stays in force
    published, refused = application.publish(spark, settings, active, token_key(settings), times.as_utc(run_time))
    faults.point("publish.export")
    export.export(spark, settings)  # governance tables for compliance officers' SQL
    faults.point("publish.catalog")
    catalog = serving.sync(settings, served_tables(settings, published)) if serve else {}
    policy_hashes = audit.policy_fingerprints(settings)
    audit.record_policy_changes(settings, serving.SERVICE_USER, policy_hashes)
    audit.record(settings, serving.SERVICE_USER, "publish", "tier:application", {
        "policies": policy_hashes,
        "run_time": run_time.isoformat(), "tables": {f"{p.schema}.{p.table}": {"contract": p.contract, "spec": p.spec_hash[:16], "rows": p.rows} for p in published},
        "retracted": [t for t in catalog.get("unregistered", []) if t.startswith("app_")],
        "refused": {f"{r.schema}.{r.table}": {"contract": r.contract, "reasons": r.reasons} for r in refused},
    })
    for r in refused:
        audit.record(settings, serving.SERVICE_USER, "publish.refused", f"contract:{r.contract}", {"table": f"{r.schema}.{r.table}", "reasons": r.reasons})
    if refused:
        raise PublishRefused(refused)
    return published, catalog
