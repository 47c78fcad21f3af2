"""The facade every shell calls: operations that need no server, called as the CLI, the DAGs and
the console call them (data back, govlake's own errors with what to do)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from govlake.context import Context
from govlake.core.errors import ConfigError, GovlakeError

WHEN = datetime(2026, 11, 21, tzinfo=timezone.utc)


@pytest.fixture
def ctx(make_settings):
    return Context(make_settings())


def test_a_contract_file_is_checked_without_recording_it(ctx):
    path = ctx.settings.path("policies", "contracts", "traffic-to-transport-flows.yaml")
    check = ctx.check_contract(str(path), WHEN)
    assert check.spec.id == "traffic-to-transport-flows" and check.problems == []
    assert ctx.contracts() == []  # checking is not submitting


def test_an_unknown_contract_id_is_an_error_naming_it(ctx):
    with pytest.raises(GovlakeError, match="no-such-contract"):
        ctx.check_contract("no-such-contract", WHEN)


def test_lineage_refuses_a_direction_it_does_not_know(ctx):
    with pytest.raises(ConfigError, match="sideways"):
        ctx.lineage("base.detections", "sideways")


def test_lineage_of_an_unknown_table_says_how_to_find_a_name(ctx):
    with pytest.raises(GovlakeError, match="has no lineage and no schema"):
        ctx.lineage("base.nothing_here", "downstream")


def test_a_declared_table_has_lineage_start_points_with_their_levels(ctx):
    found = ctx.lineage("base.detections.plate_no", "downstream")
    assert found["start"] == [{"column": "base.detections.plate_no", "level": "L4"}]


def test_sample_feeds_refuse_an_unknown_fault_kind(ctx, tmp_path):
    with pytest.raises(ConfigError, match="unknown fault kind.*no_such_fault"):
        ctx.generate_feeds(tmp_path, department="police", rows=10, seed=1, start=WHEN, faults=("no_such_fault",))


def test_sample_feeds_for_a_registered_department(ctx, tmp_path):
    feeds = ctx.generate_feeds(tmp_path, department="police", rows=10, seed=1, start=WHEN)
    assert set(feeds) == {"police"} and all(p.is_file() for p in feeds["police"].paths.values())


def test_a_report_of_an_unknown_kind_or_negative_horizon_is_refused(ctx):
    with pytest.raises(ConfigError, match="expiring-days"):
        ctx.report("compliance", None, None, expiring_days=-1)
    with pytest.raises(ConfigError, match="not compliance or transparency"):
        ctx.report("weekly", None, None)


def test_an_empty_erasure_identifier_is_refused_before_anything_runs(ctx):
    with pytest.raises(ConfigError, match="identifier is empty"):
        ctx.subject_token(identifier="")


def test_department_files_are_checked_one_by_one(ctx, tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: broken\n", encoding="utf-8")
    found = ctx.check_department_files([bad])
    assert list(found) == [bad] and "broken.yaml" in found[bad]
    assert all(error is None for error in ctx.check_department_files([]).values())


def test_a_refused_query_is_explained_from_the_workflow_record(ctx, tmp_path):
    import yaml

    data = yaml.safe_load(ctx.settings.path("policies", "contracts", "traffic-to-transport-flows.yaml").read_text())
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    ctx.new_contract(path, "li_transport_analyst", WHEN)
    ctx.submit_contract(data["id"], "li_transport_analyst", WHEN)
    ctx.approve_contract(data["id"], "liu_traffic_steward", WHEN)
    ctx.revoke_contract(data["id"], "liu_traffic_steward", "purpose <b>ended</b>", WHEN)
    why = ctx.explain_refusal("li_transport_analyst", f"SELECT count(*) FROM app_transport.{data['table']} t JOIN base.cameras c ON true")
    assert any(f"contract `{data['id']}`" in r and "revoked" in r and "liu_traffic_steward" in r and "purpose <b>ended</b>" in r for r in why)
    assert any("`base.cameras` is in the base tier" in r for r in why)
    other = ctx.explain_refusal("zhou_traffic_analyst", f"SELECT * FROM app_transport.{data['table']}")
    assert other == [f"`app_transport.{data['table']}` is shared by contract `{data['id']}` with department `transport`, not with `traffic`"]
    assert ctx.explain_refusal("li_transport_analyst", "SELEC nonsense (") == []
