"""Mapping each department's own format to the unified base schema, on small real files."""
from __future__ import annotations

import shutil
from collections import Counter

import pytest
from pyspark.sql import functions as F

from govlake.core.errors import ConfigError
from govlake.departments import generator, registry
from govlake.domain import schemas
from govlake.pipeline import ingest
from govlake.pipeline.ingest.results import Phases
from govlake.pipeline.ingest import run as ingest_run
from govlake.platform import lake
from tests.conftest import RUN_TIME, SAMPLE_START

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("dept_id", ["police", "traffic", "transport"])
def test_unified_rows_equal_the_canonical_records(spark, settings, tmp_path, dept_id):
    dept = registry.get(settings, dept_id)
    data = generator.canonical(dept, rows=40, seed=11, start=SAMPLE_START)
    for entity, records in (("cameras", data.cameras), ("detections", data.detections)):
        source = dept.sources[entity]
        path = generator.write(records, source, dept, tmp_path / source.pattern.replace("*", "x"))
        seen = ingest.inspect(path, entity, source, *ingest.digest_and_clean(path, source))
        assert seen.reject is None and ingest.drift_of_files([seen], source) == ingest.Drift([], [])
        raw = ingest.read_source(spark, source, [seen])
        schema = schemas.load_schema(settings, "base", entity)
        checked = ingest.validate(ingest.to_unified(raw, source, dept, schema), schema, RUN_TIME)
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
    q = spark.read.format("delta").load(lake.table_path(settings, "base", "quarantine"))
    reasons = sorted(r.reason for r in q.collect())
    assert reasons == ["FUTURE_TIME", "INVALID_DEVICE_ID", "MISSING_KEY", "UNKNOWN_CODE:object_type"]
    assert all(r.raw and r.source_file == "detections_1.csv" for r in q.collect())
    # GBK CSV with its header on line 1: the four bad records are lines 2 to 5
    assert {r.reason: r.line for r in q.collect()} == {"INVALID_DEVICE_ID": 2, "MISSING_KEY": 3, "UNKNOWN_CODE:object_type": 4, "FUTURE_TIME": 5}
    base = spark.read.format("delta").load(lake.table_path(settings, "base", "detections"))
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
    q = spark.read.format("delta").load(lake.table_path(settings, "base", "quarantine"))
    got = Counter(r.reason for r in q.collect())
    expected = Counter({generator.FAULT_REASONS[k]: n for k, n in feed.faults.items() if k in generator.FAULT_REASONS})
    assert got == expected
    assert det.accepted == 400 - sum(n for k, n in feed.faults.items() if k not in ("duplicate", "out_of_range_position", "extra_column", "missing_column"))
    assert det.extra_fields == ["remark"]
    assert det.missing_fields == [dept.sources["detections"].fields["vehicle_color"].source]
    log = spark.read.format("delta").load(lake.table_path(settings, "base", "batch_log")).where(F.col("entity") == "detections").first()
    assert (log.read, log.accepted, log.quarantined, log.duplicates, log.balanced) == (det.read, det.accepted, det.quarantined, det.duplicates, "true")
    assert "remark" in log.extra_fields
    _lines_point_at_the_records(q.collect(), dept, landing / "_ingested" / result.batch_id)


def _lines_point_at_the_records(rows, dept, folder) -> None:
    """Each quarantined row's line holds that record: checked by reading the file independently."""
    import json

    import pyarrow.parquet as pq

    assert rows and all(r.line is not None for r in rows), [(r.reason, r.raw[:60]) for r in rows if r.line is None]
    for r in rows:
        source = dept.sources[r.entity]
        path = folder / r.source_file
        if source.format == "parquet":
            record = pq.read_table(path).slice(r.line - 1, 1).to_pylist()[0]
            raw = json.loads(r.raw)
            same = [k for k, v in raw.items() if isinstance(v, str) and isinstance(record.get(k), str)]
            assert same and all(record[k] == raw[k] for k in same), (r.reason, raw, record)
            continue
        line = path.read_bytes().decode(source.encoding, errors="replace").split("\n")[r.line - 1].rstrip("\r").lstrip("\ufeff")
        if r.reason in ("MALFORMED_LINE",):
            assert line == r.raw
            continue
        try:
            values = json.loads(r.raw).values()
        except ValueError:
            values = [r.raw]
        for v in values:
            if isinstance(v, str) and "\ufffd" not in v:
                assert v in line, (r.reason, v, line)


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
    from govlake.platform.secrets import TokenKey

    settings = make_settings()
    good_dept, bad_dept = registry.get(settings, "transport"), registry.get(settings, "traffic")
    generator.generate(good_dept, tmp_path / "good", rows=60, seed=4, start=SAMPLE_START)
    data = generator.canonical(bad_dept, rows=40, seed=4, start=SAMPLE_START)
    for d in data.detections:
        d["model_version"] = None  # a feed that lost its model versions
    generator.write(data.cameras, bad_dept.sources["cameras"], bad_dept, tmp_path / "bad" / "cameras_1.jsonl")
    generator.write(data.detections, bad_dept.sources["detections"], bad_dept, tmp_path / "bad" / "detections_1.jsonl")
    # both in one shared pass: the run-level suite fails, so each batch is checked on its own
    batches, failures = ingest.ingest_departments(spark, settings, [(good_dept, tmp_path / "good"), (bad_dept, tmp_path / "bad")], RUN_TIME)
    assert failures == {}
    good, bad = sorted(batches, key=lambda b: b.department != "transport")
    bad_det = next(e for e in bad.entities if e.entity == "detections")
    assert bad_det.quality_status == "failed" and bad_det.quality_failures == ["expect_column_values_to_not_be_null(model_version)"]
    assert next(e for e in good.entities if e.entity == "detections").quality_status == "passed"
    assert bad_det.accepted == 40  # the rows are kept in base ...
    counts = analytic.build(spark, settings, TokenKey("t1", b"k" * 32))
    assert counts["detections_deidentified"] == 60  # ... but only the good batch is promoted
    results = spark.read.format("delta").load(lake.table_path(settings, "base", "quality_results"))
    failed = results.where((F.col("batch_id") == bad.batch_id) & (F.col("success") == "false")).collect()
    assert [(r.expectation, r.column_name, r.critical, r.unexpected_count) for r in failed] == [
        ("expect_column_values_to_not_be_null", "model_version", "true", 40)
    ]


def _table(spark, settings, name, order):
    df = spark.read.format("delta").load(lake.table_path(settings, "base", name))
    return [r.asDict() for r in df.drop("ingested_at", "quarantined_at", "checked_at").orderBy(*order).collect()]


def test_one_shared_pass_equals_one_pass_per_department(spark, make_settings, tmp_path):
    together, apart = make_settings(state_dir=tmp_path / "together"), make_settings(state_dir=tmp_path / "apart")
    depts = [registry.get(together, d) for d in ("police", "traffic", "transport")]
    for d in depts:
        generator.generate(d, tmp_path / "a" / d.id, rows=150, seed=21, start=SAMPLE_START, fault_rate=0.1)
        generator.generate(d, tmp_path / "b" / d.id, rows=150, seed=21, start=SAMPLE_START, fault_rate=0.1)
    phases = Phases()
    batches, failures = ingest.ingest_departments(spark, together, [(d, tmp_path / "a" / d.id) for d in depts], RUN_TIME, phases=phases)
    assert failures == {}
    # the run timed its phases (faults injected: the quarantine ran too)
    assert {"planning", "frames", "materialise", "dedup", "quarantine", "gx", "merge", "bookkeeping", "manifest"} <= set(phases.as_dict())
    assert all(v >= 0 for v in phases.as_dict().values())
    separate = [ingest.ingest_department(spark, apart, d, tmp_path / "b" / d.id, RUN_TIME) for d in depts]
    assert [b.as_dict() for b in batches] == [b.as_dict() for b in separate]
    assert all(e.balanced and e.read > 0 for b in batches for e in b.entities)
    for name, order in (("detections", ["department", "detection_id"]), ("cameras", ["camera_id"]),
                        ("quarantine", ["batch_id", "row_hash"]), ("batch_log", ["batch_id", "entity"]),
                        ("ingest_manifest", ["department", "sha256"])):
        assert _table(spark, together, name, order) == _table(spark, apart, name, order), name
    # the stored quality outcomes agree on every critical expectation
    crit = lambda s: {(r["batch_id"], r["expectation"], r["column_name"], r["success"], r["unexpected_count"])  # noqa: E731
                      for r in _table(spark, s, "quality_results", ["batch_id"]) if r["critical"] == "true"}
    assert crit(together) == crit(apart)


def test_a_broken_department_does_not_block_the_shared_pass(spark, make_settings, tmp_path):
    settings = make_settings()
    police, traffic, transport = (registry.get(settings, d) for d in ("police", "traffic", "transport"))
    # a registry mistake only visible against the data: `index` on a field that is not an array
    fields = dict(traffic.sources["detections"].fields)
    fields["confidence"] = fields["confidence"].model_copy(update={"index": 0})
    broken = traffic.model_copy(update={"sources": {**traffic.sources, "detections": traffic.sources["detections"].model_copy(update={"fields": fields})}})
    for d in (police, traffic, transport):
        generator.generate(d, tmp_path / d.id, rows=80, seed=3, start=SAMPLE_START)
    work = [(police, tmp_path / "police"), (broken, tmp_path / "traffic"), (transport, tmp_path / "transport")]
    batches, failures = ingest.ingest_departments(spark, settings, work, RUN_TIME)
    assert list(failures) == ["traffic"]
    assert failures["traffic"].startswith("department `traffic`: the mapping of `confidence` (source field `score`) does not fit")
    assert sorted(b.department for b in batches) == ["police", "transport"]
    assert all(next(e for e in b.entities if e.entity == "detections").accepted == 80 for b in batches)
    assert any((tmp_path / "traffic").glob("detections_*"))  # the broken department's files wait for a fix


def test_a_failure_while_running_falls_back_to_one_department_at_a_time(spark, make_settings, tmp_path, monkeypatch):
    settings = make_settings()
    depts = [registry.get(settings, d) for d in ("police", "traffic", "transport")]
    for d in depts:
        generator.generate(d, tmp_path / d.id, rows=60, seed=8, start=SAMPLE_START)
    real_read = ingest.read_source

    def vanishing(spark_, source, files):  # a police file disappears after planning, before Spark reads it
        df = real_read(spark_, source, files)
        for f in files:
            if "/police/detections" in str(f.path):
                f.path.unlink()
        return df

    monkeypatch.setattr(ingest_run, "read_source", vanishing)  # the run reads through its own name
    spark.catalog.clearCache()
    batches, failures = ingest.ingest_departments(spark, settings, [(d, tmp_path / d.id) for d in depts], RUN_TIME)
    assert spark._jsparkSession.sharedState().cacheManager().isEmpty()  # the failed pass released its cached rows too
    assert list(failures) == ["police"]
    assert sorted(b.department for b in batches) == ["traffic", "transport"]
    base = spark.read.format("delta").load(lake.table_path(settings, "base", "detections"))
    assert sorted(r.department for r in base.select("department").distinct().collect()) == ["traffic", "transport"]


def test_merge_inserts_new_keys_updates_changed_rows_and_leaves_the_rest(spark, tmp_path):
    path = str(tmp_path / "t")
    cols = ["k", "v"]
    spark.createDataFrame([("a", 1), ("b", 2)], "k string, v int").write.format("delta").save(path)
    # only new keys: one insert-only MERGE, nothing else
    lake.merge_into(spark, path, spark.createDataFrame([("c", 3)], "k string, v int"), ["k"], cols)
    # a changed row, an unchanged one and a new one: the insert, then the update
    lake.merge_into(spark, path, spark.createDataFrame([("a", 10), ("b", 2), ("d", 4)], "k string, v int"), ["k"], cols, rows=3)
    got = {r.k: r.v for r in spark.read.format("delta").load(path).collect()}
    assert got == {"a": 10, "b": 2, "c": 3, "d": 4}
    from delta.tables import DeltaTable

    ops = [(r.operation, r.operationMetrics) for r in DeltaTable.forPath(spark, path).history().orderBy("version").collect()][1:]
    assert [m["numTargetRowsInserted"] for _, m in ops] == ["1", "1", "0"]
    assert ops[2][1]["numTargetRowsUpdated"] == "1"  # only `a`: the unchanged `b` is not rewritten
    # the same frame again changes nothing: every key is present and no value differs
    before = len(ops) + 1
    lake.merge_into(spark, path, spark.createDataFrame([("a", 10), ("b", 2), ("d", 4)], "k string, v int"), ["k"], cols)
    later = [r.operationMetrics for r in DeltaTable.forPath(spark, path).history().where(f"version > {before - 1}").collect()]
    assert all(m.get("numTargetRowsUpdated", "0") == "0" and m.get("numTargetRowsInserted", "0") == "0" for m in later)
    assert {r.k: r.v for r in spark.read.format("delta").load(path).collect()} == got


def test_merges_of_departments_running_at_once_all_land_without_conflict(spark, tmp_path, caplog):
    """Departments ingested side by side MERGE into the same tables, each into its own partition:
    told which (`within`), Delta sees the jobs do not overlap, so every commit goes through at
    the first attempt. Four threads of one session stand in for four jobs."""
    import logging
    import threading

    path = str(tmp_path / "shared")
    spark.createDataFrame([("seed", "dept0", 0)], "k string, department string, v int").write.format("delta") \
        .partitionBy("department").save(path)
    errors: list[BaseException] = []

    def job(dept: str) -> None:
        try:
            for i in range(3):
                rows = [(f"{dept}-{i}-{j}", dept, j) for j in range(3)]
                lake.merge_into(spark, path, spark.createDataFrame(rows, "k string, department string, v int"), ["k"],
                                ["k", "department", "v"], rows=len(rows), within={"department": [dept]})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with caplog.at_level(logging.INFO, logger="govlake.lake"):
        threads = [threading.Thread(target=job, args=(f"dept{n}",)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
    assert not errors, errors[0]
    keys = [r.k for r in spark.read.format("delta").load(path).collect()]
    assert len(keys) == len(set(keys)) == 1 + 4 * 3 * 3
    assert "conflicted with a concurrent commit" not in caplog.text


def test_a_conflicting_commit_is_tried_again_and_a_lasting_one_is_raised():
    from delta.exceptions import ConcurrentAppendException

    calls = []

    def write():
        calls.append(1)
        if len(calls) < 3:
            raise ConcurrentAppendException(message="files were added to partition [department=traffic] by a concurrent update")
        return "committed"

    assert lake.retried_on_conflict("test write", write, base_delay_s=0.01) == "committed" and len(calls) == 3

    def always():
        raise ConcurrentAppendException(message="conflict")

    with pytest.raises(ConcurrentAppendException):
        lake.retried_on_conflict("test write", always, attempts=2, base_delay_s=0.01)

    def broken():
        calls.append(1)
        raise ValueError("not a conflict")

    calls.clear()
    with pytest.raises(ValueError):
        lake.retried_on_conflict("test write", broken, base_delay_s=0.01)
    assert len(calls) == 1  # anything else is not tried again


def test_first_of_each_key_keeps_one_row_per_key_and_the_same_one_every_time(spark):
    rows = spark.createDataFrame(
        [("d1", "x", "b1"), ("d1", "x", "b2"), ("d1", "y", "b1"), ("d2", "x", "b1"), ("d2", "x", "b1")],
        "department string, detection_id string, batch_id string")
    kept, cached = ingest.first_of_each_key(rows, ["department", "detection_id"])
    first = sorted(tuple(r) for r in kept.collect())
    assert sorted((r[0], r[1]) for r in first) == [("d1", "x"), ("d1", "y"), ("d2", "x")]
    assert sorted(tuple(r) for r in kept.collect()) == first
    assert len(cached) == 2
    unique, none = ingest.first_of_each_key(rows.where("detection_id = 'y'"), ["department", "detection_id"])
    assert unique.count() == 1 and none == []


def test_unknown_cameras_are_found_the_same_by_set_and_by_join(spark):
    rows = spark.createDataFrame(
        [("r1", "c1", None), ("r2", "c9", None), ("r3", None, None), ("r4", "c9", "MISSING_KEY")],
        "detection_id string, camera_id string, _reason string")
    table = spark.createDataFrame([("c1",), ("c2",)], "camera_id string")
    by_set = {r.detection_id: r._reason for r in ingest.known_cameras_only(rows, frozenset({"c1", "c2"})).collect()}
    by_join = {r.detection_id: r._reason for r in ingest.known_cameras_only(rows, table).collect()}
    # an unknown camera is flagged; no camera passes; an earlier reason is kept
    assert by_set == by_join == {"r1": None, "r2": "UNKNOWN_CAMERA", "r3": None, "r4": "MISSING_KEY"}
    none_known = {r.detection_id: r._reason for r in ingest.known_cameras_only(rows, frozenset()).collect()}
    assert none_known == {"r1": "UNKNOWN_CAMERA", "r2": "UNKNOWN_CAMERA", "r3": None, "r4": "MISSING_KEY"}


def test_only_clean_text_files_skip_the_row_byte_checks(settings, tmp_path):
    import hashlib

    police, traffic = registry.get(settings, "police"), registry.get(settings, "traffic")
    csv_source, json_source = police.sources["detections"], traffic.sources["detections"]
    cases = {
        "gbk.csv": ("抓拍编号,设备编码\nd1,1\n".encode("gbk"), csv_source, True),
        "not-gbk.csv": ("抓拍编号,设备编码\n".encode("gbk") + b"d1,\xff\xfe\n", csv_source, False),
        "ok.jsonl": ('{"recordId": "d1", "plateNo": "京A12345"}\n'.encode(), json_source, True),
        "cut.jsonl": ('{"recordId": "d1", "plateNo": "京'.encode()[:-1], json_source, False),  # a character cut in half at the end
        "fffd.jsonl": ('{"recordId": "\ufffd"}\n'.encode(), json_source, False),  # valid UTF-8, but the replacement mark
    }
    for name, (data, source, clean) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert ingest.digest_and_clean(path, source) == (hashlib.sha256(data).hexdigest(), clean), name
    parquet = tmp_path / "x.parquet"
    parquet.write_bytes(b"PAR1")
    assert ingest.digest_and_clean(parquet, registry.get(settings, "transport").sources["detections"])[1] is False


@pytest.mark.parametrize("name, data, entity, dept_id, fields, reject", [
    ("h.csv", "抓拍编号,设备编码,extra\nd1,1,x\n".encode("gbk"), "detections", "police", ("抓拍编号", "设备编码", "extra"), None),
    ("other.csv", "a,b\n1,2\n".encode("gbk"), "detections", "police", ("a", "b"), "HEADER_MISMATCH: none of the mapped fields is in the header"),
    ("bad.csv", b"\xff\xfe\xff,\n", "detections", "police", (), "HEADER_NOT_GBK"),
    ("empty.csv", b"", "detections", "police", (), "EMPTY_FILE"),
    ("r.jsonl", b'{"recordId": "d1", "tags": [1]}\n{"plateNo": "x"}\n', "detections", "traffic", ("recordId", "tags", "plateNo"), None),
    ("x.parquet", b"PAR1 not a footer", "detections", "transport", (), "UNREADABLE_PARQUET"),
])
def test_a_landing_file_is_inspected_once_for_all_its_facts(settings, tmp_path, name, data, entity, dept_id, fields, reject):
    """Planning learns a file's hash, cleanliness, fields (CSV header, JSON keys, Parquet schema)
    and reject reason in one place; later steps take them from this value."""
    source = registry.get(settings, dept_id).sources[entity]
    path = tmp_path / name
    path.write_bytes(data)
    seen = ingest.inspect(path, entity, source, *ingest.digest_and_clean(path, source))
    assert (seen.fields, seen.size) == (fields, len(data))
    assert (seen.reject or "").startswith(reject or "") and (seen.reject is None) == (reject is None)
    if name.endswith(".jsonl"):
        assert seen.arrays == {"tags"}
        assert ingest.drift_of_files([seen], source).extra == ["tags"]


def test_quality_passes_read_the_columns_the_suite_names(settings):
    from govlake.domain import quality

    cols = ["batch_id", "detection_id", "camera_id", "confidence", "plate_no", "observed_at"]
    suite = quality.load_suite(settings, "base", "detections")
    named = quality.suite_columns(suite, cols)
    assert set(named) == {"detection_id", "camera_id", "confidence", "observed_at"}  # plate_no is in no expectation
    # a row condition or a table-wide expectation may need any column: then all of them
    conditional = {"expectations": [{"type": "expect_column_values_to_not_be_null",
                                     "kwargs": {"column": "camera_id", "row_condition": 'col("plate_no").isNotNull()'}}]}
    assert quality.suite_columns(conditional, cols) == cols
    table_wide = {"expectations": [{"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": cols[:2]}}]}
    assert quality.suite_columns(table_wide, cols) == cols
    counted = {"expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
                                {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["plate_no", "camera_id"]}},
                                {"type": "expect_column_pair_values_a_to_be_greater_than_b",
                                 "kwargs": {"column_A": "confidence", "column_B": "observed_at"}}]}
    assert quality.suite_columns(counted, cols) == ["camera_id", "confidence", "plate_no", "observed_at"]


def test_literals_parsed_in_one_expression_keep_every_character(spark):
    tricky = ["plain", "it's", "back\\slash", "end\\", "京A·12345", "tab\tnew\nline", "%2B+ 100%", "\\u0041", "$x ${y}", "${a}${", "'"]
    m = ingest.literal_map({k: i for i, k in enumerate(tricky)})
    row = spark.range(1).select(*[F.element_at(m, F.lit(k)).alias(f"c{i}") for i, k in enumerate(tricky)],
                                ingest.literal_array(tricky).alias("arr")).first()
    assert [row[f"c{i}"] for i in range(len(tricky))] == list(range(len(tricky)))
    assert row["arr"] == tricky
    hits = spark.createDataFrame([(k,) for k in tricky] + [("absent",)], "camera_id string").where(ingest.in_literals("camera_id", tricky))
    assert sorted(r.camera_id for r in hits.collect()) == sorted(tricky)


def test_the_row_rules_take_codes_ranges_and_patterns_from_the_schema(spark, settings):
    schema = schemas.load_schema(settings, "base", "cameras")
    row = {"camera_id": "3" * 20, "region_code": "110101", "longitude": 116.4, "latitude": 39.9, "status": "offline",
           "_pre_reason": None, "_code_reason": None}
    df = spark.createDataFrame([row], "camera_id string, region_code string, longitude double, latitude double, status string, "
                                      "_pre_reason string, _code_reason string")
    reason = lambda s: ingest.validate(df, s, RUN_TIME).first()["_reason"]  # noqa: E731
    assert reason(schema) is None

    def narrowed(column: str, **constraint) -> schemas.TableSchema:
        cols = [c.model_copy(update=constraint) if c.name == column else c for c in schema.columns]
        return schema.model_copy(update={"columns": cols})

    assert reason(narrowed("status", allowed=["online"])) == "UNKNOWN_CODE:status"
    assert reason(narrowed("latitude", range=(40.0, 54.0))) == "OUT_OF_RANGE_POSITION"
    assert reason(narrowed("camera_id", pattern="^[0-9]{18}$")) == "INVALID_DEVICE_ID"
    with pytest.raises(ConfigError, match=r"schema `base.cameras`: column `status` declares no `allowed`.*schemas/base/cameras.yaml"):
        reason(narrowed("status", allowed=None))


def test_a_schema_missing_a_checked_constraint_fails_the_run_before_anything_is_read(settings, tmp_path, monkeypatch):
    real = schemas.load_schema

    def without_status_codes(settings_, tier, table):
        schema = real(settings_, tier, table)
        cols = [c.model_copy(update={"allowed": None}) if c.name == "status" else c for c in schema.columns]
        return schema.model_copy(update={"columns": cols})

    monkeypatch.setattr(schemas, "load_schema", without_status_codes)
    dept = registry.get(settings, "police")
    generator.generate(dept, tmp_path / "police", rows=10, seed=3, start=SAMPLE_START)
    before = sorted(p.name for p in (tmp_path / "police").iterdir())
    with pytest.raises(ConfigError, match="column `status` declares no `allowed`"):
        ingest.ingest_departments(None, settings, [(dept, tmp_path / "police")], RUN_TIME)  # no Spark needed to refuse
    assert sorted(p.name for p in (tmp_path / "police").iterdir()) == before  # nothing moved, nothing lost


def test_a_department_with_nothing_landed_is_not_planned_against_the_manifest(make_settings, tmp_path):
    """No file and no written-down batch: nothing to ingest, known without reading the manifest
    (a Spark job, which on a cluster waits for an executor). Passing no Spark session proves it."""
    import json

    from govlake.departments import generator, registry
    from govlake.pipeline.ingest import planning, run
    from tests.conftest import RUN_TIME, SAMPLE_START

    settings = make_settings()
    dept = registry.get(settings, "police")
    landing = tmp_path / "landing" / "police"
    landing.mkdir(parents=True)
    assert planning.nothing_landed(dept, landing)
    assert run.ingest_department(None, settings, dept, landing, RUN_TIME) is None
    assert run.ingest_departments(None, settings, [(dept, landing)], RUN_TIME) == ([], {})

    (landing / planning.JOURNAL).write_text(json.dumps({"batch_id": "b", "sha256": ["x"]}))
    assert not planning.nothing_landed(dept, landing)  # a batch written down and not finished: the rerun must plan it
    (landing / planning.JOURNAL).unlink()
    generator.generate(dept, landing, rows=5, seed=1, start=SAMPLE_START)
    assert not planning.nothing_landed(dept, landing)
