"""Source files in -> Delta tables in all three tiers -> exactly the expected rows through Trino.

The expected rows are computed here in plain Python from the generator's canonical records,
independently of Spark, and compared with what an analyst reads from the running Trino server.
"""
from __future__ import annotations

import shutil
from collections import Counter
from datetime import timezone

import pytest

from govlake.departments import registry
from govlake.domain.masking import token_py
from govlake.pipeline import main_job
from govlake.platform.secrets import contract_key, token_key
from govlake.services import sql
from tests.conftest import RUN_TIME

pytestmark = [pytest.mark.spark, pytest.mark.trino]


def _utc(ts):
    return ts.astimezone(timezone.utc).replace(tzinfo=None) if ts.tzinfo else ts


def _expected_flows(sample_data, k=5):
    traffic = sample_data["traffic"]
    region = {c["camera_id"]: c["region_code"] for c in traffic.cameras}
    counts = Counter(
        (region[d["camera_id"]], d["observed_at"].replace(minute=0, second=0, tzinfo=None), d["object_type"])
        for d in traffic.detections
        if d["object_type"] in ("motor_vehicle", "non_motor_vehicle")
    )
    return sorted((r, h, t, n) for (r, h, t), n in counts.items() if n >= k)


def test_transport_analyst_reads_exactly_the_granted_flows(settings, lakehouse, sample_data):
    res = sql.query(
        settings, "li_transport_analyst",
        "SELECT region_code, observed_hour, object_type, detections FROM app_transport.traffic_flows_hourly",
    )
    assert res.columns == ["region_code", "observed_hour", "object_type", "detections"]
    got = sorted((r[0], _utc(r[1]), r[2], r[3]) for r in res.rows)
    expected = _expected_flows(sample_data)
    assert len(expected) > 20
    assert got == expected


def test_traffic_analyst_sees_police_sightings_as_tokens_only(settings, lakehouse, sample_data):
    police = sample_data["police"].detections
    plates = [d["plate_no"] for d in police if d["object_type"] == "motor_vehicle" and d["plate_no"]]
    key = token_key(settings, create=False)
    # the contract re-keys the analytic tier's token with its own key (no join across consumers)
    ckey = contract_key(key, "police-to-traffic-vehicle-sightings")
    res = sql.query(settings, "zhou_traffic_analyst", "SELECT plate_token, count(*) FROM app_traffic.police_vehicle_sightings GROUP BY 1")
    got = {r[0]: r[1] for r in res.rows}
    assert got == dict(Counter(token_py(token_py(p, key), ckey) for p in plates))
    assert not set(got) & {token_py(p, key) for p in plates}, "the platform-wide token reached a consumer"
    every_value = sql.query(settings, "zhou_traffic_analyst", "SELECT * FROM app_traffic.police_vehicle_sightings").rows
    flat = {str(v) for row in every_value for v in row}
    assert not flat & set(plates), "a raw plate reached the application tier"


def test_all_three_tiers_are_queryable_and_consistent(settings, lakehouse, sample_data):
    q = lambda s: sql.query(settings, "ops_admin", s).rows  # noqa: E731
    base = dict(q("SELECT department, count(*) FROM base.detections GROUP BY 1"))
    assert base == {d: len(v.detections) for d, v in sample_data.items()}
    cams = q("SELECT count(*), count_if(source_crs = 'GCJ-02') FROM base.cameras")[0]
    assert cams == [sum(len(v.cameras) for v in sample_data.values()), len(sample_data["police"].cameras)]
    assert q("SELECT count(*) FROM analytic.detections_deidentified")[0][0] == sum(base.values())
    assert q("SELECT count(*) FROM base.quarantine")[0][0] == 0
    columns = {r[0] for r in q("SHOW COLUMNS FROM analytic.detections_deidentified")}
    assert not columns & {"plate_no", "image_ref", "observed_at", "detection_id"}


def test_batch_accounting_is_recorded_and_queryable(settings, lakehouse):
    rows = sql.query(settings, "ops_admin", "SELECT department, entity, read, accepted, quarantined, duplicates, balanced FROM base.batch_log").rows
    entities = sum(len(d.sources) for d in registry.load_all(settings))  # cameras, detections and, where sent, events
    assert entities == 8
    assert len(rows) == entities and all(r[6] == "true" and r[2] == r[3] + r[4] + r[5] for r in rows)
    files = sql.query(settings, "ops_admin", "SELECT count(*), count_if(status = 'ingested') FROM base.ingest_manifest").rows[0]
    assert files == [entities, entities]


def test_redropping_the_same_files_changes_nothing(settings, spark, lakehouse):
    q = lambda s: sql.query(settings, "ops_admin", s).rows  # noqa: E731
    before = q("SELECT count(*), count(DISTINCT detection_id), max(batch_id) FROM base.detections")
    flows_before = sorted(q("SELECT * FROM app_transport.traffic_flows_hourly"))
    for b in lakehouse.batches:
        landing = settings.landing_root / b.department
        for f in (landing / "_ingested" / b.batch_id).iterdir():
            shutil.copy(f, landing / f.name)
    report = main_job.run(spark, settings, RUN_TIME)
    assert report.failures == {} and report.batches == [] and report.catalog["registered"] == []
    assert q("SELECT count(*), count(DISTINCT detection_id), max(batch_id) FROM base.detections") == before
    assert sorted(q("SELECT * FROM app_transport.traffic_flows_hourly")) == flows_before


def test_a_new_file_is_queryable_in_base_through_trino_right_after_its_ingest(settings, spark, lakehouse):
    import time

    from govlake.departments import generator, registry
    from govlake.pipeline.ingest import ingest_department
    from tests.conftest import SAMPLE_START

    q = lambda s: sql.query(settings, "ops_admin", s).rows[0][0]  # noqa: E731
    before = q("SELECT count(*) FROM base.detections WHERE department = 'traffic'")
    dept = registry.get(settings, "traffic")
    t0 = time.perf_counter()
    generator.generate(dept, settings.landing_root / "traffic", rows=50, seed=77, start=SAMPLE_START)
    ingest_department(spark, settings, dept, settings.landing_root / "traffic", RUN_TIME)
    after = q("SELECT count(*) FROM base.detections WHERE department = 'traffic'")
    print(f"drop -> queryable in Trino: {time.perf_counter() - t0:.1f}s (ingest + first query)")
    assert after == before + 50


def test_events_reach_base_and_their_notes_are_scrubbed_in_analytic(settings, lakehouse, sample_data):
    from govlake.pii import recognizers as rec

    q = lambda s: sql.query(settings, "ops_admin", s).rows  # noqa: E731
    # only the sample feeds' batches (other tests drop further files into the shared lakehouse)
    batches = ", ".join(f"'{b.batch_id}'" for b in lakehouse.batches)
    assert dict(q(f"SELECT department, count(*) FROM base.events WHERE batch_id IN ({batches}) GROUP BY 1")) == {
        d: len(v.events) for d, v in sample_data.items() if v.events
    }
    notes = {(r[0], r[1]): r[2] for r in q(f"SELECT department, event_id, note FROM base.events WHERE batch_id IN ({batches})")}
    expected = {(d, e["event_id"]): e["note"] for d, v in sample_data.items() for e in v.events}
    assert notes == expected  # GBK CSV and JSON notes arrive intact
    key = token_key(settings)
    tokens = ", ".join(f"'{token_py(f'{d}:{e}', key)}'" for d, e in expected)
    scrubbed = sorted(r[0] for r in q(f"SELECT note_scrubbed FROM analytic.events_deidentified WHERE event_token IN ({tokens})"))
    assert scrubbed == sorted(rec.scrub(n) for n in expected.values())
    with_pii = sum(1 for d, v in sample_data.items() for n in v.notes.values() if n.entities)
    assert with_pii > 0 and sum("<" in s for s in scrubbed) == with_pii


def test_the_classifier_finds_no_direct_identifier_in_any_analytic_table(settings, lakehouse):
    from govlake.pii import classify
    from govlake.pipeline.analytic import ANALYTIC_TABLES

    direct = {"ID_NUMBER", "PHONE", "PLATE", "BANK_CARD", "EMAIL", "IP_ADDRESS", "PERSON", "ADDRESS"}
    for table in ANALYTIC_TABLES:
        columns = classify.table_sample(settings, f"analytic.{table}", n=5000)
        assert columns and all(len(v) > 0 for v in columns.values()), table
        for report in classify.classify_columns(settings, columns):
            assert not direct & set(report.entities), (table, report)
    # the same classifier does see them in base, so the check can fail
    base = classify.classify_columns(settings, classify.table_sample(settings, "base.events", n=5000))
    assert {"PERSON", "PHONE", "PLATE"} <= set(next(r for r in base if r.name == "note").entities)
