"""Lineage: OpenLineage events in, edges out, classification along the graph, the receiver's
HTTP endpoint, and the real lineage of the sample lakehouse (plate numbers through every tier)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from govlake.domain import levels
from govlake.governance import lineage, store
from govlake.governance.lineage import Edge

DEID = {"token": "L3", "hour": "L2", "aggregation": "L2"}


def _event(out: str, fields: dict[str, list[tuple[str, str, str]]], when: str = "2026-11-21T00:00:00+00:00", run: str = "r1",
           contract: dict | None = None, job: str | None = None) -> dict:
    def ds(name):
        return {"namespace": "file", "name": f"/wh/{name}", "facets": {"symlinks": {"identifiers": [{"namespace": "govlake", "name": name, "type": "TABLE"}]}}}

    inputs = sorted({src for srcs in fields.values() for src, _, _ in srcs})
    out_ds = ds(out)
    out_ds["facets"]["columnLineage"] = {"fields": {col: {"inputFields": [
        {"namespace": "file", "name": f"/wh/{src}", "field": f,
         "transformations": [{"type": "DIRECT", "subtype": "IDENTITY" if t == "identity" else "TRANSFORMATION", "description": t, "masking": t not in ("identity", "derived")}]}
        for src, f, t in srcs]} for col, srcs in fields.items()}}
    if contract:
        out_ds["facets"]["govlake_contract"] = contract
    return {"eventType": "COMPLETE", "eventTime": when, "producer": "urn:test", "run": {"runId": run},
            "job": {"namespace": "govlake", "name": job or f"job.{out}"}, "inputs": [ds(i) for i in inputs], "outputs": [out_ds]}


def test_a_complete_event_becomes_edges_and_a_newer_one_replaces_them(make_settings):
    s = make_settings()
    lineage.ingest(s, _event("analytic.t", {"tok": [("base.d", "plate_no", "token")], "c": [("base.d", "colour", "identity")]}))
    assert {(e.in_column, e.out_column, e.transformation, e.masking) for e in lineage.edges(s)} == {
        ("plate_no", "tok", "token", True), ("colour", "c", "identity", False)}
    lineage.ingest(s, _event("analytic.t", {"c": [("base.d", "colour", "identity")]}, when="2026-11-22T00:00:00Z", run="r2"))
    assert [e.out_column for e in lineage.edges(s)] == ["c"]
    # an older event arriving late is kept as an event but does not bring the old edges back
    lineage.ingest(s, _event("analytic.t", {"tok": [("base.d", "plate_no", "token")]}, when="2026-11-20T00:00:00Z", run="r0"))
    assert [e.out_column for e in lineage.edges(s)] == ["c"]
    with store.engine(s).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.lineage_events)).scalar() == 3


def test_jobs_writing_one_dataset_keep_their_own_edges(make_settings):
    s = make_settings()
    police = {"plate_no": [("landing_police.detections", "车牌号码", "identity")]}
    lineage.ingest(s, _event("base.detections", police, job="ingest.police.detections"))
    lineage.ingest(s, _event("base.detections", {"plate_no": [("landing_traffic.detections", "plateNo", "identity")]}, job="ingest.traffic.detections"))
    lineage.ingest(s, _event("base.detections", police, when="2026-11-22T00:00:00Z", run="r2", job="ingest.police.detections"))
    assert sorted(e.in_dataset for e in lineage.edges(s)) == ["landing_police.detections", "landing_traffic.detections"]
    # a second job reading the same input into the same output keeps its own edge too
    lineage.ingest(s, _event("base.detections", police, job="backfill.police.detections"))
    assert sorted(e.job for e in lineage.edges(s) if e.in_dataset == "landing_police.detections") == [
        "govlake.backfill.police.detections", "govlake.ingest.police.detections"]


def test_edge_tables_from_before_the_job_key_are_rebuilt(make_settings):
    s = make_settings()
    s.state.mkdir(parents=True)
    old = sa.create_engine(f"sqlite:///{s.state / 'governance.db'}")
    with old.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE lineage_column_edges (out_dataset TEXT, out_column TEXT, in_dataset TEXT, in_column TEXT, "
                             "transformation TEXT, subtype TEXT, masking BOOLEAN, contract TEXT, consumer TEXT, job TEXT, run_id TEXT, "
                             "event_time TEXT, PRIMARY KEY (out_dataset, out_column, in_dataset, in_column))")
    old.dispose()
    lineage.ingest(s, _event("analytic.t", {"c": [("base.d", "colour", "identity")]}))
    assert [e.out_column for e in lineage.edges(s)] == ["c"]
    assert "job" in sa.inspect(store.engine(s)).get_pk_constraint("lineage_column_edges")["constrained_columns"]


def test_the_ingest_mapping_is_lineage_from_each_department_field(settings):
    from govlake.departments import registry
    from govlake.pipeline.ingest import mapping_lineage

    police = registry.get(settings, "police")
    det = mapping_lineage(police, "detections")
    assert det["plate_no"] == [("landing_police.detections", "车牌号码", "identity")]
    assert det["observed_at"][0][2] == "time_to_utc" and det["object_type"][0][2] == "code_map"
    cams = mapping_lineage(police, "cameras")  # GCJ-02: each WGS-84 coordinate comes from both inputs
    assert {f for _, f, _ in cams["longitude"]} == {"经度", "纬度"} and cams["latitude"][0][2] == "coordinate_conversion"


def test_events_without_required_fields_are_refused_by_name(make_settings):
    s = make_settings()
    with pytest.raises(lineage.LineageEventError, match="run.runId"):
        lineage.ingest(s, {"eventType": "COMPLETE", "eventTime": "2026-11-21T00:00:00Z", "job": {"namespace": "x", "name": "y"}})
    with pytest.raises(lineage.LineageEventError, match="JSON object"):
        lineage.ingest(s, [1, 2])


def test_start_events_and_indirect_fields_make_no_edges(make_settings):
    s = make_settings()
    e = _event("analytic.t", {"c": [("base.d", "colour", "identity")]})
    e["outputs"][0]["facets"]["columnLineage"]["fields"]["c"]["inputFields"][0]["transformations"] = [{"type": "INDIRECT", "subtype": "FILTER"}]
    lineage.ingest(s, e)
    lineage.ingest(s, {**_event("analytic.u", {"c": [("base.d", "colour", "identity")]}), "eventType": "START"})
    assert lineage.edges(s) == []


def test_walk_follows_edges_both_ways_without_repeating():
    edges = [Edge("base.d", "plate_no", "analytic.t", "tok", "token"), Edge("analytic.t", "tok", "app_x.s", "tok", "token", contract="c1", consumer="x"),
             Edge("analytic.t", "tok", "analytic.f", "n", "aggregation"), Edge("base.d", "colour", "analytic.t", "colour")]
    down = lineage.walk(edges, [("base.d", "plate_no")], "downstream")
    assert [(d, e.out_dataset, e.out_column) for d, e in down] == [(1, "analytic.t", "tok"), (2, "app_x.s", "tok"), (2, "analytic.f", "n")]
    up = lineage.walk(edges, [("app_x.s", "tok")], "upstream")
    assert [(d, e.in_dataset, e.in_column) for d, e in up] == [(1, "analytic.t", "tok"), (2, "base.d", "plate_no")]


def test_levels_propagate_and_only_registered_deidentification_lowers_them():
    declared = {("base.d", "plate_no"): "L4", ("base.d", "colour"): "L2", ("analytic.t", "colour"): "L2", ("analytic.t", "tok"): "L3"}
    edges = [Edge("base.d", "plate_no", "analytic.t", "tok", "token"), Edge("analytic.t", "tok", "app.s", "tok", "identity"),
             Edge("base.d", "plate_no", "analytic.t", "colour", "derived"),  # a plate leaked into an L2 column
             Edge("analytic.t", "tok", "analytic.f", "n", "aggregation"), Edge("base.d", "plate_no", "analytic.t", "h", "hour+derived")]
    lv = levels.effective_levels(edges, declared, DEID)
    assert lv[("analytic.t", "tok")] == "L3" and lv[("app.s", "tok")] == "L3"
    assert lv[("analytic.t", "colour")] == "L4", "derived is not a de-identification: highest input wins"
    assert lv[("analytic.f", "n")] == "L2" and lv[("analytic.t", "h")] == "L2"
    assert levels.effective_levels([], {("x.y", "z"): "L3"}, DEID)[("x.y", "z")] == "L3"
    path = levels.explain(("analytic.t", "colour"), edges, lv, DEID)
    assert path.startswith("base.d.plate_no (L4) -derived-> analytic.t.colour (L4)")


def test_logical_names_of_warehouse_paths(make_settings):
    s = make_settings()
    root = s.warehouse_root
    assert lineage.logical_name(s, f"{root}/base/detections") == "base.detections"
    assert lineage.logical_name(s, f"file:{root}/application/app_traffic/sightings__0123456789abcdef") == "app_traffic.sightings"
    assert lineage.logical_name(s, "/elsewhere/base/detections") is None


# --- the real lakehouse -------------------------------------------------------------------------

def _cli(settings, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "GOVLAKE_STATE_DIR": str(settings.state)}
    return subprocess.run([sys.executable, "-m", "govlake", *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.spark
@pytest.mark.trino
def test_plate_numbers_downstream_through_every_tier(lakehouse, settings):
    r = _cli(settings, "lineage", "base.detections.plate_no", "--downstream", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    edges = {(e["from"], e["to"]): e for e in out["edges"]}
    assert edges[("base.detections.plate_no", "analytic.detections_deidentified.plate_token")]["transformation"] == "token"
    app = edges[("analytic.detections_deidentified.plate_token", "app_traffic.police_vehicle_sightings.plate_token")]
    assert (app["transformation"], app["contract"], app["consumer"], app["to_level"]) == ("token", "police-to-traffic-vehicle-sightings", "traffic", "L3")
    agg = edges[("analytic.detections_deidentified.plate_token", "analytic.flow_hourly.distinct_plates")]
    assert (agg["transformation"], agg["to_level"]) == ("aggregation", "L2")
    assert out["start"] == [{"column": "base.detections.plate_no", "level": "L4"}]
    assert out["consumers"] == ["traffic"]
    # nothing else: plate numbers reach no other column
    assert {e["to"] for e in out["edges"]} == {"analytic.detections_deidentified.plate_token", "app_traffic.police_vehicle_sightings.plate_token",
                                               "analytic.flow_hourly.distinct_plates"}
    up = json.loads(_cli(settings, "lineage", "app_transport.traffic_flows_hourly", "--upstream", "--json").stdout)
    assert {e["from"] for e in up["edges"]} >= {"analytic.flow_hourly.detections", "base.detections.observed_at"}
    human = _cli(settings, "lineage", "base.detections.plate_no")
    assert "received by: traffic (police-to-traffic-vehicle-sightings)" in human.stdout
    # upstream of base: each department's own field, recorded by the ingest
    up = json.loads(_cli(settings, "lineage", "base.detections.plate_no", "--upstream", "--json").stdout)
    assert {(e["from"], e["transformation"]) for e in up["edges"]} == {
        ("landing_police.detections.车牌号码", "identity"), ("landing_traffic.detections.plateNo", "identity"),
        ("landing_transport.detections.plate", "identity")}


@pytest.mark.spark
@pytest.mark.trino
def test_jobs_send_their_events_through_the_receiver(lakehouse, settings):
    from govlake.services import audit_receiver

    port = audit_receiver.running_port(settings)
    assert port is not None
    with store.engine(settings).connect() as conn:
        jobs = {r.job for r in conn.execute(sa.select(store.lineage_events.c.job, store.lineage_events.c.producer))}
    assert {"govlake.analytic.detections_deidentified", "govlake.contract.police-to-traffic-vehicle-sightings"} <= jobs

    def post(body: bytes, token: str) -> int:
        return post_to(audit_receiver.LINEAGE_PATH, body, token)

    def post_to(path: str, body: bytes, token: str) -> int:
        req = urllib.request.Request(f"{audit_receiver.url(port)}{path}", data=body, method="POST", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30, context=audit_receiver.client_context(settings)) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    good = json.dumps(_event("analytic.receiver_probe", {"c": [("base.cameras", "status", "identity")]})).encode()
    assert post(good, "wrong") == 403
    assert post(b"{not json", audit_receiver.lineage_token(settings)) == 400
    assert post(good, audit_receiver.token(settings)) == 403  # the audit token cannot write lineage
    assert post(good, audit_receiver.lineage_token(settings)) == 201
    trino_event = json.dumps({"metadata": {"queryId": "forged"}, "statistics": {}, "context": {"user": "x"}}).encode()
    assert post_to(audit_receiver.PATH, trino_event, audit_receiver.lineage_token(settings)) == 403  # the lineage token cannot write audit
    assert any(e.out_dataset == "analytic.receiver_probe" for e in lineage.edges(settings))
    lineage.retire(settings, ["analytic.receiver_probe"])


@pytest.mark.spark
@pytest.mark.trino
def test_publish_refuses_a_column_whose_lineage_carries_plates(lakehouse, settings, spark):
    """A job (here: a forged event) derives `vehicle_color` from raw plates: the contract that
    grants `vehicle_color` is refused with the path named, and its table is withdrawn."""
    from govlake.pipeline import main_job
    from tests.conftest import RUN_TIME

    with store.engine(settings).connect() as conn:
        original = json.loads(conn.execute(sa.select(store.lineage_events.c.payload).where(
            store.lineage_events.c.job == "govlake.analytic.detections_deidentified").order_by(store.lineage_events.c.id.desc()).limit(1)).scalar())
    forged = _event("analytic.detections_deidentified", {"vehicle_color": [("base.detections", "plate_no", "derived")]},
                    when=datetime.now(timezone.utc).isoformat(), run="forged", job=original["job"]["name"])  # the job itself reports it
    lineage.ingest(settings, forged)
    try:
        with pytest.raises(main_job.PublishRefused) as err:
            main_job.publish(spark, settings, RUN_TIME)
        msg = str(err.value)
        assert "police-to-traffic-vehicle-sightings" in msg and "`vehicle_color` is L4" in msg
        assert "base.detections.plate_no (L4) -derived-> analytic.detections_deidentified.vehicle_color (L4)" in msg
        from govlake.platform import lake, storage

        left = storage.child_dirs(settings, lake.table_path(settings, "application", "app_traffic"))
        assert not [p for p in left if storage.name(p).startswith("police_vehicle_sightings__")], left
    finally:
        lineage.ingest(settings, {**original, "eventTime": datetime.now(timezone.utc).isoformat()})
        published, _ = main_job.publish(spark, settings, RUN_TIME)
    assert "police-to-traffic-vehicle-sightings" in {p.contract for p in published}
