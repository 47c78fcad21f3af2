"""Storage: where every table lives and every way govlake writes a Delta table.

Tables of the base, analytic and governance tiers are at `<warehouse>/<tier>/<table>`; a
contract's application table at `<warehouse>/application/<schema>/<table>__<spec hash>`.
Writes go through here: create or evolve a table from its schema (`ensure_table`), upsert by
key (`merge_into`, retried when a concurrent job's commit conflicts with it: jobs of different
departments MERGE into the same tables at once), and remove rows for good (`purge`/`rewrite`: DELETE, UPDATE or MERGE, then
REORG and VACUUM, so neither the files nor time travel keep them).

The schema and contract objects come from the domain layer above; this module reads only
their attributes (see `Layout` and `Located`), so it imports nothing of theirs.
"""
from __future__ import annotations

import logging
import random
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from govlake.core import faults
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings
from govlake.platform import storage

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class Column(Protocol):
    name: str
    type: str
    level: str
    nullable: bool
    description: str
    pii_type: str | None
    important: bool


class Layout(Protocol):
    """What a table's schema tells storage (domain.schemas.TableSchema)."""
    tier: str
    table: str
    description: str
    columns: list
    partitioned_by: list[str]
    level: str  # the highest of its columns' levels

    def model_dump_json(self) -> str: ...


class Located(Protocol):
    """What a contract tells storage about its application table (contracts.spec.ContractSpec)."""
    consumer_schema: str
    table: str

    def content_hash(self) -> str: ...


SPARK_TYPES = {"string": "STRING", "double": "DOUBLE", "int": "INT", "long": "BIGINT", "timestamp": "TIMESTAMP", "date": "DATE"}


def table_path(settings: Settings, tier: str, table: str) -> str:
    return f"{settings.warehouse_root.rstrip('/')}/{tier}/{table}"


def app_table_path(settings: Settings, spec: Located) -> str:
    return table_path(settings, "application", f"{spec.consumer_schema}/{spec.table}__{spec.content_hash()[:16]}")


STATS_COLUMNS = "delta.dataSkippingStatsColumns"


def stats_columns(schema: Layout) -> list[str]:
    """Columns Delta keeps per-file min/max statistics on: all but identifying text (string
    columns with a PII type, and every L4 column). Statistics live in the transaction log, where
    neither DELETE nor VACUUM reaches, so a value kept there would outlive its erasure. Partition
    columns are left out too: Delta keeps their values in the file paths, not in statistics."""
    return [c.name for c in schema.columns
            if not (c.level == "L4" or (c.type == "string" and c.pii_type)) and c.name not in schema.partitioned_by]


_ensured: set[tuple[str, str]] = set()


def ensure_table(spark: "SparkSession", settings: Settings, schema: Layout) -> str:
    """Create the Delta table (columns, comments, classification properties) if it does not exist;
    add columns the schema gained since (nullable ones only, never dropping any)."""
    path = table_path(settings, schema.tier, schema.table)
    memo = (path, schema.model_dump_json())
    if memo in _ensured and storage.is_dir(settings, f"{path}/_delta_log"):  # done by this process, for this schema
        return path
    # two jobs creating or evolving one table at once: the loser looks again and finds it done
    retried_on_conflict(f"creating or evolving {path}", lambda: _create_or_update(spark, schema, path))
    _ensured.add(memo)
    return path


def is_table(settings: Settings, path: str) -> bool:
    """A readable Delta table is at `path`: its log starts at version 0 or holds a checkpoint. What
    a `delete_table` stopped half-way leaves (the newer commits of a log whose start is gone) is not."""
    names = [storage.name(f) for f in storage.list_files(settings, f"{path}/_delta_log")]
    return any(n == f"{0:020d}.json" or ".checkpoint." in n for n in names)


def delete_table(settings: Settings, path: str) -> None:
    """Remove the Delta table at `path` for good, files and all, in an order that never leaves an
    earlier version standing as the latest should it stop half-way: the transaction log first,
    oldest commit first (a log missing its first commits and without a checkpoint is no table at
    all, and reading it fails), then the data files. Works the same on a local folder and on an
    object store, which has no rename to move a table aside in one step."""
    log = f"{path}/_delta_log"
    storage.delete_file(settings, f"{log}/_last_checkpoint")
    for f in storage.list_files(settings, log):
        storage.delete_file(settings, f)
    storage.delete_tree(settings, path)


def _create_or_update(spark: "SparkSession", schema: Layout, path: str) -> None:
    from delta.tables import DeltaTable

    if DeltaTable.isDeltaTable(spark, path):
        table = DeltaTable.forPath(spark, path)  # one snapshot serves the schema and the properties
        detail = table.detail().select("properties", "partitionColumns").first()
        if list(detail.partitionColumns or []) != schema.partitioned_by:
            _repartition(spark, schema, path)
            return _create_or_update(spark, schema, path)
        present = {f.name for f in table.toDF().schema.fields}
        missing = [c for c in schema.columns if c.name not in present]
        if missing:
            if any(not c.nullable for c in missing):
                raise ConfigError(f"`{schema.tier}.{schema.table}` lacks non-nullable column(s) {[c.name for c in missing if not c.nullable]}; "
                                  "a new column must be nullable to be added to an existing table")
            cols = ", ".join(f"`{c.name}` {SPARK_TYPES[c.type]} COMMENT '{c.description.replace(chr(39), '')}'" for c in missing)
            spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({cols})")
        stats = ",".join(stats_columns(schema))
        if (detail.properties or {}).get(STATS_COLUMNS) != stats:
            spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('{STATS_COLUMNS}' = '{stats}')")
        return
    builder = DeltaTable.createIfNotExists(spark).location(path).comment(schema.description)
    for c in schema.columns:
        comment = f"{c.description} [{c.level}{', ' + c.pii_type if c.pii_type else ''}{', important' if c.important else ''}]"
        builder = builder.addColumn(c.name, SPARK_TYPES[c.type], nullable=c.nullable, comment=comment)
    builder = builder.property("govlake.tier", schema.tier).property("govlake.level", schema.level)
    builder = builder.property(STATS_COLUMNS, ",".join(stats_columns(schema)))
    if schema.partitioned_by:
        builder = builder.partitionedBy(*schema.partitioned_by)
    builder.execute()


def _repartition(spark: "SparkSession", schema: Layout, path: str) -> None:
    """Rewrite a table written before its schema named these partition columns, and remove the
    files of the old layout at once (a steward's time travel must not reach files mixing
    departments either)."""
    # statistics columns first: Delta keeps none on a partition column and refuses a layout
    # whose statistics property still names one
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('{STATS_COLUMNS}' = '{','.join(stats_columns(schema))}')")
    rows = spark.read.format("delta").load(path).localCheckpoint()  # the rewrite replaces the files it reads
    (rows.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
     .partitionBy(*schema.partitioned_by).save(path))
    vacuum_now(spark, path)


def set_properties(spark: "SparkSession", path: str, props: dict[str, str]) -> None:
    """Set table properties an existing table lacks (a write's options only set them on creation)."""
    from delta.tables import DeltaTable

    current = DeltaTable.forPath(spark, path).detail().select("properties").first().properties or {}
    missing = {k: v for k, v in props.items() if current.get(k) != v}
    if missing:
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({', '.join(f'{k!r} = {v!r}' for k, v in missing.items())})")


log = logging.getLogger("govlake.lake")


def _literal(value: str) -> str:
    """A Spark SQL string literal of `value` (backslash and quote escaped)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


CONFLICT_ATTEMPTS = 6


def _conflicts() -> tuple[type[BaseException], ...]:
    """Delta's commit conflicts: another job committed to the table between this one's read and
    its commit (optimistic concurrency), so this commit was refused and nothing of it written."""
    from delta import exceptions as dx

    return (dx.ConcurrentAppendException, dx.ConcurrentDeleteReadException, dx.ConcurrentDeleteDeleteException,
            dx.ConcurrentTransactionException, dx.ConcurrentWriteException, dx.MetadataChangedException,
            dx.ProtocolChangedException)


def retried_on_conflict(what: str, write, attempts: int | None = None, base_delay_s: float = 0.5):
    """`write()`, again (after a growing, jittered pause) while a concurrent commit conflicts with
    it, at most `attempts` times. Only for idempotent writes: a refused commit wrote nothing, and
    the write reads the table afresh each time."""
    conflicts, attempts = _conflicts(), attempts or CONFLICT_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except conflicts as exc:
            if attempt == attempts:
                raise
            delay = min(base_delay_s * 2 ** (attempt - 1), 15.0) * (0.5 + random.random())
            log.info("%s conflicted with a concurrent commit (%s); trying again in %.1f s (attempt %d of %d)",
                     what, type(exc).__name__, delay, attempt + 1, attempts)
            time.sleep(delay)


def partitions_of(schema: Layout, rows: list[tuple]) -> dict[str, list[str]]:
    """The partition values `rows` (tuples in the schema's column order) hold: `merge_into`'s `within`."""
    names = [c.name for c in schema.columns]
    return {col: sorted({r[names.index(col)] for r in rows}) for col in schema.partitioned_by}


def merge_into(spark: "SparkSession", path: str, df: "DataFrame", key: list[str], columns: list[str], rows: int | None = None,
               within: dict[str, list[str]] | None = None) -> None:
    """Upsert by natural key; rows whose values did not change are not rewritten (rerun = no-op).

    New keys are the common case (a feed sends new records), so rows are first inserted by an
    insert-only MERGE, which only anti-joins the target's keys; a second MERGE, which updates
    changed rows of keys already present, runs only when some rows of `df` (`rows` of them,
    counted if not given) were not inserted. Both are idempotent: a crash between them leaves
    the rerun to complete the update.

    `within`: partition values every row of `df` has (`{"department": [...]}`). The MERGE then
    reads only those partitions of the table, and Delta sees that a concurrent job writing other
    departments' partitions does not conflict with it; without it every concurrent MERGE into the
    table conflicts, and is tried again (`retried_on_conflict`)."""
    from delta.tables import DeltaTable

    on = " AND ".join([f"t.{k} = s.{k}" for k in key] + [f"t.{col} IN ({', '.join(_literal(v) for v in sorted(set(values)))})"
                                                         for col, values in (within or {}).items() if values])
    table = DeltaTable.forPath(spark, path)
    inserted = retried_on_conflict(f"MERGE (insert) into {path}", lambda: (
        table.alias("t").merge(df.alias("s"), on).whenNotMatchedInsert(values={c: f"s.{c}" for c in columns}).execute()
        .collect()[0]["num_inserted_rows"]
    ))
    if inserted == (df.count() if rows is None else rows):
        return
    changed = " OR ".join(f"NOT (t.{c} <=> s.{c})" for c in columns if c not in key)
    retried_on_conflict(f"MERGE (update) into {path}", lambda: (
        table.alias("t")
        .merge(df.alias("s"), on)
        .whenMatchedUpdate(condition=changed, set={c: f"s.{c}" for c in columns})
        .execute()
    ))


RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"
LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism"


def _history(table, after: int) -> list:
    return table.history().where(f"version > {after}").select("version", "operation", "operationMetrics").orderBy("version").collect()


def _version(table) -> int:
    return table.history(1).collect()[0].version


def deletion_vectors(spark: "SparkSession", path: str) -> bool:
    """Whether the table may hold deletion vectors (enabled now, or the feature ever switched on)."""
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0].asDict()
    return (detail.get("properties") or {}).get("delta.enableDeletionVectors") == "true" or "deletionVectors" in (detail.get("tableFeatures") or [])


@contextmanager
def _session_conf(spark: "SparkSession", conf: dict[str, str]):
    """Set session configuration for the duration of a block, then restore what was there."""
    previous = {k: spark.conf.get(k, None) for k in conf}
    for k, v in conf.items():
        spark.conf.set(k, v)
    try:
        yield
    finally:
        for k, v in previous.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


ROW_METRICS = {"DELETE": ("numDeletedRows", None), "MERGE": ("numTargetRowsDeleted", "numTargetRowsUpdated"), "UPDATE": (None, "numUpdatedRows")}


def purge(spark: "SparkSession", path: str, predicate_sql: str, *, retain_hours: float) -> dict:
    """Delete the rows matching `predicate_sql` from the Delta table at `path` and remove their
    bytes (see `rewrite`)."""
    if not (predicate_sql or "").strip():
        raise ConfigError(f"purge of `{path}` needs a predicate naming the rows to delete (use `true` to empty the table)")
    return rewrite(spark, path, lambda table: table.delete(predicate_sql), retain_hours=retain_hours) | {"predicate": predicate_sql}


def rewrite(spark: "SparkSession", path: str, change, *, retain_hours: float) -> dict:
    """Apply `change(DeltaTable)` (a DELETE, UPDATE or MERGE) to the table at `path`, then remove
    the bytes it replaced: `REORG ... APPLY (PURGE)` when the table may hold deletion vectors (so
    soft-deleted rows are rewritten out of the files), then VACUUM keeping `retain_hours` of
    history (0: the removed files go now, and time travel to earlier versions fails).

    Returns rows deleted and updated (from the commits' metrics), files rewritten by REORG, files
    removed by VACUUM (VACUUM END metrics; None when the table's history does not log vacuums) and
    the versions. Not removed: the per-file min/max statistics in `_delta_log/*.json` of earlier
    commits, which may hold a replaced value until Delta's log retention drops them (govlake's
    tables collect no statistics on identifying columns: lake.stats_columns).
    """
    from delta.tables import DeltaTable

    if retain_hours < 0:
        raise ConfigError(f"purge of `{path}`: retain_hours is {retain_hours}; give 0 or more hours")
    if not DeltaTable.isDeltaTable(spark, path):
        raise ConfigError(f"`{path}` is not a Delta table; check the path")
    started = time.monotonic()
    table = DeltaTable.forPath(spark, path)
    before = _version(table)
    change(table)
    changes = [r for r in _history(table, before) if r.operation in ROW_METRICS]
    deleted = updated = 0  # no commit: nothing matched
    for r in changes:
        d, u = ROW_METRICS[r.operation]
        m = r.operationMetrics or {}
        deleted += int(m.get(d, 0)) if d else 0
        updated += int(m.get(u, 0)) if u else 0
    dv, rewritten = deletion_vectors(spark, path), 0
    after_change = _version(table)
    if dv:
        spark.sql(f"REORG TABLE delta.`{path}` APPLY (PURGE)")
        rewritten = sum(int((r.operationMetrics or {}).get("numRemovedFiles", 0)) for r in _history(table, after_change) if r.operation == "REORG")
    faults.point("lake.vacuum")
    vacuumed = vacuum_now(spark, path, retain_hours)
    return {
        "path": path, "rows_deleted": deleted, "rows_updated": updated, "deletion_vectors": dv, "files_rewritten": rewritten,
        "files_removed": vacuumed,
        "retain_hours": retain_hours, "version_before": before, "version_delete": changes[0].version if changes else None,
        "version_after": _version(table), "seconds": round(time.monotonic() - started, 2),
    }


def vacuum_now(spark: "SparkSession", path: str, retain_hours: float = 0.0) -> int | None:
    """VACUUM the table at `path` keeping `retain_hours` of history (0: every file the current
    version does not use goes now, and time travel to earlier versions fails); returns the files
    removed (None when the table's history does not log vacuums)."""
    from delta.tables import DeltaTable

    table = DeltaTable.forPath(spark, path)
    before = _version(table)
    # the caller chose the retention, so Delta's 168 h safety check is off for this call only; the
    # file listing gets the cluster's parallelism instead of Spark's default 10,000 tasks (which
    # made a vacuum of a two-file table take 35-48 s on two cores instead of 4-5 s)
    jvm = spark.sparkContext._jvm
    console = jvm.System.out
    with _session_conf(spark, {RETENTION_CHECK: "false", LISTING_PARALLELISM: str(spark.sparkContext.defaultParallelism)}):
        jvm.System.setOut(jvm.java.io.PrintStream(jvm.java.io.OutputStream.nullOutputStream()))  # Delta prints its count to stdout
        try:
            table.vacuum(float(retain_hours))
        finally:
            jvm.System.setOut(console)
    vacuumed = next((r for r in _history(table, before) if r.operation == "VACUUM END"), None)
    return int((vacuumed.operationMetrics or {}).get("numDeletedFiles", 0)) if vacuumed else None
