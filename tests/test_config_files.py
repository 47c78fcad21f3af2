"""Every declarative file in the repository validates through its typed model."""
from __future__ import annotations

import re

import pytest
import yaml

from govlake.compliance import erasure, retention
from govlake.contracts import spec
from govlake.core import config
from govlake.core.errors import ConfigError
from govlake.departments import generator, registry
from govlake.domain import identities, levels, policies, quality, schemas
from govlake.pipeline.ingest import rules
from govlake.platform import artifacts


def test_every_schema_file_validates_and_classifies_every_column(settings):
    files = schemas.all_schema_files(settings)
    assert len(files) >= 5
    classification = policies.classification(settings)
    known_levels = {lvl.id for lvl in classification.levels}
    for f in files:
        schema = schemas.load_schema(settings, f.parent.name, f.stem)
        assert schema.tier == f.parent.name
        for col in schema.columns:
            assert col.level in known_levels, f"{f}: {col.name}"
            if col.pii_type:
                assert col.pii_type in classification.pii_types, f"{f}: {col.name} has unknown PII type"


def test_every_department_file_validates(settings):
    depts = registry.load_all(settings)
    assert {d.id for d in depts} >= {"police", "traffic", "transport"}
    assert len({d.sources["detections"].format for d in depts}) == 3, "sample departments must differ in format"


def test_every_contract_file_validates(settings):
    depts = {d.id for d in registry.load_all(settings)}
    purposes = policies.purposes(settings)
    users = {i.user for i in identities.load(settings).identities}
    for c in spec.load_all(settings):
        assert c.provider in depts and c.consumer in depts
        assert c.purpose in purposes
        assert c.requester in users


def test_artifact_manifest_pins_every_file(settings):
    manifest = artifacts.load_manifest(settings)
    assert manifest.by_role("spark") and len(manifest.by_role("trino")) == 1
    for a in manifest.artifacts:
        assert len(a.sha256) == 64 and int(a.sha256, 16) >= 0


def test_stewards_are_registered_stewards_of_their_department(settings):
    reg = identities.load(settings)
    for d in registry.load_all(settings):
        for s in d.stewards:
            ident = reg.get(s)
            assert ident.role.value == "steward" and ident.department == d.id


def test_every_policy_file_validates_through_its_typed_model(settings):
    """classification, masking, purposes, fairness, retention and erasure: typed, nothing unknown."""
    for name in policies.FILES:
        assert policies.load(settings, name) is not None
    assert retention.load_policy(settings).periods and erasure.load_policy(settings).identifiers
    assert policies.classification(settings).levels[-1].id == levels.LEVELS[-1]


@pytest.mark.parametrize("name", [*policies.FILES, "retention.yaml", "erasure.yaml"])
def test_an_unknown_field_in_a_policy_file_is_refused_naming_file_and_field(settings, tmp_path, name):
    data = yaml.safe_load(settings.path("policies", name).read_text())
    data["max_levle"] = "L2"  # a misspelt key must not be silently ignored
    bad = tmp_path / name
    bad.write_text(yaml.safe_dump(data, allow_unicode=True))
    model = {"retention.yaml": retention.RetentionPolicy, "erasure.yaml": erasure.ErasurePolicy}.get(name) or policies.FILES[name]
    with pytest.raises(ConfigError, match=rf"`{re.escape(str(bad))}` is invalid: field `max_levle`: Extra inputs are not permitted"):
        config.load_model(bad, model, "policy file")


def test_a_reordered_level_ladder_is_refused(settings, tmp_path):
    data = yaml.safe_load(settings.path("policies", "classification.yaml").read_text())
    data["levels"][0]["rank"], data["levels"][1]["rank"] = 2, 1
    bad = tmp_path / "classification.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(ConfigError, match="govlake's ladder is"):
        config.load_model(bad, policies.ClassificationPolicy, "policy file")


# The schema YAML is the one source of the values a row may hold: the ingest reads them from it
# (rules._declared) and every expectation suite must state the same, so this compares them.
CONSTRAINT_EXPECTATIONS = {
    "expect_column_values_to_be_in_set": lambda kw: ("allowed", sorted(kw["value_set"])),
    "expect_column_values_to_be_between": lambda kw: ("range", (float(kw["min_value"]), float(kw["max_value"]))),
    "expect_column_values_to_match_regex": lambda kw: ("pattern", kw["regex"]),
}


def _declared(column: schemas.Column) -> dict:
    found = {"allowed": sorted(column.allowed) if column.allowed else None,
             "range": tuple(map(float, column.range)) if column.range else None, "pattern": column.pattern}
    return {k: v for k, v in found.items() if v is not None}


@pytest.mark.parametrize("table", ["cameras", "detections", "events"])
def test_expectation_suites_state_the_codes_ranges_and_patterns_the_schema_declares(settings, table):
    schema = schemas.load_schema(settings, "base", table)
    suite = quality.load_suite(settings, "base", table)
    stated: dict[str, dict] = {}
    for e in suite["expectations"]:
        if e["type"] in CONSTRAINT_EXPECTATIONS:
            kind, value = CONSTRAINT_EXPECTATIONS[e["type"]](e["kwargs"])
            stated.setdefault(e["kwargs"]["column"], {})[kind] = value
    declared = {c.name: _declared(c) for c in schema.columns if _declared(c)}
    assert stated == declared, f"expectations/base.{table}.json and schemas/base/{table}.yaml disagree"


@pytest.mark.parametrize("table", ["cameras", "detections", "events"])
def test_every_declared_constraint_is_enforced_by_ingest_or_a_soft_expectation(settings, table):
    schema = schemas.load_schema(settings, "base", table)
    enforced = rules.constraints(schema)  # every constraint the row rules use is declared
    soft = {e["kwargs"]["column"] for e in quality.load_suite(settings, "base", table)["expectations"]
            if e["type"] in CONSTRAINT_EXPECTATIONS and not e.get("meta", {}).get("critical") and e["kwargs"].get("mostly", 1) < 1}
    declared = {c.name for c in schema.columns if _declared(c)}
    assert declared - set(enforced) <= soft, "a constraint nothing enforces: add a row rule (rules.CHECKED) or a soft expectation"
    assert not set(enforced) & soft, "a column the ingest rejects on cannot also be a soft expectation"


def test_the_synthetic_feeds_only_send_codes_the_schema_allows(settings):
    allowed = schemas.load_schema(settings, "base", "detections").column("object_type").allowed
    assert {kind for kind, _ in generator.OBJECT_TYPES} == set(allowed)


@pytest.mark.parametrize(("column", "error"), [
    ({"name": "status", "type": "string", "allowed": []}, "non-empty list of codes"),
    ({"name": "severity", "type": "int", "allowed": ["1"]}, "non-empty list of codes for a string column"),
    ({"name": "severity", "type": "int", "range": [4, 1]}, "min <= max"),
    ({"name": "severity", "type": "int", "range": [0.5, 4]}, "whole-number bounds"),
    ({"name": "status", "type": "string", "range": [0, 1]}, "for a numeric column"),
    ({"name": "camera_id", "type": "string", "pattern": "[0-9]{20}"}, "anchored"),
    ({"name": "camera_id", "type": "string", "pattern": "^[0-9{20}$"}, "not a regular expression"),
])
def test_a_constraint_that_cannot_hold_is_refused_naming_file_and_column(settings, tmp_path, column, error):
    data = yaml.safe_load(settings.path("schemas", "base", "events.yaml").read_text())
    data["columns"].append({**column, "level": "L2", "description": "a column under test"})
    bad = tmp_path / "schemas" / "base" / "events.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(ConfigError, match=re.escape(f"schema file `{bad}`") + ".*" + re.escape(f"column `{column['name']}`") + ".*" + re.escape(error)):
        config.load_model(bad, schemas.TableSchema, "schema file")
