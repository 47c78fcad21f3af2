"""Erasure of one data subject: the plan along lineage (fast), then real erasures on a private
copy of the shared lakehouse (the other tests compare the shared one with the sample data)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from govlake.compliance import erasure
from govlake.core.errors import ConfigError
from govlake.core.settings import PROJECT_ROOT, Settings
from govlake.domain import masking
from govlake.governance import audit
from govlake.governance.lineage import Edge
from govlake.platform.secrets import TokenKey, contract_key, token_key
from tests.conftest import copy_of_lakehouse

PLATE_IN_TEXT = re.compile(r"[\u4e00-\u9fff][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}")  # GA 36, as the sample notes write plates
KEY = TokenKey("k1", bytes(range(32)))
PLATE = "京A12345"
TOKEN = masking.token_py(PLATE, KEY)


def _edges() -> list[Edge]:
    return [
        Edge("base.detections", "plate_no", "analytic.detections_deidentified", "plate_token", "token", "TRANSFORMATION", True),
        Edge("analytic.detections_deidentified", "plate_token", "analytic.flow_hourly", "distinct_plates", "aggregation", "AGGREGATION"),
        Edge("analytic.detections_deidentified", "plate_token", "app_traffic.sightings", "plate_token", "token", "TRANSFORMATION", True,
             "c-police", "traffic"),
        Edge("analytic.detections_deidentified", "plate_token", "app_x.copy", "plate_token", "identity", contract="c-x", consumer="x"),
        Edge("base.detections", "plate_no", "app_y.masked", "plate", "mask_plate", "TRANSFORMATION", True, "c-y", "y"),
        Edge("base.detections", "camera_id", "analytic.detections_deidentified", "camera_id"),
    ]


def test_the_plan_follows_lineage_and_computes_each_form_of_the_value(settings):
    p = erasure.plan(settings, erasure.ErasurePolicy(identifiers=["base.detections.plate_no"]), TOKEN, KEY, {PLATE}, _edges())
    values = {(d, c): n.values for d, cols in p.exact.items() for c, n in cols.items()}
    assert values == {
        ("base.detections", "plate_no"): {PLATE},
        ("analytic.detections_deidentified", "plate_token"): {TOKEN},
        ("app_traffic.sightings", "plate_token"): {masking.token_py(TOKEN, contract_key(KEY, "c-police"))},
        ("app_x.copy", "plate_token"): {TOKEN},
    }
    assert "contract c-police" in p.exact["app_traffic.sightings"]["plate_token"].via
    assert set(p.not_erased) == {"analytic.flow_hourly.distinct_plates", "app_y.masked.plate"}
    assert "aggregate" in p.not_erased["analytic.flow_hourly.distinct_plates"]
    assert "`mask_plate`" in p.not_erased["app_y.masked.plate"]


def test_the_platform_token_is_matched_even_when_base_no_longer_holds_the_identifier(settings):
    p = erasure.plan(settings, erasure.ErasurePolicy(identifiers=["base.detections.plate_no"]), TOKEN, KEY, set(), _edges())
    assert p.exact["base.detections"]["plate_no"].values == set()
    assert p.exact["analytic.detections_deidentified"]["plate_token"].values == {TOKEN}


def test_a_token_of_a_token_and_contracts_without_lineage(settings):
    import yaml

    from govlake.contracts.spec import ContractSpec

    pol = erasure.ErasurePolicy(identifiers=["base.detections.plate_no"])
    edges = _edges() + [Edge("app_x.copy", "plate_token", "app_z.re", "t", "token")]  # a platform token of a token
    p = erasure.plan(settings, pol, TOKEN, KEY, {PLATE}, edges)
    assert p.exact["app_z.re"]["t"].values == {masking.token_py(TOKEN, KEY)}
    # no lineage past analytic (a lost event): the active contract still names its table
    p = erasure.plan(settings, pol, TOKEN, KEY, {PLATE}, _edges()[:1])
    spec = ContractSpec.model_validate(yaml.safe_load(settings.path("policies", "contracts", "police-to-traffic-vehicle-sightings.yaml").read_text()))
    added = erasure.add_contract_tables(p, [spec], TOKEN, KEY)
    out = f"{spec.consumer_schema}.{spec.table}"
    assert f"{out}.plate_token" in added
    assert p.exact[out]["plate_token"].values == {masking.token_py(TOKEN, contract_key(KEY, spec.id))}


def test_free_text_matches_the_identifier_only_as_a_whole_plate():
    pattern = erasure.quoted_pattern(PLATE).replace("\\Q", "").replace("\\E", "")
    assert re.search(pattern, f"布控车辆{PLATE}出现在卡口") and re.search(pattern, PLATE)
    assert not re.search(pattern, f"车辆{PLATE}D出现") and not re.search(pattern, f"X{PLATE}")
    assert erasure.scrub(f"failed on {PLATE} with unhex('{'ab' * 40}')", {PLATE}) == "failed on <subject value> with unhex('<hex>')"


def test_tokens_and_policies_are_checked_with_a_clear_error(settings, tmp_path):
    erasure.check_token(TOKEN, KEY)
    with pytest.raises(ConfigError, match="64 hex digits"):
        erasure.check_token(PLATE, KEY)
    with pytest.raises(ConfigError, match="key `k2`"):
        erasure.check_token("k2" + TOKEN[2:], KEY)
    assert TOKEN not in erasure.fingerprint(TOKEN) and erasure.fingerprint(TOKEN).startswith("sha256:")
    assert erasure.load_policy(settings).identifiers == ["base.detections.plate_no"]
    bad = tmp_path / "erasure.yaml"
    bad.write_text("identifiers: [base.detections.confidence]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a string column"):
        erasure.load_policy(settings, bad)
    bad.write_text("identifiers: [analytic.detections_deidentified.plate_token]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a base column"):
        erasure.load_policy(settings, bad)


# --- on the lakehouse ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def private(lakehouse, settings, tmp_path_factory) -> Settings:
    """A copy of the shared lakehouse's state (warehouse, landing, secrets, governance store)."""
    return copy_of_lakehouse(settings, tmp_path_factory, "erasure")


def _load(spark, s: Settings, rel: str):
    return spark.read.format("delta").load(f"{s.warehouse_root}/{rel}")


def _app_path(s: Settings) -> str:
    return next(str(p) for p in (s.state / "warehouse" / "application" / "app_traffic").glob("police_vehicle_sightings__*"))


def _parquet_text(s: Settings) -> str:
    import pyarrow.parquet as pq

    files = [f for f in (s.state / "warehouse").rglob("*.parquet") if "_delta_log" not in f.parts]
    return "\n".join(str(pq.read_table(f).to_pylist()) for f in files)


@pytest.mark.spark
@pytest.mark.trino
def test_erasure_removes_the_subject_from_every_tier_and_from_time_travel(private, spark, capfd):
    from pyspark.sql import functions as F

    key = token_key(private, create=False)
    deid = _load(spark, private, "analytic/detections_deidentified")
    app = spark.read.format("delta").load(_app_path(private))
    ckey = contract_key(key, "police-to-traffic-vehicle-sightings")
    # the subject: the plate seen most often that the police contract also shares
    shared = app.groupBy("plate_token").count().collect()
    by_app = {r.plate_token: r["count"] for r in shared if r.plate_token}
    candidates = deid.where("plate_token IS NOT NULL").groupBy("plate_token").count().orderBy(F.desc("count")).collect()
    subject = next(r for r in candidates if masking.token_py(r.plate_token, ckey) in by_app)
    token, app_token = subject.plate_token, masking.token_py(subject.plate_token, ckey)
    base = _load(spark, private, "base/detections")
    plate = masking.keyed(base, key).where(masking.token(F.col("plate_no"), key) == token).select("plate_no").first().plate_no
    n_base, total_base = base.where(F.col("plate_no") == plate).count(), base.count()
    base_version = spark.sql(f"DESCRIBE HISTORY delta.`{private.warehouse_root}/base/detections` LIMIT 1").first().version
    assert n_base == subject["count"] and n_base > 1 and plate in _parquet_text(private)
    # the transaction log keeps per-file statistics, but none on the plate (lake.stats_columns)
    adds = [json.loads(line)["add"] for f in (private.state / "warehouse" / "base" / "detections" / "_delta_log").glob("*.json")
            for line in f.read_text(encoding="utf-8").splitlines() if '"add"' in line]
    stats = [json.loads(a["stats"]) for a in adds if a.get("stats")]
    assert stats and all("plate_no" not in st.get("minValues", {}) and "detection_id" in st.get("minValues", {}) for st in stats)

    dry = erasure.erase(spark, private, token, dry_run=True)
    assert dry.tables["base.detections"]["would_change"] == n_base
    assert dry.tables["analytic.detections_deidentified"]["would_change"] == subject["count"]
    assert dry.tables["app_traffic.police_vehicle_sightings"]["would_change"] == by_app[app_token]
    assert _load(spark, private, "base/detections").count() == total_base  # a dry run changes nothing

    report = erasure.erase(spark, private, token, request="REQ-test-1")
    assert report.complete and report.identifier_found, report.as_dict()
    assert report.tables["base.detections"]["rows_deleted"] == n_base
    assert report.tables["analytic.detections_deidentified"]["rows_deleted"] == subject["count"]
    assert report.tables["app_traffic.police_vehicle_sightings"]["rows_deleted"] == by_app[app_token]
    assert "contract police-to-traffic-vehicle-sightings" in report.tables["app_traffic.police_vehicle_sightings"]["via"][0]
    assert "analytic.flow_hourly.distinct_plates" in report.not_erased
    assert report.residue == {} and report.log_mentions == {}
    assert any(f.startswith("police/_ingested/") for f in report.landing_files)

    # the rows are gone, the others stay
    base = _load(spark, private, "base/detections")
    assert base.where(F.col("plate_no") == plate).count() == 0 and base.count() == total_base - n_base
    assert _load(spark, private, "analytic/detections_deidentified").where(F.col("plate_token") == token).count() == 0
    assert spark.read.format("delta").load(_app_path(private)).where(F.col("plate_token") == app_token).count() == 0
    # no data file holds the plate any more, and time travel cannot bring it back
    assert plate not in _parquet_text(private)
    try:
        old = spark.read.format("delta").option("versionAsOf", base_version).load(f"{private.warehouse_root}/base/detections")
        assert old.where(F.col("plate_no") == plate).count() == 0
    except Exception as exc:  # noqa: BLE001 - the purged version's files are gone
        assert "FileNotFound" in str(exc) or "does not exist" in str(exc) or "FILE_NOT_EXIST" in str(exc), exc
    # evidence: one audit entry naming the subject by fingerprint only; the chain still verifies
    entry = audit.entries(private, limit=1, action="erasure.run")[0]
    assert entry["object"] == f"subject:{erasure.fingerprint(token)}"
    text = json.dumps(entry, ensure_ascii=False)
    assert token not in text and plate not in text and "REQ-test-1" in text
    assert audit.verify(private).ok
    out, err = capfd.readouterr()
    assert plate not in out + err and token not in out + err

    again = erasure.erase(spark, private, token, identifier=plate)  # idempotent: nothing left to remove
    assert again.complete and all(t["rows_deleted"] == 0 for t in again.tables.values()), again.as_dict()


@pytest.mark.spark
@pytest.mark.trino
def test_erasure_by_identifier_redacts_free_text_and_keeps_the_event(private, spark):
    from pyspark.sql import functions as F

    events = _load(spark, private, "base/events")
    notes = events.where(F.col("note").isNotNull()).select("event_id", "note").collect()
    quoting, plate = next((r, m.group()) for r in notes if (m := PLATE_IN_TEXT.search(r.note)))
    n_events, quoting_rows = events.count(), events.where(F.instr("note", plate) > 0).count()
    token = erasure.subject_token(plate, token_key(private, create=False))
    with pytest.raises(ConfigError, match="does not have the subject token"):
        erasure.erase(spark, private, token, identifier=plate + "X")

    report = erasure.erase(spark, private, token, identifier=plate)
    assert report.complete, report.as_dict()
    assert report.tables["base.events"]["rows_redacted"] == quoting_rows and report.tables["base.events"]["rows_deleted"] == 0
    events = _load(spark, private, "base/events")
    assert events.count() == n_events and events.where(F.instr("note", plate) > 0).count() == 0
    assert events.where(F.col("event_id") == quoting.event_id).first().note == quoting.note.replace(plate, "[erased]")


def test_the_command_refuses_a_malformed_token_before_starting_spark(make_settings):
    s = make_settings()
    token_key(s)  # a platform key, as `govlake up` makes
    env = {**os.environ, "GOVLAKE_STATE_DIR": str(s.state)}
    done = subprocess.run([sys.executable, "-m", "govlake", "erase", "--subject-token", PLATE], capture_output=True, text=True, env=env, timeout=120, cwd=PROJECT_ROOT)
    assert done.returncode == 1 and "64 hex digits" in done.stderr and PLATE not in done.stderr
    done = subprocess.run([sys.executable, "-m", "govlake", "erase", "--identifier-stdin"], input="\n", capture_output=True, text=True, env=env, timeout=120, cwd=PROJECT_ROOT)
    assert done.returncode == 1 and "empty line" in done.stderr


def test_a_retirement_stopped_half_way_is_no_table_and_an_erasure_finishes_it(make_settings):
    from govlake.platform import lake

    s = make_settings()
    root = s.state / "warehouse" / "application" / "app_traffic"
    whole, half = root / "flows__a", root / "flows__b"
    for t, logs in ((whole, ["00000000000000000000.json", "00000000000000000001.json"]), (half, ["00000000000000000001.json"])):
        (t / "_delta_log").mkdir(parents=True)
        for name in logs:
            (t / "_delta_log" / name).write_text("{}")
        (t / "part-0.parquet").write_bytes(b"rows")
    assert lake.is_table(s, str(whole)) and not lake.is_table(s, str(half))
    assert erasure.finish_retirements(s) == [str(half)]
    assert whole.is_dir() and not half.exists()
