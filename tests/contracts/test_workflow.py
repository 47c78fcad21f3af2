"""Contract validation and the approval workflow on a private governance store (no Spark, no Trino)."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from govlake.contracts import access, spec as specs, validate, workflow
from govlake.core.errors import GovlakeError, IdentityError

NOW = datetime(2026, 11, 21, tzinfo=timezone.utc)
POLICE = "police-to-traffic-vehicle-sightings"
FLOWS = "traffic-to-transport-flows"


@pytest.fixture
def s(make_settings):
    return make_settings()


def _spec(s, name: str, tmp_path: Path, **changes) -> specs.ContractSpec:
    data = yaml.safe_load(s.path("policies", "contracts", f"{name}.yaml").read_text())
    data.update(changes)
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return specs.load_contract(path)


def rules(problems) -> set[str]:
    return {p.rule for p in problems}


def test_sample_contracts_are_valid(s, tmp_path):
    for name in (POLICE, FLOWS):
        assert validate.problems(_spec(s, name, tmp_path), s, NOW) == []
    assert validate.needs_compliance(_spec(s, POLICE, tmp_path), s)  # plate tokens are important data
    assert not validate.needs_compliance(_spec(s, FLOWS, tmp_path), s)


@pytest.mark.parametrize("changes, rule, field", [
    ({"dataset": "analytic.no_such_table"}, "unknown-dataset", "dataset"),
    ({"columns": [{"name": "plate_no"}]}, "unknown-column", "columns[0] (plate_no)"),
    ({"columns": [{"name": "plate_token", "masking": "blur"}]}, "unknown-masking", "columns[0] (plate_token).masking"),
    ({"columns": [{"name": "observed_hour", "masking": "mask_phone"}]}, "masking-type", "columns[0] (observed_hour).masking"),
    ({"columns": [{"name": "plate_token", "masking": "identity"}]}, "platform-token", "columns[0] (plate_token).masking"),
    ({"columns": [{"name": "plate_token"}]}, "platform-token", "columns[0] (plate_token).masking"),
    ({"columns": [{"name": "detection_token", "masking": "mask_plate"}]}, "platform-token", "columns[0] (detection_token).masking"),
    ({"purpose": "marketing"}, "unknown-purpose", "purpose"),
    ({"purpose": "traffic_management"}, "purpose-category", "columns[0] (plate_token)"),
    ({"valid_from": "2025-01-01T00:00:00+08:00", "valid_to": "2025-06-01T00:00:00+08:00"}, "window-past", "valid_to"),
    ({"valid_from": "2027-01-01T00:00:00+08:00", "valid_to": "2026-12-01T00:00:00+08:00"}, "window-empty", "valid_to"),
    ({"valid_to": "9999-12-31T23:00:00-08:00"}, "window-range", "valid_to"),
    ({"row_filter": "department = 'police' AND camera_id IN (SELECT 1)"}, "row-filter", "row_filter"),
    ({"row_filter": "object_type = 'motor_vehicle'"}, "provider-scope", "row_filter"),
    ({"row_filter": "department = 'traffic'"}, "provider-scope", "row_filter"),
    ({"requester": "chen_police_analyst"}, "requester", "requester"),
    ({"consumer": "police"}, "self-sharing", "consumer"),
    ({"provider": "water"}, "unknown-department", "provider"),
])
def test_each_rule_names_the_contract_field_and_rule(s, tmp_path, changes, rule, field):
    spec = _spec(s, POLICE, tmp_path, **changes)
    found = validate.problems(spec, s, NOW)
    hit = [p for p in found if p.rule == rule]
    assert hit, found
    assert hit[0].field == field
    assert hit[0].render(spec.id).startswith(f"contract `{spec.id}` field `{field}` [{rule}]")


def test_a_column_above_the_purpose_level_needs_a_lowering_mask(s, tmp_path, monkeypatch):
    flows = _spec(s, FLOWS, tmp_path, dataset="analytic.detections_deidentified", table="t",
                  columns=[{"name": "plate_token", "masking": "token"}], row_filter="department = 'traffic'", purpose="public_security")
    assert validate.problems(flows, s, NOW) == []  # L3 allowed for public security
    strict = _spec(s, POLICE, tmp_path, purpose="urban_planning", columns=[{"name": "camera_id"}, {"name": "observed_hour"}])
    assert rules(validate.problems(strict, s, NOW)) == {"purpose-category"}  # detection rows are not for planning
    # an L3 column under an L2 purpose: unmasked is refused, a token (L3) too, suppression passes
    stricter = dict(validate.purposes(s))
    stricter["public_security"] = stricter["public_security"].model_copy(update={"max_level": "L2"})
    monkeypatch.setattr(validate, "purposes", lambda _s: stricter)
    unmasked = _spec(s, POLICE, tmp_path, columns=[{"name": "plate_token"}])
    assert rules(validate.problems(unmasked, s, NOW)) == {"level-unmasked", "platform-token"}
    tokenised = _spec(s, POLICE, tmp_path, columns=[{"name": "plate_token", "masking": "token"}])
    assert rules(validate.problems(tokenised, s, NOW)) == {"level-after-masking"}
    dropped = _spec(s, POLICE, tmp_path, columns=[{"name": "camera_id"}, {"name": "plate_token", "masking": "suppress"}])
    assert validate.problems(dropped, s, NOW) == []


def _through_to_submitted(s, tmp_path, name=POLICE):
    spec = _spec(s, name, tmp_path)
    workflow.new(s, spec, spec.requester, NOW)
    return workflow.submit(s, spec.id, spec.requester, NOW)


def test_steward_and_compliance_approve_then_it_is_active_and_in_the_rules(s, tmp_path):
    rec = _through_to_submitted(s, tmp_path)
    assert rec.status == "submitted" and rec.needs_compliance
    rec = workflow.approve(s, POLICE, "wang_police_steward", NOW)
    assert rec.status == "submitted" and [a["capacity"] for a in rec.approvals] == ["steward"]
    assert workflow.refresh_active(s, NOW) == []
    rec = workflow.approve(s, POLICE, "zhao_compliance", NOW)
    assert rec.status == "active"
    compiled = json.loads(access.rules_path(s).read_text())
    grants = [r for r in compiled["tables"] if r.get("schema") == "app_traffic" and "team_traffic_analyst" in r["group"]]
    assert len(grants) == 1
    masks = {c["name"]: c["mask"] for c in grants[0]["columns"] if "mask" in c}
    assert set(masks) == {"plate_token", "observed_hour"}  # conformance masks repeat the contract's methods
    assert {c["name"] for c in grants[0]["columns"] if c.get("allow") is False} >= {"$path", "$file_size"}
    actions = [(e["action"], e["to_status"], e["actor"]) for e in rec.events]
    assert actions == [("new", "draft", "zhou_traffic_analyst"), ("submit", "submitted", "zhou_traffic_analyst"),
                       ("approve", "submitted", "wang_police_steward"), ("approve", "approved", "zhao_compliance"),
                       ("activate", "active", "system")]
    assert all(e["spec_hash"] == rec.spec_hash for e in rec.events)


def test_separation_of_duties(s, tmp_path):
    _through_to_submitted(s, tmp_path)
    with pytest.raises(GovlakeError, match="separation of duties"):
        workflow.approve(s, POLICE, "zhou_traffic_analyst", NOW)  # the requester
    with pytest.raises(GovlakeError, match="steward of the consumer"):
        workflow.approve(s, POLICE, "liu_traffic_steward", NOW)
    with pytest.raises(IdentityError):
        workflow.approve(s, POLICE, "chen_police_analyst", NOW)  # provider analyst
    with pytest.raises(IdentityError):
        workflow.approve(s, POLICE, "ops_admin", NOW)
    with pytest.raises(GovlakeError, match="only they can create"):
        workflow.new(s, _spec(s, FLOWS, tmp_path), "zhou_traffic_analyst", NOW)
    workflow.approve(s, POLICE, "wang_police_steward", NOW)
    with pytest.raises(GovlakeError, match="already has a steward approval"):
        workflow.approve(s, POLICE, "wang_police_steward", NOW)
    assert workflow.get(s, POLICE).status == "submitted"


def test_editing_an_active_contract_voids_its_approvals(s, tmp_path):
    _through_to_submitted(s, tmp_path, FLOWS)
    assert workflow.approve(s, FLOWS, "liu_traffic_steward", NOW).status == "active"
    assert [x.id for x in workflow.refresh_active(s, NOW)] == [FLOWS]
    changed = _spec(s, FLOWS, tmp_path, columns=[{"name": "region_code"}, {"name": "observed_hour"}])
    rec = workflow.submit(s, FLOWS, "li_transport_analyst", NOW, changed)
    assert rec.status == "submitted" and rec.approvals == [] and "earlier approvals no longer apply" in rec.reason
    assert workflow.refresh_active(s, NOW) == []
    compiled = json.loads(access.rules_path(s).read_text())
    assert not [r for r in compiled["tables"] if r.get("schema") == "app_transport"]
    diff = workflow.diff(s, FLOWS)
    assert "-- name: object_type" in diff and "-- name: detections" in diff
    assert workflow.approve(s, FLOWS, "liu_traffic_steward", NOW).status == "active"
    assert workflow.diff(s, FLOWS) == ""


def test_reject_revoke_and_expiry_are_recorded(s, tmp_path):
    _through_to_submitted(s, tmp_path, FLOWS)
    with pytest.raises(GovlakeError, match="needs a reason"):
        workflow.reject(s, FLOWS, "liu_traffic_steward", " ", NOW)
    rec = workflow.reject(s, FLOWS, "liu_traffic_steward", "purpose too broad", NOW)
    assert rec.status == "rejected" and rec.reason == "purpose too broad"
    workflow.submit(s, FLOWS, "li_transport_analyst", NOW)
    workflow.approve(s, FLOWS, "liu_traffic_steward", NOW)
    with pytest.raises(IdentityError):
        workflow.revoke(s, FLOWS, "li_transport_analyst", "no longer needed", NOW)
    rec = workflow.revoke(s, FLOWS, "zhao_compliance", "audit finding", NOW)
    assert rec.status == "revoked" and rec.events[-1]["actor"] == "zhao_compliance"
    with pytest.raises(GovlakeError, match="revoked"):
        workflow.submit(s, FLOWS, "li_transport_analyst", NOW)
    # expiry
    _through_to_submitted(s, tmp_path, POLICE)
    workflow.approve(s, POLICE, "wang_police_steward", NOW)
    workflow.approve(s, POLICE, "zhao_compliance", NOW)
    later = workflow.get(s, POLICE).valid_to + timedelta(seconds=1)
    assert workflow.refresh(s, later) == [(POLICE, "active", "expired")]
    assert workflow.refresh_active(s, later) == []


def test_two_open_contracts_cannot_publish_the_same_application_table(s, tmp_path):
    """Otherwise the later replaces the earlier in the catalog while the earlier provider's steward
    rule still matches the name: one provider's steward would read another provider's data."""
    _through_to_submitted(s, tmp_path, POLICE)
    workflow.approve(s, POLICE, "wang_police_steward", NOW)
    workflow.approve(s, POLICE, "zhao_compliance", NOW)
    # transport's hourly flows, requested by traffic under the police contract's table name
    squatter = _spec(s, FLOWS, tmp_path, id="transport-to-traffic-flows", provider="transport", consumer="traffic",
                     requester="zhou_traffic_analyst", table="police_vehicle_sightings", row_filter="department = 'transport'")
    with pytest.raises(workflow.WorkflowError, match="`app_traffic.police_vehicle_sightings`.*police-to-traffic-vehicle-sightings"):
        workflow.new(s, squatter, "zhou_traffic_analyst", NOW)
    # a draft under its own name cannot be moved onto the taken table by an amendment either
    own = squatter.model_copy(update={"table": "transport_flows"})
    workflow.new(s, own, "zhou_traffic_analyst", NOW)
    with pytest.raises(workflow.WorkflowError, match="already publishes"):
        workflow.submit(s, own.id, "zhou_traffic_analyst", NOW, squatter)
    assert workflow.get(s, own.id).status == "draft"
    # once the first contract has ended, its table name is free again
    workflow.revoke(s, POLICE, "wang_police_steward", "operation over", NOW)
    assert workflow.submit(s, own.id, "zhou_traffic_analyst", NOW, squatter).status == "submitted"


def test_rules_grant_neither_of_two_contracts_on_one_table(s, tmp_path):
    """Defence for a store written before the workflow refused it: no rule matches a table two
    active contracts claim, and the columns a rule does not grant are denied by name."""
    flows = _spec(s, FLOWS, tmp_path)
    clash = flows.model_copy(update={"id": "other-flows", "provider": "police", "row_filter": "department = 'police'"})
    alone = flows.model_copy(update={"id": "alone-flows", "table": "alone"})
    compiled = access.compile_rules(s, [flows, clash, alone])
    granted = {r["table"] for r in compiled["tables"] if r.get("schema") == "app_transport"}
    assert granted == {"alone"}
    [rule] = [r for r in compiled["tables"] if r.get("table") == "alone" and "team_transport_analyst" in r["group"]]
    denied = {c["name"] for c in rule["columns"] if c.get("allow") is False}
    assert {"department", "plate_token", "avg_confidence", "distinct_plates"} <= denied
    assert not denied & {"region_code", "observed_hour", "object_type", "detections"}
    assert "fail(" in rule["filter"] and "alone-flows" in rule["filter"]


def test_a_contract_approved_before_the_token_rule_does_not_publish_raw_platform_tokens(s, tmp_path):
    from govlake.pipeline import application

    raw = _spec(s, POLICE, tmp_path).model_copy(update={"columns": [specs.GrantedColumn(name="plate_token"), specs.GrantedColumn(name="camera_id")]})
    [reason] = application.raw_platform_tokens(s, raw)
    assert "`plate_token` holds platform tokens" in reason
    assert application.raw_platform_tokens(s, _spec(s, POLICE, tmp_path)) == []


def test_a_contract_whose_rule_cannot_be_compiled_is_denied_and_the_others_still_granted(s, tmp_path):
    flows = _spec(s, FLOWS, tmp_path)
    broken = flows.model_copy(update={"id": "broken-flows", "table": "broken",
                                      "valid_to": datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-8)))})
    tables = {r["table"] for r in access.compile_rules(s, [flows, broken])["tables"] if r.get("schema") == "app_transport"}
    assert tables == {flows.table}


def test_rules_for_a_thousand_contracts_compile_quickly_and_deny_by_default(s):
    import time

    base = yaml.safe_load(s.path("policies", "contracts", f"{FLOWS}.yaml").read_text())
    many = [specs.ContractSpec.model_validate({**base, "id": f"c-{i:04d}", "table": f"t{i}"}) for i in range(1000)]
    t0 = time.perf_counter()
    compiled = access.compile_rules(s, many)
    took = time.perf_counter() - t0
    assert len([r for r in compiled["tables"] if r.get("schema") == "app_transport"]) == 2000
    assert compiled["tables"][0]["group"] == "role_operator"
    assert compiled["tables"][1]["table"] == r".*\$.*" and compiled["tables"][1]["privileges"] == []
    assert compiled["catalogs"][-1] == {"catalog": ".*", "allow": "none"}
    print(f"compiled rules for 1000 contracts in {took:.3f}s")


def test_contract_cli(s, tmp_path):
    env = {"GOVLAKE_STATE_DIR": str(s.state), "PATH": "/usr/bin:/bin"}
    import os

    env = {**os.environ, **env}

    def g(*args):
        return subprocess.run([sys.executable, "-m", "govlake", "contract", *args, "--at", NOW.isoformat()], env=env,
                              capture_output=True, text=True, timeout=120)

    path = s.path("policies", "contracts", f"{FLOWS}.yaml")
    assert g("validate", str(path)).returncode == 0
    bad = tmp_path / f"{FLOWS}.yaml"
    bad.write_text(path.read_text().replace("department = 'traffic' AND ", ""))
    out = g("validate", str(bad), "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["problems"][0]["rule"] == "provider-scope"
    assert g("new", str(path), "--as", "li_transport_analyst").returncode == 0
    assert g("submit", FLOWS, "--as", "li_transport_analyst").returncode == 0
    refused = g("approve", FLOWS, "--as", "li_transport_analyst")
    assert refused.returncode != 0 and "separation of duties" in refused.stderr
    assert g("approve", FLOWS, "--as", "liu_traffic_steward").returncode == 0
    listed = json.loads(g("list", "--json").stdout)["contracts"]
    assert [(c["id"], c["status"]) for c in listed] == [(FLOWS, "active")]
    shown = g("show", FLOWS)
    assert "approve" in shown.stdout and "liu_traffic_steward" in shown.stdout
    assert g("revoke", FLOWS, "--as", "liu_traffic_steward").returncode != 0  # no reason
    assert g("revoke", FLOWS, "--as", "liu_traffic_steward", "--reason", "done").returncode == 0


def test_rules_and_publish_reparse_the_filter_even_if_the_store_was_tampered_with(s, tmp_path):
    from govlake.contracts import filters

    spec = _spec(s, FLOWS, tmp_path)
    evil = spec.model_copy(update={"row_filter": "department = 'traffic' AND region_code IN (SELECT region_code FROM base.cameras)"})
    with pytest.raises(filters.FilterError):
        access.analyst_rule("lake", evil)
