"""Analytic tier -> application tier: one table per active sharing contract.

Each table holds exactly the granted columns of the contract's dataset, each through its
contract masking method, filtered by the contract's row filter (re-rendered from its parsed
form, never pasted), in schema `app_<consumer>`.

- `token` in a contract uses a key derived from the platform key and the contract id, so two
  consumers' tokens of the same plate cannot be joined with each other.
- A table lives at `<application>/<schema>/<table>__<spec hash>`: a changed specification starts
  a new Delta table with its own history, so time travel (`FOR VERSION AS OF`) can never reach a
  version written under an earlier, less restrictive specification.
- Consumers get no history: each publish overwrites the table, and once a reader that started
  on the replaced version has had `app_history_grace_s` to finish, VACUUM removes the replaced
  files, so `FOR VERSION AS OF` reaches no row that expired or was rebuilt away.
- Tables of contracts that are no longer active are deleted from the warehouse (after Trino's
  rules already stopped granting them).
- Before writing, the table's column lineage is read from its plan and classification is
  propagated along the whole lineage graph (governance/lineage.py): a column whose effective
  level exceeds the contract purpose's `max_level` refuses the contract's table (it is not
  written, and an older one is deleted); each write is recorded as an OpenLineage event.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import DataFrame, SparkSession, functions as F

from govlake.compliance import retention
from govlake.contracts import filters
from govlake.contracts.spec import ContractSpec
from govlake.core import faults, private
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings
from govlake.domain import levels, masking, policies, schemas
from govlake.governance import lineage
from govlake.pipeline import lineage_capture
from govlake.platform import lake, secrets, storage
from govlake.platform.secrets import TokenKey


@dataclass
class Published:
    contract: str
    schema: str
    table: str
    rows: int
    path: str
    spec_hash: str = ""


def contract_view(dataset: DataFrame, spec: ContractSpec, key: TokenKey | None = None) -> DataFrame:
    """The consumer's shape of `dataset` under `spec` (pure)."""
    available = set(dataset.columns)
    unknown = [c.name for c in spec.columns if c.name not in available]
    if unknown:
        raise ConfigError(f"contract `{spec.id}` grants column(s) {unknown} that `{spec.dataset}` does not have")
    df = dataset
    if spec.row_filter:
        try:
            tree = filters.validate(spec.row_filter, available)
        except filters.FilterError as exc:
            raise ConfigError(f"contract `{spec.id}` field `row_filter`: {exc}") from exc
        df = df.where(F.expr(filters.to_sql(tree, "spark")))
    ckey = secrets.contract_key(key, spec.id) if key is not None else None
    if ckey is not None and any(c.masking == "token" for c in spec.columns):
        df = masking.keyed(df, ckey)
    out = []
    for c in spec.columns:
        expr = masking.apply(c.masking or "identity", F.col(c.name), key=ckey)
        if expr is not None:
            out.append(expr.alias(c.name))
    return df.select(*out)


def preview(spark: SparkSession, settings: Settings, spec: ContractSpec, key: TokenKey | None, run_time: datetime,
            rows: int = 5) -> tuple[list[str], list[tuple], list[str]]:
    """A few rows of `spec`'s table exactly as a publish at `run_time` would write them (the same
    retention cut, row filter and masks), and the reasons a publish would refuse the table."""
    tier, table = spec.dataset.split(".")
    dataset = spark.read.format("delta").load(lake.table_path(settings, tier, table))
    df = contract_view(within_retention(dataset, settings, spec, run_time), spec, key)
    found = lineage_capture.edges(settings, df, lake.app_table_path(settings, spec), f"{spec.consumer_schema}.{spec.table}",
                                  {"contract": spec.id, "consumer": spec.consumer})
    reasons = raw_platform_tokens(settings, spec) + over_level(settings, spec, found, lineage.edges(settings))
    if reasons:  # what a publish would refuse is not shown either
        return df.columns, [], reasons
    return df.columns, [tuple(r) for r in df.limit(rows).collect()], []


def app_stats_columns(settings: Settings, spec: ContractSpec) -> list[str]:
    """The granted columns Delta may keep statistics on (lake.stats_columns of the dataset)."""
    tier, table = spec.dataset.split(".")
    allowed = set(lake.stats_columns(schemas.load_schema(settings, tier, table)))
    return [c.name for c in spec.columns if c.name in allowed and c.masking != "suppress"]


@dataclass
class Refused:
    contract: str
    schema: str
    table: str
    reasons: list[str]


def over_level(settings: Settings, spec: ContractSpec, found: list[lineage.Edge], known: list[lineage.Edge]) -> list[str]:
    """Columns of the contract's table whose effective level (along lineage) exceeds its purpose's."""
    limit = policies.purposes(settings)[spec.purpose].max_level
    out_name = f"{spec.consumer_schema}.{spec.table}"
    graph = [e for e in known if e.out_dataset != out_name] + found
    deid = policies.deidentifications(settings)
    effective = levels.effective_levels(graph, schemas.declared_levels(settings), deid)
    reasons = []
    for column in dict.fromkeys(e.out_column for e in found):
        level = effective.get((out_name, column))
        if levels.exceeds(level, limit):
            path = levels.explain((out_name, column), graph, effective, deid)
            reasons.append(f"contract `{spec.id}` column `{column}` is {level} along its lineage ({path}), above {limit} allowed "
                           f"for purpose `{spec.purpose}`; mask it with a method that lowers it (policies/masking.yaml) or drop it, then re-submit")
    return reasons


def raw_platform_tokens(settings: Settings, spec: ContractSpec) -> list[str]:
    """Granted platform-token columns not re-keyed for the contract: validation refuses them now,
    and a contract approved before that rule must not keep publishing them."""
    tier, table = spec.dataset.split(".")
    tokens = {c.name for c in schemas.load_schema(settings, tier, table).columns if c.platform_token}
    return [f"contract `{spec.id}` column `{c.name}` holds platform tokens and is granted with `{c.masking or 'identity'}`; "
            f"amend it to `masking: token` (re-keyed for the contract) or `suppress`, then re-submit"
            for c in spec.columns if c.name in tokens and c.masking not in ("token", "suppress")]


def within_retention(dataset: DataFrame, settings: Settings, spec: ContractSpec, run_time: datetime | None) -> DataFrame:
    """The rows of `dataset` inside the contract's `retention_days` at `run_time`, aged by the
    dataset's time column in policies/retention.yaml (whether or not the contract grants it), so
    a publish never brings back rows the retention run deleted. A dataset without a time column
    is shared whole (its own retention rule applies)."""

    if run_time is None:
        return dataset
    rule = retention.load_policy(settings).tables.get(spec.dataset)
    if rule is None or rule.time_column is None:
        return dataset
    spark_type = dataset.schema[rule.time_column].dataType.simpleString()
    expired = retention.expired_predicate(rule.time_column, spark_type, retention.cutoff(run_time, spec.retention_days))
    return dataset.where(f"NOT ({expired}) OR `{rule.time_column}` IS NULL")


def publish(spark: SparkSession, settings: Settings, active: list[ContractSpec], key: TokenKey | None = None,
            run_time: datetime | None = None) -> tuple[list[Published], list[Refused]]:
    """Materialise the application table of every contract in `active` whose columns pass the
    lineage level check, holding the rows within its retention period at `run_time`; delete all
    others. One publish at a time per state folder: the vacuum after it removes every file the
    current versions do not use, which must not include another publish's files in flight."""
    with private.exclusive(settings.run_dir / "publish.lock"):
        return _publish(spark, settings, active, key, run_time)


def _publish(spark: SparkSession, settings: Settings, active: list[ContractSpec], key: TokenKey | None,
             run_time: datetime | None) -> tuple[list[Published], list[Refused]]:

    out, refused = [], []
    written: list[tuple[str, float]] = []
    known = lineage.edges(settings)
    for spec in active:
        tier, table = spec.dataset.split(".")
        dataset = spark.read.format("delta").load(lake.table_path(settings, tier, table))
        df = contract_view(within_retention(dataset, settings, spec, run_time), spec, key)
        path = lake.app_table_path(settings, spec)
        facet = {"contract": spec.id, "provider": spec.provider, "consumer": spec.consumer, "purpose": spec.purpose, "spec": spec.content_hash()[:16]}
        found = lineage_capture.edges(settings, df, path, f"{spec.consumer_schema}.{spec.table}", facet)
        reasons = raw_platform_tokens(settings, spec) + over_level(settings, spec, found, known)
        if reasons:
            refused.append(Refused(spec.id, spec.consumer_schema, spec.table, reasons))
            continue
        stats = app_stats_columns(settings, spec)
        props = {lake.STATS_COLUMNS: ",".join(stats)} if stats else {"delta.dataSkippingNumIndexedCols": "0"}
        writer = (df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
                  .option("userMetadata", f"contract={spec.id};spec={spec.content_hash()[:16]}"))
        for k, v in props.items():
            writer = writer.option(k, v)  # table properties when the write creates the table
        writer.save(path)
        written.append((path, time.monotonic()))
        lake.set_properties(spark, path, props)
        lineage_capture.record_write(settings, f"contract.{spec.id}", df, path, found, facet)
        rows = spark.read.format("delta").load(path).count()
        out.append(Published(spec.id, spec.consumer_schema, spec.table, rows, path, spec.content_hash()))
        faults.point("publish.table")
    for path, at in written:
        # readers of the replaced version have had their grace; then its files go (Delta rounds
        # a vacuum's retention to whole hours, so the wait is here, and the vacuum keeps 0 h)
        time.sleep(max(0.0, at + settings.app_history_grace_s - time.monotonic()))
        lake.vacuum_now(spark, path, 0.0)
    keep = {storage.canonical(p.path) for p in out}
    for schema_dir in storage.child_dirs(settings, lake.table_path(settings, "application", "")):
        if not storage.name(schema_dir).startswith("app_"):
            continue
        for table_dir in storage.child_dirs(settings, schema_dir):
            if storage.canonical(table_dir) not in keep:
                lake.delete_table(settings, table_dir)  # log first: a job killed half-way leaves no older version standing
    current = {f"{p.schema}.{p.table}" for p in out}
    lineage.retire(settings, sorted(d for d in lineage.datasets(settings) if d.startswith("app_") and d not in current))
    return out, refused
