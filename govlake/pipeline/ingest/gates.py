"""Checks on a batch's accepted rows: the Great Expectations quality gates and the sampled
classification check (personal information above a column's declared level)."""
from __future__ import annotations

import json
from datetime import datetime

from pyspark.sql import DataFrame, SparkSession, functions as F

from govlake.core.settings import Settings
from govlake.domain import policies, quality, schemas
from govlake.pii import classify, proposals
from govlake.pipeline.ingest.literals import literal_map
from govlake.platform import lake


def _quality_rows(result: "quality.QualityResult", batch_id: str, dept_id: str, entity: str, run_time: datetime, scope: str | None) -> list[tuple]:
    rows = []
    for o in result.outcomes:
        detail = o.detail if scope is None else json.dumps({**json.loads(o.detail or "{}"), "scope": scope}, ensure_ascii=False)
        rows.append((batch_id, dept_id, entity, result.suite, o.expectation, o.column or "", str(o.critical).lower(),
                     str(o.success).lower(), o.unexpected_count, detail, run_time))
    return rows


def run_quality_gates(
    spark: SparkSession, settings: Settings, accepted: DataFrame, entity: str, batches: dict[str, str], run_time: datetime
) -> tuple[dict[str, "quality.QualityResult"], list[tuple]]:
    """Run the entity's expectation suite on the accepted rows of every batch (`batches`: batch id
    -> department): each batch's result, and its outcomes as `base.quality_results` rows.

    The suite runs once over all batches of the run together. Every critical expectation is
    row-level (each row passes or fails on its own), so when the union passes, each batch passes
    too and its critical outcomes (0 unexpected) are exact; the non-critical aggregate outcomes
    then describe the run and are stored with a `scope` note saying so. When the union fails a
    critical expectation, the suite runs again on each batch alone to find the failing batches.
    """
    suite = quality.load_suite(settings, "base", entity)
    results: dict[str, quality.QualityResult] = {}
    rows: list[tuple] = []
    # GX's passes read only the columns the suite names (every pass scans the batch again)
    accepted = accepted.select(*dict.fromkeys(["batch_id", *quality.suite_columns(suite, accepted.columns)]))
    whole = quality.validate(accepted, suite)
    if len(batches) == 1 or whole.status == "failed" and len(batches) > 1:
        for batch_id, dept_id in batches.items():
            one = whole if len(batches) == 1 else quality.validate(accepted.where(F.col("batch_id") == batch_id), suite)
            results[batch_id] = one
            rows += _quality_rows(one, batch_id, dept_id, entity, run_time, None)
    else:
        scope = f"run of {len(batches)} batches: aggregate outcomes describe the run"
        for batch_id, dept_id in batches.items():
            results[batch_id] = whole
            rows += _quality_rows(whole, batch_id, dept_id, entity, run_time, scope)
    return results, rows


def store_quality_rows(spark: SparkSession, settings: Settings, rows: list[tuple]) -> None:
    q_schema = schemas.load_schema(settings, "base", "quality_results")
    df = spark.createDataFrame(rows, q_schema.spark_schema()).dropDuplicates(q_schema.key)
    lake.merge_into(spark, lake.ensure_table(spark, settings, q_schema), df, q_schema.key, q_schema.names(),
                    within=lake.partitions_of(q_schema, rows))


FLAG_SAMPLE = 30  # rows per batch and table sampled for the classification check


def classification_flags(
    settings: Settings, accepted: DataFrame, entity: str, batches: dict[str, str], run_time: datetime,
    sizes: dict[str, int] | None = None, key: list[str] | None = None,
) -> list[tuple]:
    """Sample each batch's accepted rows (one Spark job), detect personal information in their
    string columns, and return a `base.classification_flags` row for every column whose detected
    level exceeds its effective classification. Never the values themselves.

    The sample is the FLAG_SAMPLE rows of lowest hash in each batch. With `sizes` (accepted rows
    per batch), rows are first cut to a few times that many by the same hash, so only those are
    sorted; the sample is the same unless fewer than FLAG_SAMPLE rows pass the cut. The hash is
    of the `key` columns if given (unique in `accepted`), else of every string column."""
    from pyspark.sql import Window

    strings = [f.name for f in accepted.schema.fields if f.dataType.simpleString() == "string" and f.name not in ("batch_id", "source_file")]
    if not strings:
        return []
    spread = 1 << 20
    hashed = F.xxhash64(*(key or strings))
    rows = accepted.select("batch_id", *strings, hashed.alias("_x")).withColumn("_h", F.pmod("_x", F.lit(spread)))
    if sizes:
        cut = {b: min(spread, spread * FLAG_SAMPLE * 4 // n) for b, n in sizes.items() if n}
        # the widest cut first (a comparison), then each batch's own (a map lookup) on what is left
        rows = rows.where(F.col("_h") < max(cut.values(), default=0)).where(
            F.col("_h") < F.element_at(literal_map(cut), F.col("batch_id")))
    w = Window.partitionBy("batch_id").orderBy("_h", "_x")
    sample = rows.withColumn("_n", F.row_number().over(w)).where(F.col("_n") <= FLAG_SAMPLE).collect()
    pol = policies.classification(settings)
    declared = proposals.effective(settings, "base", entity)
    by_batch: dict[str, list] = {}
    for r in sample:
        by_batch.setdefault(r.batch_id, []).append(r)
    rows = []
    for batch_id in batches:
        mine = by_batch.get(batch_id, [])
        for col in strings:
            report = classify.classify_values(col, [r[col] for r in mine], pol)
            if col in declared and proposals.disagrees(report, declared[col]):
                rows.append((batch_id, batches[batch_id], entity, col, declared[col]["level"], json.dumps(report.entities),
                             report.level, report.sampled, run_time))
    return rows
