"""Row rules: each unified row's rejection reason (None: accepted), known cameras, one row per key."""
from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame, SparkSession, functions as F

from govlake.core.errors import ConfigError
from govlake.core.settings import Settings
from govlake.domain import schemas
from govlake.pipeline.ingest.literals import in_literals
from govlake.pipeline.ingest.mapping import RAW_FIELD
from govlake.pipeline.ingest.read import RAW_LINE
from govlake.platform import lake

# The schema constraints each entity's row rules enforce (column -> `allowed`, `range` or
# `pattern`). The values come from the schema YAML, the one source of what a row may hold.
CHECKED: dict[str, dict[str, str]] = {
    "cameras": {"camera_id": "pattern", "region_code": "pattern", "longitude": "range", "latitude": "range", "status": "allowed"},
    "detections": {"camera_id": "pattern", "object_type": "allowed", "confidence": "range"},
    "events": {"camera_id": "pattern", "event_type": "allowed", "severity": "range"},
}


def constraints(schema: schemas.TableSchema) -> dict:
    """Column -> the declared value of each constraint the rules of `schema`'s table enforce; a
    missing one is a configuration error, raised before any row is read (`run` checks them first)."""
    out = {}
    for column, kind in CHECKED[schema.table].items():
        value = getattr(schema.column(column), kind)
        if value is None:
            raise ConfigError(f"schema `{schema.tier}.{schema.table}`: column `{column}` declares no `{kind}`, which the "
                              f"ingest checks; add it to schemas/{schema.tier}/{schema.table}.yaml")
        out[column] = value
    return out


def camera_reasons(df: DataFrame, schema: schemas.TableSchema) -> Column:
    c = constraints(schema)
    lon, lat = c["longitude"], c["latitude"]
    return F.coalesce(
        F.col("_pre_reason"),
        F.when(F.col("camera_id").isNull(), F.lit("MISSING_KEY")),
        F.when(~F.col("camera_id").rlike(c["camera_id"]), F.lit("INVALID_DEVICE_ID")),
        F.when(~F.coalesce(F.col("region_code"), F.lit("")).rlike(c["region_code"]), F.lit("INVALID_REGION_CODE")),
        F.col("_code_reason"),
        F.when(
            ~F.col("longitude").between(*lon) | ~F.col("latitude").between(*lat)
            | F.col("longitude").isNull() | F.col("latitude").isNull(),
            F.lit("OUT_OF_RANGE_POSITION"),
        ),
        F.when(~F.col("status").isin(*c["status"]), F.lit("UNKNOWN_CODE:status")),
    )


def detection_reasons(df: DataFrame, schema: schemas.TableSchema, run_time: datetime) -> Column:
    c = constraints(schema)
    return F.coalesce(
        F.col("_pre_reason"),
        F.when(F.col("detection_id").isNull() | (F.trim(F.col("detection_id")) == ""), F.lit("MISSING_KEY")),
        F.when(F.col("camera_id").isNull(), F.lit("MISSING_KEY")),
        F.when(~F.col("camera_id").rlike(c["camera_id"]), F.lit("INVALID_DEVICE_ID")),
        F.when(F.col("observed_at").isNull(), F.lit("INVALID_TIME")),
        F.when(F.col("observed_at") > F.lit(run_time).cast("timestamp") + F.expr("INTERVAL 5 MINUTES"), F.lit("FUTURE_TIME")),
        F.col("_code_reason"),
        F.when(~F.col("object_type").isin(*c["object_type"]), F.lit("UNKNOWN_CODE:object_type")),
        F.when(~F.coalesce(F.col("confidence"), F.lit(-1.0)).between(*c["confidence"]), F.lit("OUT_OF_RANGE_CONFIDENCE")),
    )


def event_reasons(df: DataFrame, schema: schemas.TableSchema, run_time: datetime) -> Column:
    c = constraints(schema)
    camera = F.col("camera_id")
    return F.coalesce(
        F.col("_pre_reason"),
        F.when(F.col("event_id").isNull() | (F.trim(F.col("event_id")) == ""), F.lit("MISSING_KEY")),
        F.when(camera.isNotNull() & ~camera.rlike(c["camera_id"]), F.lit("INVALID_DEVICE_ID")),
        F.when(F.col("occurred_at").isNull(), F.lit("INVALID_TIME")),
        F.when(F.col("occurred_at") > F.lit(run_time).cast("timestamp") + F.expr("INTERVAL 5 MINUTES"), F.lit("FUTURE_TIME")),
        F.col("_code_reason"),
        F.when(~F.col("event_type").isin(*c["event_type"]), F.lit("UNKNOWN_CODE:event_type")),
        F.when(F.col("severity").isNotNull() & ~F.col("severity").between(*c["severity"]), F.lit("OUT_OF_RANGE_SEVERITY")),
    )


def known_cameras_only(rows: DataFrame, cameras: "DataFrame | frozenset[str]") -> DataFrame:
    """Flag rows naming a camera the base tier does not know (`UNKNOWN_CAMERA`); rows that
    name no camera (events reported by phone) pass. `cameras`: the known ids as a set (checked
    in the row's own projection, a hash-set lookup) or, past CAMERA_SET_LIMIT, as a frame
    (checked by a broadcast join)."""
    if isinstance(cameras, frozenset):
        unknown = F.col("camera_id").isNotNull() & ~in_literals("camera_id", sorted(cameras)) if cameras else F.col("camera_id").isNotNull()
        return rows.withColumn("_reason", F.coalesce(F.col("_reason"), F.when(unknown, F.lit("UNKNOWN_CAMERA"))))
    known = cameras.select(F.col("camera_id").alias("_known_camera")).distinct()
    joined = rows.join(F.broadcast(known), rows["camera_id"] == known["_known_camera"], "left")
    unknown = F.col("camera_id").isNotNull() & F.col("_known_camera").isNull()
    reason = F.coalesce(F.col("_reason"), F.when(unknown, F.lit("UNKNOWN_CAMERA")))
    return joined.withColumn("_reason", reason).drop("_known_camera")


def first_of_each_key(rows: DataFrame, key: list[str]) -> tuple[DataFrame, list[DataFrame]]:
    """`rows` with one row per key (the repeats are the batch's duplicates), and the frames
    cached for it. Only the key columns are shuffled to find repeated keys; rows whose key is
    unique pass through untouched, and one row of each repeated key is kept and cached, so
    every later use sees the same choice."""
    repeated = rows.groupBy(*key).count().where(F.col("count") > 1).select(*key).persist()
    if repeated.isEmpty():
        repeated.unpersist()
        return rows, []
    kept = rows.join(repeated, key, "left_semi").dropDuplicates(key).persist()
    return rows.join(repeated, key, "left_anti").unionByName(kept), [repeated, kept]


CAMERA_SET_LIMIT = 20_000  # known cameras checked as a set in the plan up to this many; a join beyond


def known_cameras(spark: SparkSession, settings: Settings) -> "DataFrame | frozenset[str]":
    """The cameras the base tier knows: their ids, or the table itself if there are very many."""
    path = lake.ensure_table(spark, settings, schemas.load_schema(settings, "base", "cameras"))
    table = spark.read.format("delta").load(path)
    ids = table.select("camera_id").distinct().limit(CAMERA_SET_LIMIT + 1).collect()
    return table if len(ids) > CAMERA_SET_LIMIT else frozenset(r.camera_id for r in ids)


def validate(df: DataFrame, schema: schemas.TableSchema, run_time: datetime, cameras: "DataFrame | frozenset[str] | None" = None) -> DataFrame:
    """`_reason` for each row of the base table `schema` (None: accepted), by the codes, ranges and
    patterns the schema declares; with `cameras`, a row naming a camera the base tier does not
    know is rejected too."""
    reasons = {"cameras": lambda: camera_reasons(df, schema), "detections": lambda: detection_reasons(df, schema, run_time),
               "events": lambda: event_reasons(df, schema, run_time)}
    checked = df.withColumn("_reason", reasons[schema.table]())
    return checked if cameras is None else known_cameras_only(checked, cameras)


def with_raw(df: DataFrame) -> DataFrame:
    """Replace the carried source fields by `_raw`, the record as read (JSON, or the malformed
    line), made only for rejected rows: accepted rows never need it."""
    fields = [c for c in df.columns if c.startswith(RAW_FIELD)]
    record = F.to_json(F.struct(*[F.col(f"`{c}`").alias(c[len(RAW_FIELD):]) for c in fields])) if fields else F.lit("{}")
    raw = F.when(F.col("_reason").isNotNull(), F.make_valid_utf8(F.coalesce(F.col(RAW_LINE), record)))
    return df.withColumn("_raw", raw).drop(RAW_LINE, *fields)
