"""Retention: rows past their period leave the lakehouse, bytes included.

Runs once a day after the tiers are built (`govlake retention run`, dags/govlake_retention.py).
Base and analytic tables keep rows for the period of their classification level
(`policies/retention.yaml`); a contract's application table keeps them for the contract's own
`retention_days`. Analytic tables are rebuilt from base on every run, so a base deletion also
flows down; they are enforced as well so that no rebuild order can keep an expired row.

`purge` is the one way rows leave a Delta table for good, also used by erasure requests: a DELETE
alone is not enough (with deletion vectors the rows stay inside the data files; without them the
previous files stay for time travel), so it rewrites the files and vacuums the old ones.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from govlake.contracts import workflow
from govlake.contracts.spec import ContractSpec
from govlake.core import config, faults, locks
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings
from govlake.domain import levels, schemas
from govlake.governance import audit, lake_locks
from govlake.pii.proposals import effective
from govlake.platform import lake

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TIERS = ("base", "analytic")
ACTOR = "etl_service"  # serving.SERVICE_USER, without importing the Trino side


class TableRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_column: str | None = None
    keep: str | None = Field(None, min_length=3)

    @model_validator(mode="after")
    def _one_of(self) -> "TableRule":
        if (self.time_column is None) == (self.keep is None):
            raise ValueError("give exactly one of `time_column` (the column rows are aged by) or `keep` (why the table is kept whole)")
        return self


class RetentionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vacuum_retain_hours: int = Field(ge=0)
    periods: dict[str, Annotated[int, Field(gt=0)] | None]
    tables: dict[str, TableRule]


def load_policy(settings: Settings, path: Path | None = None) -> RetentionPolicy:
    """`policies/retention.yaml` (or `path`), checked against the classification levels and the
    table schemas; every error names the file and the field."""
    path = path or settings.path("policies", "retention.yaml")
    policy = config.load_model(path, RetentionPolicy, "retention policy", hint=" (see policies/retention.yaml in the repository)")

    def bad(fld: str, problem: str) -> ConfigError:
        return ConfigError(f"retention policy `{path}` field `{fld}`: {problem}")

    for level in policy.periods:
        if level not in levels.LEVELS:
            raise bad(f"periods.{level}", f"unknown level; the levels are {', '.join(levels.LEVELS)} (policies/classification.yaml)")
    for level in levels.LEVELS:
        if level not in policy.periods:
            raise bad(f"periods.{level}", "missing: give the days rows of this level are kept, or null to keep them")
    for name, rule in policy.tables.items():
        tier, _, table = name.partition(".")
        if tier not in TIERS or not table:
            raise bad(f"tables.{name}", f"expected `<tier>.<table>` with tier one of {', '.join(TIERS)}")
        try:
            schema = schemas.load_schema(settings, tier, table)
        except ConfigError as exc:
            raise bad(f"tables.{name}", str(exc)) from exc
        if rule.time_column is not None:
            col = next((c for c in schema.columns if c.name == rule.time_column), None)
            if col is None or col.type not in ("timestamp", "date"):
                found = "not a column" if col is None else f"a {col.type} column"
                times = [c.name for c in schema.columns if c.type in ("timestamp", "date")]
                raise bad(f"tables.{name}.time_column", f"`{rule.time_column}` is {found} of `{name}`; its time columns: {times or 'none (use `keep`)'}")
    return policy


def table_level(column_levels: dict[str, str]) -> str:
    """The highest level of the columns (就高从严)."""
    return levels.highest(column_levels.values())


def cutoff(run_time: datetime, days: int) -> datetime:
    """Rows with a time before this (UTC) are past their period at `run_time`."""
    if run_time.tzinfo is None:
        raise ConfigError(f"run time `{run_time.isoformat()}` has no timezone offset; give one, e.g. `2026-11-21T00:00:00+00:00`")
    u = run_time.astimezone(timezone.utc)  # rebuilt: pendulum (Airflow's logical date) loses the zone in astimezone
    return datetime(u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=timezone.utc) - timedelta(days=days)


def expired_predicate(column: str, spark_type: str, before: datetime) -> str:
    """SQL for rows of `column` (a Spark `timestamp`, `timestamp_ntz` or `date`) before `before`;
    the literal is UTC wall-clock time, as govlake's sessions run in UTC (govlake/platform/spark.py)."""
    if spark_type == "date":
        return f"`{column}` < DATE '{before.date().isoformat()}'"
    if spark_type in ("timestamp", "timestamp_ntz"):
        return f"`{column}` < TIMESTAMP '{before.astimezone(timezone.utc).strftime('%Y-%m-%d %H:%M:%S.%f')}'"
    raise ConfigError(f"column `{column}` is {spark_type}, not a time; retention needs a timestamp or date column")


@dataclass
class Target:
    """One table retention applies to, or the reason it is skipped."""

    table: str
    path: str | None = None
    time_column: str | None = None
    level: str | None = None
    days: int | None = None
    cutoff: datetime | None = None
    contract: str | None = None
    skipped: str | None = None


def targets(settings: Settings, policy: RetentionPolicy, run_time: datetime, contracts: list[ContractSpec]) -> list[Target]:
    """Base and analytic tables by level, then each contract's application table by its period."""

    out = []
    for tier, table in [(tier, f.stem) for tier in TIERS for f in schemas.all_schema_files(settings) if f.parent.name == tier]:
        name, rule = f"{tier}.{table}", policy.tables.get(f"{tier}.{table}")
        if rule is None:
            out.append(Target(name, skipped="no rule in policies/retention.yaml: add `time_column` or `keep` for it"))
            continue
        if rule.keep:
            out.append(Target(name, skipped=f"kept: {rule.keep}"))
            continue
        level = table_level({c: v["level"] for c, v in effective(settings, tier, table).items()})
        days = policy.periods[level]
        t = Target(name, lake.table_path(settings, tier, table), rule.time_column, level, days)
        if days is None:
            t.skipped = f"level {level} is kept (periods.{level}: null)"
        else:
            t.cutoff = cutoff(run_time, days)
        out.append(t)
    for spec in contracts:
        rule = policy.tables.get(spec.dataset)
        t = Target(f"{spec.consumer_schema}.{spec.table}", lake.app_table_path(settings, spec), rule.time_column if rule else None,
                   days=spec.retention_days, contract=spec.id)
        if t.time_column is None:
            t.skipped = f"`{spec.dataset}` has no `time_column` in policies/retention.yaml, so contract `{spec.id}`'s rows cannot be aged"
        elif t.time_column not in [c.name for c in spec.columns]:
            t.skipped = (f"contract `{spec.id}` does not grant `{t.time_column}`, the time column of `{spec.dataset}`, so its rows cannot "
                         f"be aged here; every publish rebuilds it from `{spec.dataset}` with only the rows inside the contract's period "
                         f"and keeps no history (application.publish)")
        else:
            t.cutoff = cutoff(run_time, spec.retention_days)
        out.append(t)
    return out


@dataclass
class RetentionReport:
    run_time: datetime
    dry_run: bool
    retain_hours: int
    tables: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"run_time": self.run_time.isoformat(), "dry_run": self.dry_run, "vacuum_retain_hours": self.retain_hours,
                "tables": self.tables, "skipped": self.skipped, "failed": self.failed}


def enforce(spark: "SparkSession", settings: Settings, run_time: datetime, *, dry_run: bool = False,
            policy: RetentionPolicy | None = None, contracts: list[ContractSpec] | None = None, actor: str = ACTOR) -> RetentionReport:
    """Delete every row past its period at `run_time` and vacuum (with `dry_run`, only count the
    rows that would go). One table's failure is reported and does not stop the others; a real run
    records one `retention.run` audit entry with the per-table counts. A real run holds the lake
    exclusively (core.locks): writers wait, and none has files in flight for its VACUUM to take."""
    policy = policy or load_policy(settings)
    cutoff(run_time, 0)  # a naive run time fails here, before any work
    if contracts is None:
        contracts = workflow.refresh_active(settings, run_time)
    with (nullcontext() if dry_run else locks.lake_maintenance(lake_locks.space(settings), "retention run")):
        return _enforce(spark, settings, run_time, dry_run, policy, contracts, actor)


def _enforce(spark: "SparkSession", settings: Settings, run_time: datetime, dry_run: bool, policy: RetentionPolicy,
             contracts: list[ContractSpec], actor: str) -> RetentionReport:
    from delta.tables import DeltaTable

    report = RetentionReport(run_time, dry_run, policy.vacuum_retain_hours)
    for t in targets(settings, policy, run_time, contracts):
        if t.skipped is None and not DeltaTable.isDeltaTable(spark, t.path):
            t.skipped = "no table yet"
        if t.skipped:
            report.skipped[t.table] = t.skipped
            continue
        entry = {"time_column": t.time_column, "level": t.level, "days": t.days, "cutoff": t.cutoff.isoformat()}
        if t.contract:
            entry["contract"] = t.contract
        try:
            df = spark.read.format("delta").load(t.path)
            predicate = expired_predicate(t.time_column, df.schema[t.time_column].dataType.simpleString(), t.cutoff)
            if dry_run:
                entry["would_delete"] = df.where(predicate).count()
            else:
                result = lake.purge(spark, t.path, predicate, retain_hours=policy.vacuum_retain_hours)
                entry |= {k: result[k] for k in ("rows_deleted", "files_rewritten", "files_removed", "deletion_vectors", "seconds")}
                faults.point("retention.table")
            report.tables[t.table] = entry
        except Exception as exc:  # noqa: BLE001 - reported per table, the run goes on
            report.failed[t.table] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
    if not dry_run:
        audit.record(settings, actor, "retention.run", "policy:retention", report.as_dict())
    return report
