"""Row rules: each unified row's rejection reason (None: accepted), known cameras, one row per key."""
from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame, SparkSession, functions as F

from govlake.core.settings import Settings
from govlake.domain import schemas
from govlake.pipeline.ingest.literals import in_literals
from govlake.pipeline.ingest.mapping import RAW_FIELD
from govlake.pipeline.ingest.read import RAW_LINE
from govlake.platform import lake

OBJECT_TYPES = ("person", "face", "motor_vehicle", "non_motor_vehicle", "thing", "scene")


CAMERA_STATUSES = ("online", "offline", "fault")


# China's bounding box (WGS-84), generous: positions outside are not plausible camera sites.
LON_RANGE, LAT_RANGE = (73.0, 136.0), (3.0, 54.0)


EVENT_TYPES = ("alarm", "report")


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


def event_reasons(df: DataFrame, run_time: datetime) -> Column:
    camera = F.col("camera_id")
    return F.coalesce(
        F.col("_pre_reason"),
        F.when(F.col("event_id").isNull() | (F.trim(F.col("event_id")) == ""), F.lit("MISSING_KEY")),
        F.when(camera.isNotNull() & ~camera.rlike(r"^\d{20}$"), F.lit("INVALID_DEVICE_ID")),
        F.when(F.col("occurred_at").isNull(), F.lit("INVALID_TIME")),
        F.when(F.col("occurred_at") > F.lit(run_time).cast("timestamp") + F.expr("INTERVAL 5 MINUTES"), F.lit("FUTURE_TIME")),
        F.col("_code_reason"),
        F.when(~F.col("event_type").isin(*EVENT_TYPES), F.lit("UNKNOWN_CODE:event_type")),
        F.when(F.col("severity").isNotNull() & ~F.col("severity").between(1, 4), F.lit("OUT_OF_RANGE_SEVERITY")),
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


def validate(df: DataFrame, entity: str, run_time: datetime, cameras: "DataFrame | frozenset[str] | None" = None) -> DataFrame:
    """`_reason` for each row (None: accepted); with `cameras`, a row naming a camera the base tier
    does not know is rejected too."""
    reasons = {"cameras": lambda: camera_reasons(df), "detections": lambda: detection_reasons(df, run_time),
               "events": lambda: event_reasons(df, run_time)}
    checked = df.withColumn("_reason", reasons[entity]())
    return checked if cameras is None else known_cameras_only(checked, cameras)


def with_raw(df: DataFrame) -> DataFrame:
    """Replace the carried source fields by `_raw`, the record as read (JSON, or the malformed
    line), made only for rejected rows: accepted rows never need it."""
    fields = [c for c in df.columns if c.startswith(RAW_FIELD)]
    record = F.to_json(F.struct(*[F.col(f"`{c}`").alias(c[len(RAW_FIELD):]) for c in fields])) if fields else F.lit("{}")
    raw = F.when(F.col("_reason").isNotNull(), F.make_valid_utf8(F.coalesce(F.col(RAW_LINE), record)))
    return df.withColumn("_raw", raw).drop(RAW_LINE, *fields)
