"""Classification disagreements: flagged on ingest, proposed, decided by the owner, then in effect."""
from __future__ import annotations

import pytest

from govlake.core.errors import IdentityError
from govlake.departments import generator, registry
from govlake.pii import classify, proposals
from govlake.pipeline import ingest
from govlake.platform import lake
from tests.conftest import RUN_TIME, SAMPLE_START

pytestmark = pytest.mark.spark


def test_personal_data_in_an_internal_column_is_flagged_proposed_and_decided(spark, make_settings, tmp_path):
    settings = make_settings()
    dept = registry.get(settings, "transport")
    data = generator.canonical(dept, rows=60, seed=12, start=SAMPLE_START)
    for i, d in enumerate(data.detections):
        d["model_version"] = f"v3.1 报修联系人手机1390000{i:04d}"  # an operator typed a phone number into an internal field
    generator.write(data.cameras, dept.sources["cameras"], dept, tmp_path / "l1" / "cameras_1.parquet")
    generator.write(data.detections, dept.sources["detections"], dept, tmp_path / "l1" / "detections_1.parquet")
    batch = ingest.ingest_department(spark, settings, dept, tmp_path / "l1", RUN_TIME)
    flags = spark.read.format("delta").load(lake.table_path(settings, "base", "classification_flags")).collect()
    assert [(f.batch_id, f.entity, f.column_name, f.declared_level, f.proposed_level) for f in flags] == [
        (batch.batch_id, "detections", "model_version", "L2", "L3")
    ]
    assert "1390000" not in flags[0].detected  # shares only, never values

    reports = classify.classify_columns(settings, classify.table_sample(settings, "base.detections"))
    ids = proposals.propose(settings, "base.detections", reports, "etl_service")
    pending = proposals.listing(settings)
    assert [(p["id"], p["column_name"], p["proposed_level"], p["proposed_pii_types"]) for p in pending] == [(ids[0], "model_version", "L3", ["PHONE"])]
    assert proposals.effective(settings, "base", "detections")["model_version"]["level"] == "L2"  # not applied until decided
    with pytest.raises(IdentityError, match="needs a compliance officer"):
        proposals.decide(settings, ids[0], "wang_police_steward", True, None)
    decided = proposals.decide(settings, ids[0], "zhao_compliance", True, "operators write contacts into this field")
    assert decided["status"] == "accepted"
    eff = proposals.effective(settings, "base", "detections")["model_version"]
    assert eff["level"] == "L3" and "zhao_compliance" in eff["source"]

    # the next batch with the same content is no longer flagged: the accepted level covers it
    data2 = generator.canonical(dept, rows=60, seed=13, start=SAMPLE_START)
    for i, d in enumerate(data2.detections):
        d["model_version"] = f"v3.1 报修联系人手机1390001{i:04d}"
    generator.write(data2.detections, dept.sources["detections"], dept, tmp_path / "l2" / "detections_2.parquet")
    second = ingest.ingest_department(spark, settings, dept, tmp_path / "l2", RUN_TIME)
    flags = spark.read.format("delta").load(lake.table_path(settings, "base", "classification_flags"))
    assert flags.where(flags.batch_id == second.batch_id).count() == 0
