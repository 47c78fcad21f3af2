"""Landing files -> harmonised base tier (the first stage of the main job).

A department's files are read in its own format, mapped through its registry entry to the
unified schema (names, code values, units, UTC, WGS-84), validated, and MERGEd into the base
Delta tables by natural key. Rows that fail validation go whole to `base.quarantine` with a
reason code. Every step but `ingest_department` is a pure DataFrame function.
"""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from govlake import coordinates, quality, schemas
from govlake.artifacts import sha256_file
from govlake.departments.registry import Department, FieldMap, Source
from govlake.settings import Settings

OBJECT_TYPES = ("person", "face", "motor_vehicle", "non_motor_vehicle", "thing", "scene")
CAMERA_STATUSES = ("online", "offline", "fault")
# China's bounding box (WGS-84), generous: positions outside are not plausible camera sites.
LON_RANGE, LAT_RANGE = (73.0, 136.0), (3.0, 54.0)
CORRUPT = "_corrupt_record"
REPLACEMENT_CHAR = "\ufffd"


@dataclass
class EntityResult:
    entity: str
    files: list[str]
    read: int
    accepted: int
    quarantined: int
    duplicates: int
    missing_fields: list[str] = field(default_factory=list)
    extra_fields: list[str] = field(default_factory=list)
    rejected_files: dict[str, str] = field(default_factory=dict)
    quality_status: str = "not_run"
    quality_failures: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.read == self.accepted + self.quarantined + self.duplicates and self.duplicates >= 0


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
            "rejected_files": {k: v for e in self.entities for k, v in e.rejected_files.items()},
            "schema_drift": {e.entity: {"missing": e.missing_fields, "extra": e.extra_fields} for e in self.entities if e.missing_fields or e.extra_fields},
            "balanced": all(e.balanced for e in self.entities),
            "entities": [asdict(e) | {"balanced": e.balanced} for e in self.entities],
        }


def plain_utc(when: datetime) -> datetime:
    """The run's logical time as a plain UTC datetime (Airflow hands in pendulum DateTimes,
    which Spark's row conversion rejects)."""
    if when.tzinfo is None:
        raise ValueError("run time must be timezone-aware")
    return datetime.fromtimestamp(when.timestamp(), tz=timezone.utc)


def landing_files(source: Source, landing: Path) -> list[Path]:
    return sorted(p for p in landing.glob(source.pattern) if p.is_file() and not p.name.startswith("."))


def _csv_header(path: Path, source: Source) -> list[str]:
    with path.open("rb") as f:
        first = f.readline().decode(source.encoding).lstrip("\ufeff")
    return next(csv.reader([first], delimiter=source.delimiter)) if first.strip() else []


def unreadable_reason(path: Path, source: Source) -> str | None:
    """Why a whole file cannot be ingested (it is then kept aside and reported), or None."""
    if path.stat().st_size == 0:
        return "EMPTY_FILE"
    if source.format == "parquet":
        import pyarrow.parquet as pq

        try:
            pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for a corrupt footer
            return f"UNREADABLE_PARQUET: {str(exc)[:200]}"
        return None
    if source.format == "csv":
        try:
            header = _csv_header(path, source)
        except UnicodeDecodeError:
            return f"HEADER_NOT_{source.encoding.upper()}"
        mapped = {fm.source for fm in source.fields.values()}
        if not mapped & set(header):
            return "HEADER_MISMATCH: none of the mapped fields is in the header"
    return None


def read_source(spark: SparkSession, source: Source, files: list[str]) -> DataFrame:
    """Raw records as the department sent them, plus the file each came from and, for a line
    that could not be parsed, its text in `_corrupt_record`."""
    if source.format == "csv":
        from pyspark.sql.types import StringType, StructField, StructType

        by_header: dict[tuple[str, ...], list[str]] = {}
        for f in files:
            by_header.setdefault(tuple(_csv_header(Path(f), source)), []).append(f)
        frames = []
        for header, group in by_header.items():
            schema = StructType([StructField(c, StringType()) for c in header] + [StructField(CORRUPT, StringType())])
            frames.append(
                spark.read.option("header", True)
                .option("encoding", source.encoding)
                .option("sep", source.delimiter)
                .option("mode", "PERMISSIVE")
                .option("columnNameOfCorruptRecord", CORRUPT)
                .option("enforceSchema", False)
                .schema(schema)
                .csv(group)
                .withColumn("_source_file", F.col("_metadata.file_name"))
            )
        df = frames[0]
        for other in frames[1:]:
            df = df.unionByName(other, allowMissingColumns=True)
        return df
    if source.format == "jsonl":
        df = (
            spark.read.option("encoding", source.encoding)
            .option("primitivesAsString", True)
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT)
            .json(files)
        )
        if CORRUPT not in df.columns:
            df = df.withColumn(CORRUPT, F.lit(None).cast("string"))
    else:
        df = spark.read.option("mergeSchema", True).parquet(*files).withColumn(CORRUPT, F.lit(None).cast("string"))
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


@dataclass
class Drift:
    """Source fields the mapping expects but the files lack, and fields the mapping does not know."""

    missing: list[str]
    extra: list[str]


def to_unified(raw: DataFrame, source: Source, dept: Department, schema: schemas.TableSchema) -> tuple[DataFrame, Drift]:
    """Map raw records to the unified schema, with `_raw` (the record as read, JSON or the
    malformed line) and `_pre_reason` / `_code_reason` for validation."""
    present = set(raw.columns) - {CORRUPT, "_source_file"}
    mapped = {fm.source for fm in source.fields.values()}
    missing = sorted(mapped - present)
    extra = sorted(present - mapped)
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
    raw_cols = [c for c in raw.columns if c not in ("_source_file", CORRUPT)]
    raw_text = F.coalesce(F.col(CORRUPT), F.to_json(F.struct(*[F.col(f"`{c}`") for c in raw_cols])))
    # Bytes invalid in the declared encoding either decode to U+FFFD (CSV) or stay as invalid
    # UTF-8 in the malformed line's text (JSON); either way the row is INVALID_ENCODING.
    bad_bytes = ~F.is_valid_utf8(raw_text) | (F.instr(raw_text, REPLACEMENT_CHAR) > 0)
    pre_reason = F.coalesce(
        F.when(bad_bytes, F.lit("INVALID_ENCODING")),
        F.when(F.col(CORRUPT).isNotNull(), F.lit("MALFORMED_LINE")),
    )
    raw_json = F.make_valid_utf8(raw_text)
    out = raw.select(
        *[(exprs.get(n, F.lit(None))).cast(types[n]).alias(n) for n in schema.names() if n not in ("source_file", "batch_id")],
        F.col("_source_file").alias("source_file"),
        raw_json.alias("_raw"),
        pre_reason.alias("_pre_reason"),
        F.coalesce(*unknown_code, F.lit(None).cast("string")).alias("_code_reason"),
    )
    return out, Drift(missing, extra)


def camera_reasons(df: DataFrame) -> Column:
    return F.coalesce(
        F.col("_pre_reason"),
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
        F.col("_pre_reason"),
        F.when(F.col("detection_id").isNull() | (F.trim(F.col("detection_id")) == ""), F.lit("MISSING_KEY")),
        F.when(F.col("camera_id").isNull(), F.lit("MISSING_KEY")),
        F.when(~F.col("camera_id").rlike(r"^\d{20}$"), F.lit("INVALID_DEVICE_ID")),
        F.when(F.col("observed_at").isNull(), F.lit("INVALID_TIME")),
        F.when(F.col("observed_at") > F.lit(run_time).cast("timestamp") + F.expr("INTERVAL 5 MINUTES"), F.lit("FUTURE_TIME")),
        F.col("_code_reason"),
        F.when(~F.col("object_type").isin(*OBJECT_TYPES), F.lit("UNKNOWN_CODE:object_type")),
        F.when(~F.coalesce(F.col("confidence"), F.lit(-1.0)).between(0.0, 1.0), F.lit("OUT_OF_RANGE_CONFIDENCE")),
    )


def known_cameras_only(detections: DataFrame, cameras: DataFrame) -> DataFrame:
    """Flag detections from cameras the base tier does not know (`UNKNOWN_CAMERA`)."""
    known = cameras.select(F.col("camera_id").alias("_known_camera")).distinct()
    joined = detections.join(F.broadcast(known), detections["camera_id"] == known["_known_camera"], "left")
    reason = F.coalesce(F.col("_reason"), F.when(F.col("_known_camera").isNull(), F.lit("UNKNOWN_CAMERA")))
    return joined.withColumn("_reason", reason).drop("_known_camera")


def _cameras(spark: SparkSession, settings: Settings) -> DataFrame:
    path = schemas.ensure_table(spark, settings, schemas.load_schema(settings, "base", "cameras"))
    return spark.read.format("delta").load(path)


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


def run_quality_gate(
    spark: SparkSession, settings: Settings, batch: DataFrame, dept_id: str, entity: str, batch_id: str, run_time: datetime
) -> "quality.QualityResult":
    """Run the entity's expectation suite on the batch's accepted rows and store every outcome."""
    result = quality.validate(batch, quality.load_suite(settings, "base", entity))
    q_schema = schemas.load_schema(settings, "base", "quality_results")
    rows = [
        (batch_id, dept_id, entity, result.suite, o.expectation, o.column or "", str(o.critical).lower(),
         str(o.success).lower(), o.unexpected_count, o.detail, run_time)
        for o in result.outcomes
    ]
    df = spark.createDataFrame(rows, q_schema.spark_schema()).dropDuplicates(q_schema.key)
    merge_into(spark, schemas.ensure_table(spark, settings, q_schema), df, q_schema.key, q_schema.names())
    return result


def _processed_hashes(spark: SparkSession, settings: Settings, dept_id: str) -> set[str]:
    path = schemas.table_path(settings, "base", "ingest_manifest")
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return set()
    rows = spark.read.format("delta").load(path).where(F.col("department") == dept_id).select("sha256").collect()
    return {r.sha256 for r in rows}


def _set_aside(path: Path, landing: Path, reason: str) -> None:
    """Keep an unreadable file, with its reason, in `<landing>/_rejected/`."""
    target = landing / "_rejected"
    target.mkdir(exist_ok=True)
    shutil.move(str(path), target / path.name)
    (target / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")


def _archive(paths: list[Path], landing: Path, batch_id: str) -> None:
    target = landing / "_ingested" / batch_id
    target.mkdir(parents=True, exist_ok=True)
    for p in paths:
        if p.exists():
            shutil.move(str(p), target / p.name)


def ingest_department(
    spark: SparkSession, settings: Settings, dept: Department, landing: Path, run_time: datetime
) -> BatchResult | None:
    """Ingest the new landing files of `dept` exactly once; None when there is nothing new.

    Order of commits: quarantine and base MERGEs, then the batch log and the file manifest, then
    the files move to `_ingested/`. A crash before the manifest commit leaves the files in
    place and the rerun repeats the (idempotent) MERGEs; after it, the rerun only archives.
    """
    run_time = plain_utc(run_time)
    done = _processed_hashes(spark, settings, dept.id)
    files: dict[str, list[Path]] = {}
    hashes: dict[Path, str] = {}
    already: list[Path] = []
    for entity, source in dept.sources.items():
        for p in landing_files(source, landing):
            hashes[p] = sha256_file(p)
            if hashes[p] in done:
                already.append(p)
            else:
                files.setdefault(entity, []).append(p)
    if already:
        _archive(already, landing, "already-ingested")
    if not files:
        return None
    batch_id = hashlib.sha256("".join(sorted(hashes[p] for ps in files.values() for p in ps)).encode()).hexdigest()[:16]
    q_schema = schemas.load_schema(settings, "base", "quarantine")
    q_path = schemas.ensure_table(spark, settings, q_schema)
    results = []
    manifest_rows = []
    for entity in ("cameras", "detections"):
        candidates = files.get(entity) or []
        if not candidates:
            continue
        source = dept.sources[entity]
        rejected = {p.name: r for p in candidates if (r := unreadable_reason(p, source))}
        paths = [p for p in candidates if p.name not in rejected]
        for p in candidates:
            manifest_rows.append((dept.id, hashes[p], p.name, entity, p.stat().st_size, batch_id, "rejected" if p.name in rejected else "ingested"))
        read = accepted = quarantined = 0
        drift = Drift([], [])
        gate = None
        if paths:
            schema = schemas.load_schema(settings, "base", entity)
            path = schemas.ensure_table(spark, settings, schema)
            raw = read_source(spark, source, [str(p) for p in paths])
            unified, drift = to_unified(raw, source, dept, schema)
            checked = validate(unified, entity, run_time)
            if entity == "detections":
                checked = known_cameras_only(checked, _cameras(spark, settings))
            checked = checked.withColumn("batch_id", F.lit(batch_id)).persist()
            bad = checked.where(F.col("_reason").isNotNull())
            deduped = checked.where(F.col("_reason").isNull()).dropDuplicates(schema.key).persist()
            read, quarantined, accepted = checked.count(), bad.count(), deduped.count()
            gate = run_quality_gate(spark, settings, deduped.select(*schema.names()), dept.id, entity, batch_id, run_time)
            if quarantined:
                q = bad.select(
                    F.lit(batch_id).alias("batch_id"), F.lit(dept.id).alias("department"), F.lit(entity).alias("entity"),
                    "source_file", F.col("_reason").alias("reason"), F.col("_raw").alias("raw"),
                    F.sha2(F.concat_ws("\u0001", "source_file", "_raw"), 256).alias("row_hash"),
                    F.lit(run_time).cast("timestamp").alias("quarantined_at"),
                ).dropDuplicates(q_schema.key)
                merge_into(spark, q_path, q, q_schema.key, q_schema.names())
            merge_into(spark, path, deduped.select(*schema.names()), schema.key, schema.names())
            deduped.unpersist()
            checked.unpersist()
        result = EntityResult(
            entity, [p.name for p in paths], read, accepted, quarantined, read - accepted - quarantined,
            drift.missing, drift.extra, rejected, gate.status if gate else "not_run",
            gate.failed_critical if gate else [],
        )
        results.append(result)
    batch = BatchResult(batch_id, dept.id, results)
    _record(spark, settings, batch, manifest_rows, run_time)
    for e in results:
        for name, reason in e.rejected_files.items():
            _set_aside(landing / name, landing, reason)
    _archive([p for ps in files.values() for p in ps], landing, batch_id)
    return batch


def _record(spark: SparkSession, settings: Settings, batch: BatchResult, manifest_rows: list[tuple], run_time: datetime) -> None:
    """Write the batch log and the manifest (after the data: see ingest_department)."""
    log_schema = schemas.load_schema(settings, "base", "batch_log")
    rows = [
        (
            batch.batch_id, batch.department, e.entity, json.dumps(e.files, ensure_ascii=False),
            json.dumps(e.rejected_files, ensure_ascii=False), e.read, e.accepted, e.quarantined, e.duplicates,
            str(e.balanced).lower(), json.dumps(e.missing_fields, ensure_ascii=False), json.dumps(e.extra_fields, ensure_ascii=False),
            e.quality_status, run_time,
        )
        for e in batch.entities
    ]
    log_df = spark.createDataFrame(rows, log_schema.spark_schema())
    merge_into(spark, schemas.ensure_table(spark, settings, log_schema), log_df, log_schema.key, log_schema.names())
    m_schema = schemas.load_schema(settings, "base", "ingest_manifest")
    m_df = spark.createDataFrame([(*r, run_time) for r in manifest_rows], m_schema.spark_schema()).dropDuplicates(m_schema.key)
    merge_into(spark, schemas.ensure_table(spark, settings, m_schema), m_df, m_schema.key, m_schema.names())
