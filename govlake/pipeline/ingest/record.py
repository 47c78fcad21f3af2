"""The run's records beside the data: OpenLineage events, the batch log and the file manifest."""
from __future__ import annotations

import json
import logging
from datetime import datetime

from pyspark.sql import SparkSession

from govlake.core.settings import Settings
from govlake.domain import schemas
from govlake.pipeline import lineage_capture
from govlake.pipeline.ingest.mapping import mapping_lineage
from govlake.pipeline.ingest.results import BatchResult
from govlake.platform import lake

log = logging.getLogger("govlake.ingest")


def emit_lineage(settings: Settings, plan) -> None:
    """One OpenLineage event per ingested entity: the department's landing fields -> base columns.
    Lineage is evidence, not the data: a failure to record it is logged, not raised."""

    for entity in plan.files:
        try:
            event = lineage_capture.mapping_event(
                settings, f"ingest.{plan.dept.id}.{entity}", {f"landing_{plan.dept.id}.{entity}": str(plan.landing)},
                lake.table_path(settings, "base", entity), mapping_lineage(plan.dept, entity, frozenset(
                    c.name for c in schemas.load_schema(settings, "base", entity).columns if c.type == "timestamp")))
            lineage_capture.emit(settings, event)
        except Exception as exc:  # noqa: BLE001
            log.warning("lineage of the %s ingest of %s not recorded: %s", entity, plan.dept.id, exc)


def record_batches(spark: SparkSession, settings: Settings, batches: list[BatchResult], run_time: datetime) -> None:
    """Write the batch log (after the data: see `run._ingest_cached`)."""
    log_schema = schemas.load_schema(settings, "base", "batch_log")
    rows = [
        (
            batch.batch_id, batch.department, e.entity, json.dumps(e.files, ensure_ascii=False),
            json.dumps(e.rejected_files, ensure_ascii=False), e.read, e.accepted, e.quarantined, e.duplicates,
            str(e.balanced).lower(), json.dumps(e.missing_fields, ensure_ascii=False), json.dumps(e.extra_fields, ensure_ascii=False),
            e.quality_status, run_time,
        )
        for batch in batches
        for e in batch.entities
    ]
    log_df = spark.createDataFrame(rows, log_schema.spark_schema())
    lake.merge_into(spark, lake.ensure_table(spark, settings, log_schema), log_df, log_schema.key, log_schema.names(), rows=len(rows),
                    within=lake.partitions_of(log_schema, rows))


def record_manifest(spark: SparkSession, settings: Settings, manifest_rows: list[tuple], run_time: datetime) -> None:
    """Write the file manifest: the last commit of a batch (see `run._ingest_cached`)."""
    m_schema = schemas.load_schema(settings, "base", "ingest_manifest")
    m_rows = [(*r, run_time) for r in manifest_rows]
    m_df = spark.createDataFrame(m_rows, m_schema.spark_schema()).dropDuplicates(m_schema.key)
    lake.merge_into(spark, lake.ensure_table(spark, settings, m_schema), m_df, m_schema.key, m_schema.names(),
                    within=lake.partitions_of(m_schema, m_rows))
