"""Landing files -> harmonised base tier (the first stage of the main job).

A department's files are read in its own format, mapped through its registry entry to the
unified schema (names, code values, units, UTC, WGS-84), validated, and MERGEd into the base
Delta tables by natural key. Rows that fail validation go whole to `base.quarantine` with a
reason code. Every step but `ingest_department` is a pure DataFrame function.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from govlake import coordinates, schemas
from govlake.departments.registry import Department, FieldMap, Source
from govlake.settings import Settings

OBJECT_TYPES = ("person", "face", "motor_vehicle", "non_motor_vehicle", "thing", "scene")
CAMERA_STATUSES = ("online", "offline", "fault")
# China's bounding box (WGS-84), generous: positions outside are not plausible camera sites.
LON_RANGE, LAT_RANGE = (73.0, 136.0), (3.0, 54.0)


@dataclass
class EntityResult:
    entity: str
    files: list[str]
    read: int
    accepted: int
    quarantined: int
    duplicates: int
    missing_fields: list[str] = field(default_factory=list)


@dataclass
class BatchResult:
    batch_id: str
    department: str
    entities: list[EntityResult]

    @property
    def totals(self) -> dict:
        keys = ("read", "accepted", "quarantined", "duplicates")
        return {k: sum(getattr(e, k) for e in self.entities) for k in keys}

    def as_dict(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "department": self.department,
            "files": sorted(f for e in self.entities for f in e.files),
            **self.totals,
            "entities": [asdict(e) for e in self.entities],
        }


def landing_files(source: Source, landing: Path) -> list[Path]:
    return sorted(p for p in landing.glob(source.pattern) if p.is_file() and not p.name.startswith("."))


def batch_id_for(files: list[Path]) -> str:
    """Deterministic batch id from the files' names and contents: the same drop, the same batch."""
    h = hashlib.sha256()
    for p in sorted(files):
        h.update(p.name.encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()[:16]


def read_source(spark: SparkSession, source: Source, files: list[str]) -> DataFrame:
    """Raw records as the department sent them, plus the file each came from."""
    if source.format == "csv":
        reader = (
            spark.read.option("header", True)
            .option("encoding", source.encoding)
            .option("sep", source.delimiter)
            .option("mode", "PERMISSIVE")
            .option("inferSchema", False)
        )
        df = reader.csv(files)
    elif source.format == "jsonl":
        df = spark.read.option("encoding", source.encoding).option("primitivesAsString", True).json(files)
    else:
        df = spark.read.parquet(*files)
    return df.withColumn("_source_file", F.col("_metadata.file_name"))


def _field_expr(raw: DataFrame, name: str, fm: FieldMap, dept: Department) -> tuple[Column, Column | None]:
    """(unified value, raw value) for one mapped field; the raw value is kept for code checks."""
    c = F.col(f"`{fm.source}`")
    if fm.index is not None:
        c = c.getItem(fm.index)
    raw_value = c
    if fm.values:
        mapping = F.create_map(*[F.lit(x) for kv in fm.values.items() for x in kv])
        c = F.element_at(mapping, c.cast("string"))
    if fm.scale is not None:
        c = F.round(c.cast("double") * F.lit(fm.scale), 6)
    if fm.time_format:
        c = F.to_utc_timestamp(F.try_to_timestamp(c.cast("string"), F.lit(fm.time_format)), dept.timezone)
    elif fm.epoch:
        n = c.cast("long")
        c = F.timestamp_millis(n) if fm.epoch == "ms" else F.timestamp_seconds(n)
    elif name == "observed_at":
        tz = fm.timezone or dept.timezone
        ts = c if dict(raw.dtypes).get(fm.source, "").startswith("timestamp") else F.try_to_timestamp(c.cast("string"))
        c = ts if tz == "UTC" else F.to_utc_timestamp(ts, tz)
    return c, (raw_value if fm.values else None)


def to_unified(raw: DataFrame, source: Source, dept: Department, schema: schemas.TableSchema) -> tuple[DataFrame, list[str]]:
    """Map raw records to the unified schema; adds `_reason` (null when valid) and `_raw` (JSON)."""
    present = set(raw.columns)
    missing = sorted({fm.source for fm in source.fields.values() if fm.source not in present})
    exprs: dict[str, Column] = {}
    unknown_code: list[Column] = []
    for name, fm in source.fields.items():
        if fm.source not in present:
            exprs[name] = F.lit(None)
            continue
        value, raw_value = _field_expr(raw, name, fm, dept)
        exprs[name] = value
        if raw_value is not None:
            unknown_code.append(F.when(raw_value.isNotNull() & value.isNull(), F.lit(f"UNKNOWN_CODE:{name}")))
    exprs["department"] = F.lit(dept.id)
    if "longitude" in exprs:
        m = coordinates.spark_backend()
        lon, lat = (exprs["longitude"].cast("double"), exprs["latitude"].cast("double"))
        wlon, wlat = coordinates.to_wgs84(dept.coordinate_system, lon, lat, m)
        exprs["longitude"], exprs["latitude"] = F.round(wlon, 7), F.round(wlat, 7)
        exprs["source_crs"] = F.lit(dept.coordinate_system)
    types = {c.name: schemas.SPARK_TYPES[c.type] for c in schema.columns}
    raw_cols = [c for c in raw.columns if c != "_source_file"]
    out = raw.select(
        *[(exprs.get(n, F.lit(None))).cast(types[n]).alias(n) for n in schema.names() if n not in ("source_file", "batch_id")],
        F.col("_source_file").alias("source_file"),
        F.to_json(F.struct(*[F.col(f"`{c}`") for c in raw_cols])).alias("_raw"),
        F.coalesce(*unknown_code, F.lit(None).cast("string")).alias("_code_reason") if unknown_code else F.lit(None).cast("string").alias("_code_reason"),
    )
    return out, missing


def camera_reasons(df: DataFrame) -> Column:
    return F.coalesce(
        F.when(F.col("camera_id").isNull(), F.lit("MISSING_KEY")),
        F.when(~F.col("camera_id").rlike(r"^\d{20}$"), F.lit("INVALID_DEVICE_ID")),
        F.when(~F.coalesce(F.col("region_code"), F.lit("")).rlike(r"^\d{6}$"), F.lit("INVALID_REGION_CODE")),
        F.col("_code_reason"),
        F.when(
            ~F.col("longitude").between(*LON_RANGE) | ~F.col("latitude").between(*LAT_RANGE)
            | F.col("longitude").isNull() | F.col("latitude").isNull(),
            F.lit("OUT_OF_RANGE_POSITION"),
        ),
        F.when(~F.col("status").isin(*CAMERA_STATUSES), F.lit("UNKNOWN_CODE:status")),
    )


def detection_reasons(df: DataFrame, run_time: datetime) -> Column:
    return F.coalesce(
        F.when(F.col("detection_id").isNull() | (F.trim(F.col("detection_id")) == ""), F.lit("MISSING_KEY")),
        F.when(F.col("camera_id").isNull(), F.lit("MISSING_KEY")),
        F.when(~F.col("camera_id").rlike(r"^\d{20}$"), F.lit("INVALID_DEVICE_ID")),
        F.when(F.col("observed_at").isNull(), F.lit("INVALID_TIME")),
        F.when(F.col("observed_at") > F.lit(run_time).cast("timestamp") + F.expr("INTERVAL 5 MINUTES"), F.lit("FUTURE_TIME")),
        F.col("_code_reason"),
        F.when(~F.col("object_type").isin(*OBJECT_TYPES), F.lit("UNKNOWN_CODE:object_type")),
        F.when(~F.coalesce(F.col("confidence"), F.lit(-1.0)).between(0.0, 1.0), F.lit("OUT_OF_RANGE_CONFIDENCE")),
    )


def validate(df: DataFrame, entity: str, run_time: datetime) -> DataFrame:
    reason = camera_reasons(df) if entity == "cameras" else detection_reasons(df, run_time)
    return df.withColumn("_reason", reason)


def merge_into(spark: SparkSession, path: str, df: DataFrame, key: list[str], columns: list[str]) -> None:
    """Upsert by natural key; rows whose values did not change are not rewritten (rerun = no-op)."""
    from delta.tables import DeltaTable

    on = " AND ".join(f"t.{k} = s.{k}" for k in key)
    changed = " OR ".join(f"NOT (t.{c} <=> s.{c})" for c in columns if c not in key)
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(df.alias("s"), on)
        .whenMatchedUpdate(condition=changed, set={c: f"s.{c}" for c in columns})
        .whenNotMatchedInsert(values={c: f"s.{c}" for c in columns})
        .execute()
    )


def ingest_department(
    spark: SparkSession, settings: Settings, dept: Department, landing: Path, run_time: datetime
) -> BatchResult | None:
    """Ingest every landing file of `dept`; None when there is nothing to ingest."""
    files = {e: landing_files(s, landing) for e, s in dept.sources.items()}
    all_files = [p for ps in files.values() for p in ps]
    if not all_files:
        return None
    batch_id = batch_id_for(all_files)
    q_schema = schemas.load_schema(settings, "base", "quarantine")
    q_path = schemas.ensure_table(spark, settings, q_schema)
    results = []
    for entity in ("cameras", "detections"):
        paths = files.get(entity) or []
        if not paths:
            continue
        schema = schemas.load_schema(settings, "base", entity)
        path = schemas.ensure_table(spark, settings, schema)
        raw = read_source(spark, dept.sources[entity], [str(p) for p in paths])
        unified, missing = to_unified(raw, dept.sources[entity], dept, schema)
        checked = validate(unified, entity, run_time).withColumn("batch_id", F.lit(batch_id)).persist()
        read = checked.count()
        bad = checked.where(F.col("_reason").isNotNull())
        good = checked.where(F.col("_reason").isNull())
        deduped = good.dropDuplicates(schema.key)
        accepted = deduped.count()
        quarantined = bad.count()
        if quarantined:
            q = bad.select(
                F.lit(batch_id).alias("batch_id"),
                F.lit(dept.id).alias("department"),
                F.lit(entity).alias("entity"),
                "source_file",
                F.col("_reason").alias("reason"),
                F.col("_raw").alias("raw"),
                F.sha2(F.col("_raw"), 256).alias("row_hash"),
                F.lit(run_time).cast("timestamp").alias("quarantined_at"),
            ).dropDuplicates(q_schema.key)
            merge_into(spark, q_path, q, q_schema.key, q_schema.names())
        merge_into(spark, path, deduped.select(*schema.names()), schema.key, schema.names())
        checked.unpersist()
        results.append(
            EntityResult(entity, [p.name for p in paths], read, accepted, quarantined, read - accepted - quarantined, missing)
        )
    return BatchResult(batch_id, dept.id, results)
