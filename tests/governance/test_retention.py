"""Retention: the policy file, cutoffs, and on private Delta tables that expired rows leave for
good (no time travel back to them, no parquet file still holding them), with and without
deletion vectors; enforcement by level and by contract, its audit entry, and the dry run."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from govlake.compliance import retention
from govlake.contracts import spec as specs
from govlake.core.errors import ConfigError
from govlake.domain import schemas
from govlake.governance import audit
from govlake.platform import lake

RUN = datetime(2026, 11, 21, 0, 5, tzinfo=timezone.utc)


def _policy_file(tmp_path: Path, edit=None) -> Path:
    data = {
        "vacuum_retain_hours": 0,
        "periods": {"L1": None, "L2": 100, "L3": 50, "L4": 10},
        "tables": {"base.detections": {"time_column": "observed_at"}, "base.batch_log": {"time_column": "ingested_at"},
                   "base.cameras": {"keep": "registry"}, "analytic.detections_deidentified": {"time_column": "observed_hour"}},
    }
    if edit:
        edit(data)
    path = tmp_path / "retention.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# -- fast: policy file, levels, cutoffs (no Spark)

def test_the_repository_policy_has_a_decision_for_every_base_and_analytic_table(settings):
    policy = retention.load_policy(settings)
    tables = {f"{f.parent.name}.{f.stem}" for f in schemas.all_schema_files(settings) if f.parent.name in retention.TIERS}
    assert tables - set(policy.tables) == set()
    assert policy.periods["L4"] < policy.periods["L3"] < policy.periods["L2"] and policy.vacuum_retain_hours >= 0


@pytest.mark.parametrize("edit, field, hint", [
    (lambda d: d["tables"].update({"base.events": {"time_column": "note"}}), "tables.base.events.time_column", "occurred_at"),
    (lambda d: d["tables"].update({"base.events": {"time_column": "when"}}), "tables.base.events.time_column", "not a column"),
    (lambda d: d["periods"].pop("L3"), "periods.L3", "missing"),
    (lambda d: d["periods"].update({"L9": 5}), "periods.L9", "unknown level"),
    (lambda d: d["periods"].update({"L4": 0}), "periods.L4", "greater than 0"),
    (lambda d: d["tables"].update({"base.nope": {"keep": "why not"}}), "tables.base.nope", "no schema"),
    (lambda d: d["tables"].update({"gold.x": {"keep": "why not"}}), "tables.gold.x", "tier one of base, analytic"),
    (lambda d: d["tables"].update({"base.cameras": {"keep": "registry", "time_column": "x"}}), "tables.base.cameras", "exactly one of"),
    (lambda d: d.pop("vacuum_retain_hours"), "vacuum_retain_hours", "required"),
])
def test_a_bad_policy_names_the_file_and_the_field(settings, tmp_path, edit, field, hint):
    path = _policy_file(tmp_path, edit)
    with pytest.raises(ConfigError) as err:
        retention.load_policy(settings, path)
    assert str(path) in str(err.value) and f"`{field}" in str(err.value) and hint in str(err.value)


def test_a_policy_that_is_not_a_mapping_or_missing_is_named(settings, tmp_path):
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        retention.load_policy(settings, tmp_path / "list.yaml")
    with pytest.raises(ConfigError, match="no retention policy"):
        retention.load_policy(settings, tmp_path / "absent.yaml")


def test_table_level_is_the_highest_column_level():
    assert retention.table_level({"a": "L2", "b": "L4", "c": "L3"}) == "L4"
    assert retention.table_level({"a": "L1", "b": "L2"}) == "L2"


def test_cutoff_is_run_time_minus_days_in_utc_and_needs_an_offset():
    at = datetime(2026, 11, 21, 8, 0, tzinfo=timezone(timedelta(hours=8)))  # = 00:00 UTC
    assert retention.cutoff(at, 30) == datetime(2026, 10, 22, tzinfo=timezone.utc)
    assert retention.expired_predicate("observed_at", "timestamp", retention.cutoff(at, 30)) == \
        "`observed_at` < TIMESTAMP '2026-10-22 00:00:00.000000'"
    assert retention.expired_predicate("d", "date", retention.cutoff(at, 1)) == "`d` < DATE '2026-11-20'"
    with pytest.raises(ConfigError, match="no timezone offset"):
        retention.cutoff(datetime(2026, 11, 21), 30)
    pendulum = pytest.importorskip("pendulum")  # Airflow's logical date
    assert retention.cutoff(pendulum.datetime(2026, 11, 21, 8, tz="Asia/Shanghai"), 30) == datetime(2026, 10, 22, tzinfo=timezone.utc)
    with pytest.raises(ConfigError, match="not a time"):
        retention.expired_predicate("plate_no", "string", RUN)


def test_cli_parses_retention_run():
    from govlake.cli import build_parser

    args = build_parser().parse_args(["retention", "run", "--at", "2026-11-21T00:00:00+00:00", "--dry-run", "--json"])
    assert (args.command, args.action, args.dry_run, args.json) == ("retention", "run", True, True)


def test_cli_refuses_a_run_time_without_offset_before_starting_spark(capsys):
    from govlake.cli import main

    assert main(["retention", "run", "--at", "2026-11-21T00:00:00", "--dry-run"]) == 1
    assert "has no timezone offset" in capsys.readouterr().err


# -- Spark: purge on private tables

def _parquet_values(folder: str) -> set:
    """Every value in every parquet file under `folder` (data files and any checkpoint)."""
    import pyarrow.parquet as pq

    values = set()
    for f in Path(folder).rglob("*.parquet"):
        for column in pq.read_table(f).to_pydict().values():
            values.update(v for v in column if isinstance(v, str))
    return values


def _plates(n_old: int, n_new: int) -> list[tuple]:
    old = [(f"d{i}", f"京A{i:05d}", RUN - timedelta(days=40 + i)) for i in range(n_old)]
    new = [(f"d{100 + i}", f"沪B{i:05d}", RUN - timedelta(days=i)) for i in range(n_new)]
    return old + new


@pytest.mark.spark
@pytest.mark.parametrize("deletion_vectors", [False, True], ids=["copy-on-write", "deletion-vectors"])
def test_purge_removes_rows_time_travel_and_bytes(spark, tmp_path, deletion_vectors):
    from delta.tables import DeltaTable

    path = str(tmp_path / "t")
    rows = _plates(6, 4)
    df = spark.createDataFrame(rows, "detection_id string, plate_no string, observed_at timestamp").coalesce(1)
    df.write.format("delta").option("delta.enableDeletionVectors", str(deletion_vectors).lower()).save(path)
    # control: a plain DELETE leaves the row's bytes in the folder (a deletion vector, or the old file)
    DeltaTable.forPath(spark, path).delete("detection_id = 'd0'")
    assert "京A00000" in _parquet_values(path)
    version = DeltaTable.forPath(spark, path).history(1).collect()[0].version

    conf = [spark.conf.get(k, None) for k in (lake.RETENTION_CHECK, lake.LISTING_PARALLELISM)]
    result = lake.purge(spark, path, retention.expired_predicate("observed_at", "timestamp", retention.cutoff(RUN, 30)), retain_hours=0)
    assert [spark.conf.get(k, None) for k in (lake.RETENTION_CHECK, lake.LISTING_PARALLELISM)] == conf

    gone = {r[1] for r in rows[:6]}
    assert result["rows_deleted"] == 5 and result["deletion_vectors"] is deletion_vectors
    assert result["files_removed"] >= 1 and result["version_after"] > version
    if deletion_vectors:
        assert result["files_rewritten"] >= 1
    assert sorted(r.plate_no for r in spark.read.format("delta").load(path).collect()) == sorted(r[1] for r in rows[6:])
    try:
        before = {r.plate_no for r in spark.read.format("delta").option("versionAsOf", version).load(path).collect()}
    except Exception as exc:  # the files of that version are vacuumed
        assert "not exist" in str(exc) or "FileNotFound" in str(exc) or "FILE_NOT_EXIST" in str(exc), exc
    else:
        assert not before & gone
    assert not _parquet_values(path) & gone
    assert {r[1] for r in rows[6:]} <= _parquet_values(path)


@pytest.mark.spark
def test_purge_refuses_an_empty_predicate_and_a_missing_table(spark, tmp_path):
    with pytest.raises(ConfigError, match="needs a predicate"):
        lake.purge(spark, str(tmp_path), " ", retain_hours=0)
    with pytest.raises(ConfigError, match="not a Delta table"):
        lake.purge(spark, str(tmp_path / "none"), "true", retain_hours=0)


# -- Spark: enforce on a private warehouse and governance store

@pytest.fixture
def aged_lake(spark, make_settings, tmp_path):
    """A private warehouse: base.detections (L4), base.batch_log (L2) and two contracts' tables,
    one granting the time column; returns settings, policy, contracts and expected deletions."""
    s = make_settings()
    policy = retention.load_policy(s, _policy_file(tmp_path))
    days = lambda n: RUN - timedelta(days=n)  # noqa: E731
    det = [("d1", "police", "京A00001", days(5)), ("d2", "police", "京A00002", days(15)), ("d3", "police", "京A00003", days(60))]
    spark.createDataFrame(det, "detection_id string, department string, plate_no string, observed_at timestamp") \
        .write.format("delta").save(lake.table_path(s, "base", "detections"))
    log = [("b1", days(50)), ("b2", days(150))]
    spark.createDataFrame(log, "batch_id string, ingested_at timestamp").write.format("delta").save(lake.table_path(s, "base", "batch_log"))
    base = yaml.safe_load(s.path("policies", "contracts", "police-to-traffic-vehicle-sightings.yaml").read_text())
    granting = specs.ContractSpec.model_validate(base | {"retention_days": 20})
    blind = specs.ContractSpec.model_validate(base | {"id": "police-no-time", "table": "no_time",
                                                      "columns": [c for c in base["columns"] if c["name"] != "observed_hour"]})

    app = [("tok1", "c", days(3)), ("tok2", "c", days(25)), ("tok3", "c", days(100))]
    spark.createDataFrame(app, "plate_token string, grid_cell string, observed_hour timestamp") \
        .write.format("delta").save(lake.app_table_path(s, granting))
    return s, policy, [granting, blind], {"base.detections": 2, "base.batch_log": 1, "app_traffic.police_vehicle_sightings": 2}


def _count(spark, path) -> int:
    return spark.read.format("delta").load(path).count()


@pytest.mark.spark
def test_enforce_deletes_by_level_and_contract_period_and_records_the_run(spark, aged_lake):
    s, policy, contracts, expected = aged_lake
    report = retention.enforce(spark, s, RUN, policy=policy, contracts=contracts)

    assert report.failed == {}
    assert {t: v["rows_deleted"] for t, v in report.tables.items()} == expected
    assert (report.tables["base.detections"]["level"], report.tables["base.detections"]["days"]) == ("L4", 10)
    assert (report.tables["base.batch_log"]["level"], report.tables["base.batch_log"]["days"]) == ("L2", 100)
    assert report.tables["app_traffic.police_vehicle_sightings"]["days"] == 20
    assert "does not grant `observed_hour`" in report.skipped["app_traffic.no_time"]
    assert report.skipped["base.cameras"] == "kept: registry" and report.skipped["base.events"].startswith("no rule")
    assert report.skipped["analytic.detections_deidentified"] == "no table yet"
    ids = {r.detection_id for r in spark.read.format("delta").load(lake.table_path(s, "base", "detections")).collect()}
    assert ids == {"d1"}
    assert {r.batch_id for r in spark.read.format("delta").load(lake.table_path(s, "base", "batch_log")).collect()} == {"b1"}
    assert {r.plate_token for r in spark.read.format("delta").load(lake.app_table_path(s, contracts[0])).collect()} == {"tok1"}

    entries = audit.entries(s, 5, "retention.run")
    assert len(entries) == 1 and entries[0]["actor"] == retention.ACTOR
    detail = json.loads(entries[0]["detail"])
    assert {t: v["rows_deleted"] for t, v in detail["tables"].items()} == expected and detail["run_time"] == RUN.isoformat()
    assert audit.verify(s).ok


@pytest.mark.spark
def test_dry_run_counts_what_would_go_and_changes_nothing(spark, aged_lake):
    from delta.tables import DeltaTable

    s, policy, contracts, expected = aged_lake
    paths = [lake.table_path(s, "base", "detections"), lake.table_path(s, "base", "batch_log")]
    versions = [DeltaTable.forPath(spark, p).history(1).collect()[0].version for p in paths]

    report = retention.enforce(spark, s, RUN, policy=policy, contracts=contracts, dry_run=True)

    assert {t: v["would_delete"] for t, v in report.tables.items()} == expected
    assert [_count(spark, p) for p in paths] == [3, 2]
    assert [DeltaTable.forPath(spark, p).history(1).collect()[0].version for p in paths] == versions
    assert audit.entries(s, 5, "retention.run") == []


@pytest.mark.spark
def test_publish_keeps_only_rows_within_the_contract_period(spark, make_settings):
    """A retention run deletes a contract table's old rows; the next publish (which rebuilds the
    table from analytic) must not bring them back."""
    from govlake.pipeline import application

    s = make_settings()
    base = yaml.safe_load(s.path("policies", "contracts", "police-to-traffic-vehicle-sightings.yaml").read_text())
    spec = specs.ContractSpec.model_validate(base | {"retention_days": 20, "row_filter": None})
    rows = [("tok1", "police", "c", "motor_vehicle", RUN - timedelta(days=3)), ("tok2", "police", "c", "motor_vehicle", RUN - timedelta(days=25)),
            ("tok3", "police", "c", "motor_vehicle", None)]
    dataset = spark.createDataFrame(rows, "plate_token string, department string, camera_id string, object_type string, observed_hour timestamp")
    kept = application.within_retention(dataset, s, spec, RUN)
    assert sorted(r.plate_token for r in kept.collect()) == ["tok1", "tok3"]  # a row without a time is not aged
    assert application.within_retention(dataset, s, spec, None).count() == 3
    other = spec.model_copy(update={"dataset": "analytic.fairness_monitor"})  # kept whole by policy: no time column
    assert application.within_retention(dataset, s, other, RUN).count() == 3


def test_identifying_columns_keep_no_statistics_in_the_transaction_log(settings):
    det = schemas.load_schema(settings, "base", "detections")
    stats = lake.stats_columns(det)
    assert "plate_no" not in stats and "image_ref" not in stats
    assert {"detection_id", "observed_at", "camera_id", "confidence"} <= set(stats)
    deid = lake.stats_columns(schemas.load_schema(settings, "analytic", "detections_deidentified"))
    assert "plate_token" not in deid and "observed_hour" in deid
    assert "raw" not in lake.stats_columns(schemas.load_schema(settings, "base", "quarantine"))
