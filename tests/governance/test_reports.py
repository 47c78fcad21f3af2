"""The compliance and transparency reports: indicators computed from plain rows, small counts
never published, fairness gaps flagged; end to end over the sample lakehouse."""
from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from govlake.compliance import reports
from govlake.core.errors import ConfigError
from govlake.platform import lake

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
END = datetime(2026, 11, 30, tzinfo=timezone.utc)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.fixture
def make_contract():
    def make(**overrides) -> dict:
        c = {"id": "police-to-traffic", "provider": "police", "consumer": "traffic", "dataset": "analytic.detections_deidentified",
             "table": "sightings", "purpose": "public_security", "categories": ["detection_records"],
             "valid_from": T0, "valid_to": T0 + timedelta(days=365)}
        c.update(overrides)
        return c

    return make


def ev(contract_id: str, *steps: tuple[str, datetime]) -> list[dict]:
    return [{"contract_id": contract_id, "to_status": to, "at": at} for to, at in steps]


def activated(contract_id: str, at: datetime = T0) -> list[dict]:
    return ev(contract_id, ("draft", at), ("submitted", at), ("approved", at), ("active", at))


def inputs(**kw) -> reports.Inputs:
    return reports.Inputs(start=kw.pop("start", T0), end=kw.pop("end", END), **kw)


def q(action: str, actor: str = "etl_service", *tables: str) -> dict:
    return {"actor": actor, "action": action, "at": "", "tables": list(tables)}


def test_a_count_of_9_is_never_published_and_the_total_does_not_reveal_it(make_contract):
    contracts = [make_contract(), make_contract(id="traffic-to-transport", provider="traffic", consumer="transport",
                                                table="flows", purpose="traffic_management", categories=["aggregate_flows"])]
    queries = ([q("query.completed", "zhou_traffic_analyst", "lake.app_traffic.sightings")] * 9
               + [q("query.completed", "li_transport_analyst", "lake.app_transport.flows")] * 25
               + [q("query.denied", "li_transport_analyst", "lake.app_traffic.sightings")] * 3)
    r = reports.transparency(inputs(contracts=contracts, events=activated(contracts[0]["id"]) + activated(contracts[1]["id"]),
                                    queries=queries), {"police": "Public Security Bureau", "traffic": "Traffic Police"}, {})
    assert [(s["provider"], s["consumer"], s["accesses"]) for s in r["sharing"]] == [
        ("Public Security Bureau", "Traffic Police", "<10"), ("Traffic Police", "transport", 25)]
    assert r["total_accesses"] == ">=25"  # 34 - 25 would give the 9 away
    text = reports.render_text("t", reports.transparency_sections(r))
    page = reports.render_html("t", reports.transparency_sections(r))
    for out in (text, page, json.dumps(r)):
        assert not re.search(r"(?<![\d.])(9|34)(?![\d.])", out), out
    assert "zhou_traffic_analyst" not in json.dumps(r) + text  # no user names in the disclosure


def test_totals_are_exact_only_when_no_cell_is_hidden():
    assert reports.suppressed_total([10, 25]) == 35
    assert reports.suppressed_total([9, 9, 40]) == ">=40"  # 58 - 40 = 18 would pin both cells to 9
    assert reports.suppressed_total([3, 4]) == "suppressed"
    assert reports.suppressed_total([]) == "<10"
    assert [reports.suppress(n) for n in (0, 9, 10)] == ["<10", "<10", 10]


def test_security_incidents_per_10000_and_compliant_share():
    analysts = {"zhou_traffic_analyst": "traffic"}
    queries = ([q("query.completed", "zhou_traffic_analyst", "lake.app_traffic.sightings")] * 6
               + [q("query.completed", "zhou_traffic_analyst", "lake.information_schema.tables", "system.runtime.nodes")]
               + [q("query.failed", "zhou_traffic_analyst")]
               + [q("query.denied", "zhou_traffic_analyst", "lake.base.detections")]
               + [q("query.completed", "zhou_traffic_analyst", "lake.app_traffic.sightings", "lake.analytic.flow_hourly")])
    s = reports.security(queries, analysts, "lake")
    assert (s["accesses"], s["completed"], s["failed"], s["denied"], s["ungranted_reads"], s["incidents"]) == (10, 8, 1, 1, 1, 2)
    assert s["incidents_per_10000"] == pytest.approx(2000) and s["compliant_share"] == pytest.approx(0.8)
    assert s["meets_targets"] is False
    assert reports.security([], analysts, "lake")["incidents_per_10000"] is None


def test_an_analyst_is_judged_by_the_groups_they_had_when_the_query_ran():
    """zhou moved from traffic to transport and back: the reads of app_transport made while in
    transport are no incident, nor are reads made before becoming an analyst at all."""
    analysts = {"zhou_traffic_analyst": "traffic"}
    moved = {**q("query.completed", "zhou_traffic_analyst", "lake.app_transport.flows"),
             "groups": ["dept_transport", "role_analyst", "team_transport_analyst"]}
    steward = {**q("query.completed", "zhou_traffic_analyst", "lake.base.detections"),
               "groups": ["dept_traffic", "role_steward", "team_traffic_steward"]}
    as_traffic = {**q("query.completed", "zhou_traffic_analyst", "lake.app_transport.flows"),
                  "groups": ["dept_traffic", "role_analyst", "team_traffic_analyst"]}
    assert reports.security([moved, steward], analysts, "lake")["ungranted_reads"] == 0
    assert reports.security([as_traffic], analysts, "lake")["ungranted_reads"] == 1


def test_key_datasets_count_only_contracts_active_at_the_end(make_contract):
    contracts = [make_contract(id="a"), make_contract(id="b", dataset="analytic.flow_hourly"),
                 make_contract(id="c", dataset="analytic.events_deidentified", valid_to=h(24)),  # validity over, refresh not run
                 make_contract(id="d", dataset="analytic.fairness_monitor")]
    events = activated("a") + activated("b") + ev("b", ("revoked", h(5))) + activated("c") + ev("d", ("draft", T0), ("submitted", T0))
    r = reports.compliance(inputs(contracts=contracts, events=events,
                                  analytic_tables=["detections_deidentified", "flow_hourly", "events_deidentified", "fairness_monitor"]))
    kd = r["key_datasets"]
    assert (kd["key_datasets"], kd["shared"], kd["share"]) == (4, 1, 0.25)
    assert kd["contracts_by_dataset"]["detections_deidentified"] == ["a"] and kd["meets_target"] is False
    earlier = reports.compliance(inputs(contracts=contracts, events=events, end=h(2), analytic_tables=["flow_hourly", "events_deidentified"]))
    assert earlier["key_datasets"]["shared"] == 2


def test_contract_turnaround_from_submission_to_approval():
    events = (ev("a", ("draft", h(0)), ("submitted", h(1)), ("submitted", h(3)), ("approved", h(6)), ("active", h(6)))  # 5 h
              + ev("b", ("submitted", h(0)), ("submitted", h(2)), ("approved", h(20)))  # steward, then compliance: 20 h
              + ev("b", ("submitted", h(30)), ("approved", h(31)))  # an amendment: 1 h
              + ev("c", ("submitted", h(0)), ("rejected", h(4)))  # not an approval
              + ev("d", ("submitted", h(10))))  # still waiting
    r = reports.turnaround(reports._by_contract(events), T0, END)
    assert r == {"count": 3, "median_hours": 5.0, "max_hours": 20.0, "pending": 1}
    assert reports.turnaround(reports._by_contract(events), h(7), END)["count"] == 2  # approvals inside the window only


def test_contracts_expiring_within_the_configured_days(make_contract):
    contracts = [make_contract(id="soon", valid_to=END + timedelta(days=10)), make_contract(id="later", valid_to=END + timedelta(days=40)),
                 make_contract(id="revoked", valid_to=END + timedelta(days=5))]
    events = activated("soon") + activated("later") + activated("revoked") + ev("revoked", ("revoked", h(1)))
    grouped = reports._by_contract(events)
    assert [c["contract"] for c in reports.expiring(contracts, grouped, END, 30)] == ["soon"]
    assert [c["contract"] for c in reports.expiring(contracts, grouped, END, 45)] == ["soon", "later"]
    assert reports.expiring(contracts, grouped, END, 30)[0]["days_left"] == 10.0


def test_quality_gate_counts_batches_in_the_window():
    batches = [{"batch_id": f"b{i}", "department": "police", "entity": "detections", "quality_status": s, "ingested_at": at}
               for i, (s, at) in enumerate([("passed", h(1)), ("failed", h(2)), ("not_run", h(3)), ("failed", T0 - timedelta(days=1))])]
    results = [{"batch_id": "b1", "expectation": "expect_column_values_to_not_be_null", "column_name": "camera_id", "critical": "true",
                "success": "false", "checked_at": h(2)},
               {"batch_id": "b0", "expectation": "expect_column_values_to_be_between", "column_name": "confidence", "critical": "false",
                "success": "true", "checked_at": h(1)}]
    r = reports.quality_gate(batches, results, T0, END)
    assert (r["batches"], r["failed"], r["by_status"]) == (3, 1, {"failed": 1, "not_run": 1, "passed": 1})
    assert r["failed_batches"] == [{"batch_id": "b1", "department": "police", "entity": "detections"}]
    assert r["failed_expectations"] == [{"expectation": "expect_column_values_to_not_be_null", "column": "camera_id", "critical": True, "count": 1}]
    assert reports.quality_gate(None, None, T0, END) == {"available": False}


def fm(department: str, region: str, version: str, n: int, mean: float, reviewed=None, fpr=None) -> dict:
    return {"department": department, "region_code": region, "model_version": version, "detections": n, "mean_confidence": mean,
            "low_confidence_share": 0.1, "reviewed": reviewed, "false_positive_rate": fpr}


def test_fairness_gaps_above_the_threshold_are_flagged():
    rows = [fm("police", "110105", "v3.1", 100, 0.80), fm("police", "110105", "v3.2", 300, 0.84),
            fm("traffic", "110108", "v3.1", 100, 0.76), fm("traffic", "110108", "v3.2", 100, 0.76)]
    r = reports.fairness_gaps(rows, 5, ["mean_confidence", "false_positive_rate"], ["department", "region_code", "model_version"])
    by = {(c["dimension"], c["metric"]): c for c in r["comparisons"]}
    # police 0.83 (weighted by detections) vs traffic 0.76: 7 points; v3.2 0.82 vs v3.1 0.78: 4 points
    assert by["department", "mean_confidence"]["gap_pp"] == pytest.approx(7.0) and by["department", "mean_confidence"]["flagged"]
    assert (by["department", "mean_confidence"]["highest"], by["department", "mean_confidence"]["lowest"]) == ("police", "traffic")
    assert by["region_code", "mean_confidence"]["flagged"]
    assert by["model_version", "mean_confidence"]["gap_pp"] == pytest.approx(4.0) and not by["model_version", "mean_confidence"]["flagged"]
    assert r["not_measurable"] == ["false_positive_rate"] and len(r["flags"]) == 2
    assert not reports.fairness_gaps(rows, 8, ["mean_confidence"], ["department"])["flags"]


def test_false_positive_rate_is_compared_when_reviews_exist():
    rows = [fm("police", "1", "v1", 100, 0.8, reviewed=50, fpr=0.02), fm("traffic", "1", "v1", 100, 0.8, reviewed=10, fpr=0.12)]
    r = reports.fairness_gaps(rows, 5, ["false_positive_rate"], ["department"])
    assert r["flags"][0]["gap_pp"] == pytest.approx(10.0) and r["not_measurable"] == []


def test_the_window_takes_whole_utc_days_and_refuses_bad_input():
    now = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    assert reports.window("2026-11-01", "2026-11-30", now) == (T0, datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert reports.window(None, None, now) == (now - timedelta(days=30), now)
    with pytest.raises(ConfigError, match="--to `2026-11-01T08:00:00` needs a timezone offset"):
        reports.window(None, "2026-11-01T08:00:00", now)
    with pytest.raises(ConfigError, match="window is empty"):
        reports.window("2026-11-05", "2026-11-01", now)
    with pytest.raises(ConfigError, match="not an ISO date"):
        reports.window("yesterday", None, now)


def test_html_is_self_contained_and_escaped(make_contract):
    c = make_contract()
    r = reports.transparency(inputs(contracts=[c], events=activated(c["id"])), {"police": "<script>alert(1)</script>"}, {})
    page = reports.render_html("a & b", reports.transparency_sections(r))
    assert "<script>" not in page and "&lt;script&gt;" in page and "a &amp; b" in page
    assert "http" not in page.lower() and page.startswith("<!DOCTYPE html>")


@pytest.mark.spark
def test_reports_over_the_sample_lakehouse(settings, lakehouse, spark):
    import sqlalchemy as sa

    from govlake.contracts.spec import parse
    from govlake.core.errors import QueryError
    from govlake.domain import policies
    from govlake.governance import store
    from govlake.services import sql
    from tests.conftest import RUN_TIME

    A, C, E = store.audit_log, store.contracts, store.contract_events

    def count(cond, table=A) -> int:
        with store.engine(settings).connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table).where(cond)).scalar_one()

    granted = A.c.detail.like('%"lake.app_traffic.police_vehicle_sightings"%') & (A.c.action == "query.completed")
    before = count(granted), count(A.c.action == "query.denied")
    sql.query(settings, "zhou_traffic_analyst", "SELECT count(*) FROM app_traffic.police_vehicle_sightings")
    with pytest.raises(QueryError):
        sql.query(settings, "zhou_traffic_analyst", "SELECT count(*) FROM base.detections")
    deadline = time.monotonic() + 60  # the receiver records Trino's events asynchronously
    while (count(granted), count(A.c.action == "query.denied")) < (before[0] + 1, before[1] + 1) and time.monotonic() < deadline:
        time.sleep(0.5)
    start, end = RUN_TIME - timedelta(days=1), datetime.now(timezone.utc) + timedelta(minutes=1)
    inputs = reports.gather(settings, start, end, spark=spark)
    r = reports.compliance(inputs, fairness_policy=policies.fairness(settings))

    sec = r["security"]
    assert sec["accesses"] == count(A.c.action.like("query.%")) > 0
    assert sec["denied"] == count(A.c.action == "query.denied") > before[1] and sec["ungranted_reads"] == 0
    assert sec["incidents_per_10000"] == pytest.approx(sec["denied"] / sec["accesses"] * 10_000)
    with store.engine(settings).connect() as conn:
        active = {parse(c.spec_yaml, c.id).dataset for c in conn.execute(sa.select(C).where(C.c.status == "active"))}
    analytic = sorted(p.stem for p in settings.path("schemas", "analytic").glob("*.yaml"))
    assert (r["key_datasets"]["shared"], r["key_datasets"]["key_datasets"]) == (len(active), len(analytic))
    assert "analytic.fairness_monitor" not in active and len(active) >= 2 and "fairness_monitor" in analytic
    assert r["contract_turnaround"]["count"] == count(E.c.to_status == "approved", E) >= 2  # all at RUN_TIME, inside the window
    assert r["contract_turnaround"]["pending"] == count(C.c.status == "submitted", C)

    read = lambda tier, t: spark.read.format("delta").load(lake.table_path(settings, tier, t))  # noqa: E731
    assert r["quality_gate"]["batches"] == read("base", "batch_log").count() > 0
    assert r["quality_gate"]["failed"] == read("base", "batch_log").where("quality_status = 'failed'").count()
    expected: dict[tuple, list[float]] = {}
    for d in read("analytic", "detections_deidentified").collect():
        expected.setdefault((d.department, d.region_code, d.model_version), []).append(d.confidence)
    k = policies.masking_methods(settings)["small_group_suppression"].k
    monitor = {(m["department"], m["region_code"], m["model_version"]): m for m in inputs.fairness}
    assert set(monitor) == {g for g, v in expected.items() if len(v) >= k} and len(monitor) >= 6
    for g, m in monitor.items():
        assert m["detections"] == len(expected[g]) and m["mean_confidence"] == pytest.approx(sum(expected[g]) / len(expected[g]), abs=1e-4)
        assert m["low_confidence_share"] == pytest.approx(sum(c < 0.6 for c in expected[g]) / len(expected[g]), abs=1e-4)
        assert m["reviewed"] is None and m["false_positive_rate"] is None
    assert r["fairness"]["not_measurable"] == ["false_positive_rate"] and len(r["fairness"]["comparisons"]) == 3

    # residue in the analytic tier's scrubbed notes: every non-empty note checked, none flagged by
    # the recognizers at the suspicion threshold; the report and its text rendering name no note
    notes = [n.note_scrubbed for n in read("analytic", "events_deidentified").select("note_scrubbed").collect()]
    res = r["free_text_residue"]
    assert res["available"] and res["checked"] == sum(1 for n in notes if n and n.strip()) > 100
    assert res["classifier"]["flagged"] == 0, res
    assert 0 <= res["second_opinion"]["share"] < 0.05 and res["either"]["flagged"] >= res["second_opinion"]["flagged"]
    text = reports.render_text("compliance", reports.compliance_sections(r))
    assert "scrubbed notes still holding personal information" in text and not any(n in text for n in notes if n and len(n) > 12)

    t = reports.transparency(reports.gather(settings, start, end), {"police": "PSB", "traffic": "TP", "transport": "TB"},
                             policies.purposes(settings))
    reads = count(granted)
    row = next(s for s in t["sharing"] if (s["provider"], s["consumer"]) == ("PSB", "TP"))
    assert reads >= 1 and row["accesses"] == reports.suppress(reads)
    assert row["categories"] == ["detection_records", "pseudonymous_tracks"]
    assert all(not isinstance(s["accesses"], int) or s["accesses"] >= 10 for s in t["sharing"])
