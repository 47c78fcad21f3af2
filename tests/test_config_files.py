"""Every declarative file in the repository validates through its typed model."""
from __future__ import annotations

import yaml

from govlake.contracts import spec
from govlake.departments import registry
from govlake.domain import identities, schemas
from govlake.platform import artifacts


def test_every_schema_file_validates_and_classifies_every_column(settings):
    files = schemas.all_schema_files(settings)
    assert len(files) >= 5
    classification = yaml.safe_load(settings.path("policies", "classification.yaml").read_text())
    known_levels = {lvl["id"] for lvl in classification["levels"]}
    for f in files:
        schema = schemas.load_schema(settings, f.parent.name, f.stem)
        assert schema.tier == f.parent.name
        for col in schema.columns:
            assert col.level in known_levels, f"{f}: {col.name}"
            if col.pii_type:
                assert col.pii_type in classification["pii_types"], f"{f}: {col.name} has unknown PII type"


def test_every_department_file_validates(settings):
    depts = registry.load_all(settings)
    assert {d.id for d in depts} >= {"police", "traffic", "transport"}
    assert len({d.sources["detections"].format for d in depts}) == 3, "sample departments must differ in format"


def test_every_contract_file_validates(settings):
    depts = {d.id for d in registry.load_all(settings)}
    purposes = yaml.safe_load(settings.path("policies", "purposes.yaml").read_text())["purposes"]
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
