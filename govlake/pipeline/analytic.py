"""Base tier -> de-identified analytic tier.

Direct identifiers become keyed tokens, time is generalised to the hour and position to a grid
cell, image references are dropped, and aggregate rows describing fewer than k detections are
suppressed. The tables are rebuilt from base on each run (overwrite), so a rerun gives the same
result.
"""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, functions as F

from govlake.core import locks
from govlake.core.settings import Settings
from govlake.domain import masking, policies, schemas
from govlake.governance import lake_locks
from govlake.pipeline import lineage_capture
from govlake.platform import lake
from govlake.platform.secrets import TokenKey

ANALYTIC_TABLES = ("detections_deidentified", "flow_hourly", "events_deidentified", "fairness_monitor")


def masking_policy(settings: Settings) -> dict[str, policies.MaskingMethod]:
    return policies.masking_methods(settings)


def detections_deidentified(detections: DataFrame, cameras: DataFrame, key: TokenKey, cell_size_deg: float) -> DataFrame:
    cams = cameras.select("camera_id", "region_code", "longitude", "latitude")
    d = masking.keyed(detections.join(cams, "camera_id", "left"), key)
    return d.select(
        masking.mark("token", masking.token(F.concat_ws(":", "department", "detection_id"), key)).alias("detection_token"),
        "department",
        "camera_id",
        "region_code",
        masking.mark("grid", F.when(F.col("longitude").isNotNull(), masking.grid_cell(F.col("longitude"), F.col("latitude"), cell_size_deg))).alias("grid_cell"),
        masking.mark("hour", masking.hour(F.col("observed_at"))).alias("observed_hour"),
        "object_type",
        "confidence",
        masking.mark("token", masking.token(F.col("plate_no"), key)).alias("plate_token"),
        "vehicle_color",
        "model_version",
    )


def events_deidentified(events: DataFrame, cameras: DataFrame, key: TokenKey) -> DataFrame:
    cams = cameras.select("camera_id", "region_code")
    e = masking.keyed(events.join(cams, "camera_id", "left"), key)
    return e.select(
        masking.mark("token", masking.token(F.concat_ws(":", "department", "event_id"), key)).alias("event_token"),
        "department",
        "camera_id",
        "region_code",
        masking.mark("hour", masking.hour(F.col("occurred_at"))).alias("occurred_hour"),
        "event_type",
        "category",
        "severity",
        masking.mark("scrub", masking.scrub_text(F.col("note"))).alias("note_scrubbed"),
    )


def flow_hourly(deidentified: DataFrame, k: int) -> DataFrame:
    keys = ["department", "region_code", "observed_hour", "object_type"]
    agg = deidentified.where(F.col("region_code").isNotNull()).groupBy(*keys).agg(
        F.count("*").alias("detections"),
        F.count_distinct("plate_token").alias("distinct_plates"),
        F.round(F.avg("confidence"), 4).alias("avg_confidence"),
    )
    return agg.where(F.col("detections") >= k)


def fairness_monitor(deidentified: DataFrame, k: int, low_confidence: float) -> DataFrame:
    """Algorithm-bias monitor: per department, district and model version, the number of
    detections, their mean confidence and the share below `low_confidence`; groups under k are
    suppressed. No department reports whether a detection or alarm was confirmed on review, so
    `reviewed` and `false_positive_rate` stay NULL rather than being guessed."""
    agg = deidentified.groupBy("department", "region_code", "model_version").agg(
        F.count("*").alias("detections"),
        F.round(F.avg("confidence"), 4).alias("mean_confidence"),
        F.round(F.avg((F.col("confidence") < low_confidence).cast("double")), 4).alias("low_confidence_share"),
    )
    return agg.where(F.col("detections") >= k).select(
        "*", F.lit(low_confidence).alias("low_confidence_below"),
        F.lit(None).cast("long").alias("reviewed"), F.lit(None).cast("double").alias("false_positive_rate"),
    )


def _overwrite(spark: SparkSession, settings: Settings, tier: str, table: str, df: DataFrame) -> str:
    schema = schemas.load_schema(settings, tier, table)
    path = lake.ensure_table(spark, settings, schema)
    cols = [F.col(c.name).cast(lake.SPARK_TYPES[c.type]).alias(c.name) for c in schema.columns]
    out = df.select(*cols)
    found = lineage_capture.edges(settings, out, path)
    out.write.format("delta").mode("overwrite").save(path)
    lineage_capture.record_write(settings, f"{tier}.{table}", out, path, found)
    return path


def promotable(detections: DataFrame, batch_log: DataFrame) -> DataFrame:
    """Drop rows whose batch failed a critical quality expectation (the quality gate)."""
    failed = batch_log.where(F.col("quality_status") == "failed").select("batch_id").distinct()
    return detections.join(F.broadcast(failed), "batch_id", "left_anti")


def build(spark: SparkSession, settings: Settings, key: TokenKey) -> dict[str, int]:
    """Rebuild the analytic tables from base (batches that passed the quality gate); return row
    counts. Holds the lake lock shared (core.locks): an erasure never runs between its reads of
    base and its writes."""
    with locks.lake_writer(lake_locks.space(settings), "analytic build"):
        return _build(spark, settings, key)


def _build(spark: SparkSession, settings: Settings, key: TokenKey) -> dict[str, int]:
    policy = masking_policy(settings)
    base = lambda t: spark.read.format("delta").load(lake.ensure_table(spark, settings, schemas.load_schema(settings, "base", t)))  # noqa: E731
    detections = promotable(base("detections"), base("batch_log"))
    deid = detections_deidentified(detections, base("cameras"), key, policy["grid"].cell_size_deg)
    _overwrite(spark, settings, "analytic", "detections_deidentified", deid)
    stored = spark.read.format("delta").load(lake.table_path(settings, "analytic", "detections_deidentified"))
    _overwrite(spark, settings, "analytic", "flow_hourly", flow_hourly(stored, policy["small_group_suppression"].k))
    low = policies.fairness(settings).low_confidence_threshold
    _overwrite(spark, settings, "analytic", "fairness_monitor", fairness_monitor(stored, policy["small_group_suppression"].k, low))
    events = promotable(base("events"), base("batch_log"))
    _overwrite(spark, settings, "analytic", "events_deidentified", events_deidentified(events, base("cameras"), key))
    return {
        t: spark.read.format("delta").load(lake.table_path(settings, "analytic", t)).count()
        for t in ANALYTIC_TABLES
    }
