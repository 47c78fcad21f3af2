"""Mapping each department's own format to the unified base schema, on small real files."""
from __future__ import annotations

import shutil
from collections import Counter

import pytest
from pyspark.sql import functions as F

from govlake import schemas
from govlake.departments import generator, registry
from govlake.pipeline import ingest
from tests.conftest import RUN_TIME, SAMPLE_START

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("dept_id", ["police", "traffic", "transport"])
def test_unified_rows_equal_the_canonical_records(spark, settings, tmp_path, dept_id):
    dept = registry.get(settings, dept_id)
    data = generator.canonical(dept, rows=40, seed=11, start=SAMPLE_START)
    for entity, records in (("cameras", data.cameras), ("detections", data.detections)):
        source = dept.sources[entity]
        path = generator.write(records, source, dept, tmp_path / source.pattern.replace("*", "x"))
        raw = ingest.read_source(spark, source, [str(path)])
        unified, drift = ingest.to_unified(raw, source, dept, schemas.load_schema(settings, "base", entity))
        checked = ingest.validate(unified, entity, RUN_TIME)
        assert drift == ingest.Drift([], [])
        assert checked.where(F.col("_reason").isNotNull()).count() == 0
        key = "camera_id" if entity == "cameras" else "detection_id"
        got = {r[key]: r.asDict() for r in checked.collect()}
        assert len(got) == len(records)
        for rec in records:
            row = got[rec[key]]
            for col, expected in rec.items():
                if col in ("longitude", "latitude"):
                    assert row[col] == pytest.approx(expected, abs=2e-6), (col, rec)
                elif col == "observed_at":
                    assert row[col] == expected.replace(tzinfo=None), rec  # session time zone is UTC
                else:
                    assert row[col] == expected, (col, rec)


def test_bad_rows_go_to_quarantine_with_reasons_and_counts_add_up(spark, make_settings, tmp_path):
    settings = make_settings()
    dept = registry.get(settings, "police")
    data = generator.canonical(dept, rows=30, seed=5, start=SAMPLE_START)
    dets = [dict(d) for d in data.detections]
    dets[0]["camera_id"] = "12345"  # not a GB/T 28181 ID
    dets[1]["detection_id"] = None
    dets[2]["object_type"] = "spaceship"  # not a GA/T 1400 type: written as the raw code
    dets[3]["observed_at"] = RUN_TIME.replace(year=2027)  # in the future
    dets.append(dict(dets[10]))  # exact duplicate
    landing = tmp_path / "landing"
    generator.write(data.cameras, dept.sources["cameras"], dept, landing / "cameras_1.csv")
    generator.write(dets, dept.sources["detections"], dept, landing / "detections_1.csv")
    result = ingest.ingest_department(spark, settings, dept, landing, RUN_TIME)
    det = next(e for e in result.entities if e.entity == "detections")
    assert (det.read, det.accepted, det.quarantined, det.duplicates) == (31, 26, 4, 1)
    q = spark.read.format("delta").load(schemas.table_path(settings, "base", "quarantine"))
    reasons = sorted(r.reason for r in q.collect())
    assert reasons == ["FUTURE_TIME", "INVALID_DEVICE_ID", "MISSING_KEY", "UNKNOWN_CODE:object_type"]
    assert all(r.raw and r.source_file == "detections_1.csv" for r in q.collect())
    base = spark.read.format("delta").load(schemas.table_path(settings, "base", "detections"))
    assert base.count() == 26

    assert sorted(p.name for p in (landing / "_ingested" / result.batch_id).iterdir()) == ["cameras_1.csv", "detections_1.csv"]
    # the same file dropped again (under another name) changes nothing
    shutil.copy(landing / "_ingested" / result.batch_id / "detections_1.csv", landing / "detections_again.csv")
    assert ingest.ingest_department(spark, settings, dept, landing, RUN_TIME) is None
    assert base.count() == 26 and q.count() == 4
    assert (landing / "_ingested" / "already-ingested" / "detections_again.csv").exists()


@pytest.mark.parametrize("dept_id", ["police", "traffic", "transport"])
def test_injected_faults_are_accounted_for_exactly(spark, make_settings, tmp_path, dept_id):
    settings = make_settings()
    dept = registry.get(settings, dept_id)
    landing = tmp_path / "landing"
    feed = generator.generate(dept, landing, rows=400, seed=9, start=SAMPLE_START, fault_rate=0.15)
    assert feed.faults["malformed_line"] + feed.faults["duplicate"] > 0
    result = ingest.ingest_department(spark, settings, dept, landing, RUN_TIME)
    det = next(e for e in result.entities if e.entity == "detections")
    cams = next(e for e in result.entities if e.entity == "cameras")
    assert det.balanced and cams.balanced
    assert det.duplicates == feed.faults["duplicate"]
    q = spark.read.format("delta").load(schemas.table_path(settings, "base", "quarantine"))
    got = Counter(r.reason for r in q.collect())
    expected = Counter({generator.FAULT_REASONS[k]: n for k, n in feed.faults.items() if k in generator.FAULT_REASONS})
    assert got == expected
    assert det.accepted == 400 - sum(n for k, n in feed.faults.items() if k not in ("duplicate", "out_of_range_position", "extra_column", "missing_column"))
    assert det.extra_fields == ["remark"]
    assert det.missing_fields == [dept.sources["detections"].fields["vehicle_color"].source]
    log = spark.read.format("delta").load(schemas.table_path(settings, "base", "batch_log")).where(F.col("entity") == "detections").first()
    assert (log.read, log.accepted, log.quarantined, log.duplicates, log.balanced) == (det.read, det.accepted, det.quarantined, det.duplicates, "true")
    assert "remark" in log.extra_fields


def test_unreadable_files_are_kept_aside_and_reported(spark, make_settings, tmp_path):
    settings = make_settings()
    dept = registry.get(settings, "transport")
    landing = tmp_path / "landing"
    feed = generator.generate(dept, landing, rows=50, seed=2, start=SAMPLE_START)
    (landing / "detections_broken.parquet").write_bytes(b"PAR1 this is not parquet")
    result = ingest.ingest_department(spark, settings, dept, landing, RUN_TIME)
    det = next(e for e in result.entities if e.entity == "detections")
    assert list(det.rejected_files) == ["detections_broken.parquet"]
    assert det.rejected_files["detections_broken.parquet"].startswith("UNREADABLE_PARQUET")
    assert det.accepted == 50  # the good file of the same batch still lands
    kept = landing / "_rejected" / "detections_broken.parquet"
    assert kept.read_bytes() == b"PAR1 this is not parquet"
    assert "UNREADABLE_PARQUET" in (landing / "_rejected" / "detections_broken.parquet.reason.txt").read_text()
    assert feed.paths["detections"].name in det.files


def test_critical_quality_failure_keeps_the_batch_out_of_the_analytic_tier(spark, make_settings, tmp_path):
    from govlake.pipeline import analytic
    from govlake.secrets import TokenKey

    settings = make_settings()
    good_dept, bad_dept = registry.get(settings, "transport"), registry.get(settings, "traffic")
    generator.generate(good_dept, tmp_path / "good", rows=60, seed=4, start=SAMPLE_START)
    data = generator.canonical(bad_dept, rows=40, seed=4, start=SAMPLE_START)
    for d in data.detections:
        d["model_version"] = None  # a feed that lost its model versions
    generator.write(data.cameras, bad_dept.sources["cameras"], bad_dept, tmp_path / "bad" / "cameras_1.jsonl")
    generator.write(data.detections, bad_dept.sources["detections"], bad_dept, tmp_path / "bad" / "detections_1.jsonl")
    good = ingest.ingest_department(spark, settings, good_dept, tmp_path / "good", RUN_TIME)
    bad = ingest.ingest_department(spark, settings, bad_dept, tmp_path / "bad", RUN_TIME)
    bad_det = next(e for e in bad.entities if e.entity == "detections")
    assert bad_det.quality_status == "failed" and bad_det.quality_failures == ["expect_column_values_to_not_be_null(model_version)"]
    assert next(e for e in good.entities if e.entity == "detections").quality_status == "passed"
    assert bad_det.accepted == 40  # the rows are kept in base ...
    counts = analytic.build(spark, settings, TokenKey("t1", b"k" * 32))
    assert counts["detections_deidentified"] == 60  # ... but only the good batch is promoted
    results = spark.read.format("delta").load(schemas.table_path(settings, "base", "quality_results"))
    failed = results.where((F.col("batch_id") == bad.batch_id) & (F.col("success") == "false")).collect()
    assert [(r.expectation, r.column_name, r.critical, r.unexpected_count) for r in failed] == [
        ("expect_column_values_to_not_be_null", "model_version", "true", 40)
    ]
