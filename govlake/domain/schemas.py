"""Table schemas per tier (`schemas/<tier>/<table>.yaml`) and the warehouse layout.

Every column declares a description and a classification level (and a PII type where it holds
personal information); a column without a level is a configuration error. Tables are Delta
tables at `<warehouse>/<tier>/<table>`; Trino sees them as `<catalog>.<tier>.<table>`.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from govlake.core.errors import ConfigError
from govlake.core.settings import Settings

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

SPARK_TYPES = {"string": "STRING", "double": "DOUBLE", "int": "INT", "long": "BIGINT", "timestamp": "TIMESTAMP", "date": "DATE"}


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: Literal["string", "double", "int", "long", "timestamp", "date"]
    description: str = Field(min_length=3)
    level: Literal["L1", "L2", "L3", "L4"]
    pii_type: str | None = None
    important: bool = False
    nullable: bool = True
    category: str | None = None  # data category (policies/purposes.yaml); default: the table's
    # the value is a platform token (keyed with the platform key): joinable across every consumer
    # and equal to the erasure subject's token, so a contract must re-key it (`token`) or drop it
    platform_token: bool = False


CATEGORIES = ("camera_metadata", "aggregate_flows", "detection_records", "incident_reports", "pseudonymous_tracks", "identity", "images")


class TableSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str
    tier: Literal["base", "analytic", "application"]
    description: str
    key: list[str] = Field(default_factory=list)
    category: str | None = None  # data category of its columns for sharing purposes
    # partition columns: `[department]` keeps each department's rows in files of their own, so
    # a steward reading their department's rows never scans or estimates another's
    partitioned_by: list[str] = Field(default_factory=list)
    columns: list[Column]

    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def spark_schema(self) -> "StructType":
        from pyspark.sql.types import StructType

        return StructType.fromDDL(", ".join(f"{c.name} {SPARK_TYPES[c.type]}" for c in self.columns))


_parsed: dict[tuple[str, int, int], TableSchema] = {}


def load_schema(settings: Settings, tier: str, table: str) -> TableSchema:
    path = settings.path("schemas", tier, f"{table}.yaml")
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key not in _parsed:  # a job loads the same few schemas hundreds of times
            _parsed[key] = TableSchema.model_validate(yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER))
        schema = _parsed[key].model_copy(deep=True)
    except FileNotFoundError as exc:
        raise ConfigError(f"no schema for `{tier}.{table}`: expected {path}") from exc
    except ValidationError as exc:
        raise ConfigError(f"schema file `{path}` is invalid: {exc}") from exc
    for cat in [schema.category] + [c.category for c in schema.columns]:
        if cat is not None and cat not in CATEGORIES:
            raise ConfigError(f"schema file `{path}`: unknown data category `{cat}`; known: {', '.join(CATEGORIES)}")
    missing = [k for k in schema.key + schema.partitioned_by if k not in schema.names()]
    if missing:
        raise ConfigError(f"schema file `{path}`: key or partition column(s) {missing} are not columns of the table")
    return schema


def all_schema_files(settings: Settings) -> list[Path]:
    return sorted(settings.path("schemas").glob("*/*.yaml"))


def table_path(settings: Settings, tier: str, table: str) -> str:
    return f"{settings.warehouse_root.rstrip('/')}/{tier}/{table}"


STATS_COLUMNS = "delta.dataSkippingStatsColumns"


def stats_columns(schema: TableSchema) -> list[str]:
    """Columns Delta keeps per-file min/max statistics on: all but identifying text (string
    columns with a PII type, and every L4 column). Statistics live in the transaction log, where
    neither DELETE nor VACUUM reaches, so a value kept there would outlive its erasure. Partition
    columns are left out too: Delta keeps their values in the file paths, not in statistics."""
    return [c.name for c in schema.columns
            if not (c.level == "L4" or (c.type == "string" and c.pii_type)) and c.name not in schema.partitioned_by]


_ensured: set[tuple[str, str]] = set()




def ensure_table(spark: "SparkSession", settings: Settings, schema: TableSchema) -> str:
    """Create the Delta table (columns, comments, classification properties) if it does not exist;
    add columns the schema gained since (nullable ones only, never dropping any)."""
    path = table_path(settings, schema.tier, schema.table)
    memo = (path, schema.model_dump_json())
    still_there = settings.warehouse_is_local and (Path(path.removeprefix("file:")) / "_delta_log").is_dir()
    if memo in _ensured and still_there:  # done by this process, for this schema; object stores: always checked
        return path
    _create_or_update(spark, schema, path)
    _ensured.add(memo)
    return path


def _create_or_update(spark: "SparkSession", schema: TableSchema, path: str) -> None:
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
    level = max((c.level for c in schema.columns), default="L1")
    builder = builder.property("govlake.tier", schema.tier).property("govlake.level", level)
    builder = builder.property(STATS_COLUMNS, ",".join(stats_columns(schema)))
    if schema.partitioned_by:
        builder = builder.partitionedBy(*schema.partitioned_by)
    builder.execute()


def _repartition(spark: "SparkSession", schema: TableSchema, path: str) -> None:
    """Rewrite a table written before its schema named these partition columns, and remove the
    files of the old layout at once (a steward's time travel must not reach files mixing
    departments either)."""
    from govlake.compliance import retention

    # statistics columns first: Delta keeps none on a partition column and refuses a layout
    # whose statistics property still names one
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('{STATS_COLUMNS}' = '{','.join(stats_columns(schema))}')")
    rows = spark.read.format("delta").load(path).localCheckpoint()  # the rewrite replaces the files it reads
    (rows.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
     .partitionBy(*schema.partitioned_by).save(path))
    retention.vacuum_now(spark, path)
