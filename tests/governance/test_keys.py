"""Token key rotation: the key store (fast), and a rotation of a private copy of the shared
lakehouse: the tiers re-tokenised, earlier tokens gone from time travel, erasure by an earlier
token during the overlap, and a clear refusal once the earlier key is retired."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from govlake.core.errors import ConfigError
from govlake.core.settings import Settings
from govlake.domain import masking
from govlake.platform import secrets
from tests.conftest import copy_of_lakehouse

T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_rotation_makes_a_new_active_key_and_holds_the_earlier_one_for_its_overlap(make_settings):
    s = make_settings()
    k1 = secrets.token_key(s)
    assert secrets.rotate(s, T0, timedelta(days=7)) == ("k1", "k2")
    k2 = secrets.token_key(s)
    assert k2.key_id == "k2" and k2.key != k1.key
    assert secrets.held_key(s, "k1") == k1  # tokens made with it can still be resolved
    assert [(k["key_id"], k["active"], k["retire_after"]) for k in secrets.key_status(s)] == [
        ("k1", False, (T0 + timedelta(days=7)).isoformat()), ("k2", True, None)]
    assert k1.key.hex() not in json.dumps(secrets.key_status(s))  # status never shows a key
    assert secrets.retire(s, T0 + timedelta(days=6)) == []  # still in its overlap
    assert secrets.retire(s, T0 + timedelta(days=7)) == ["k1"]
    with pytest.raises(ConfigError, match="`k1` is not held .*--identifier-stdin"):
        secrets.held_key(s, "k1")
    assert secrets.token_key(s) == k2
    assert secrets.rotate(s, T0 + timedelta(days=8), timedelta(0))[1] == "k3"
    assert oct((s.secrets_dir / "token_keys.json").stat().st_mode & 0o777) == "0o600"


def test_a_vault_key_is_not_rotated_here(make_settings, monkeypatch):
    monkeypatch.setenv("GOVLAKE_TOKEN_KEY", "ab" * 32)
    monkeypatch.setenv("GOVLAKE_TOKEN_KEY_ID", "v7")
    with pytest.raises(ConfigError, match="rotate it in the vault"):
        secrets.rotate(make_settings(), T0, timedelta(days=1))


@pytest.fixture(scope="module")
def private(lakehouse, settings, tmp_path_factory) -> Settings:
    return copy_of_lakehouse(settings, tmp_path_factory, "key-rotation")


@pytest.mark.trino
def test_a_rotation_retokenises_the_tiers_and_erasure_by_an_earlier_token_works_during_the_overlap(private, spark):
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    from govlake.compliance import erasure
    from govlake.context import Context
    from govlake.governance import audit
    from govlake.platform import lake

    ctx = Context(private)
    det = lake.table_path(private, "analytic", "detections_deidentified")
    before_version = DeltaTable.forPath(spark, det).history(1).first().version
    plates = [r.plate_no for r in spark.read.format("delta").load(lake.table_path(private, "base", "detections"))
              .where("plate_no IS NOT NULL").groupBy("plate_no").count().orderBy(F.desc("count"), "plate_no").limit(2).collect()]
    k1 = secrets.token_key(private)
    old_tokens = [masking.token_py(p, k1) for p in plates]
    assert spark.read.format("delta").load(det).where(F.col("plate_token").isin(old_tokens)).count() > 0

    result = ctx.rotate_keys(T0, timedelta(days=7), serve=False)
    assert (result["from"], result["to"], result["retokenised"]) == ("k1", "k2", True)
    tokens = spark.read.format("delta").load(det).select("plate_token").where("plate_token IS NOT NULL").distinct()
    assert tokens.where(~F.col("plate_token").startswith("k2_")).count() == 0 and tokens.count() > 0
    with pytest.raises(Exception):  # the version with the earlier tokens is gone, not just superseded
        spark.read.format("delta").option("versionAsOf", before_version).load(det).select("plate_token").collect()
    app_tables = sorted(p for p in Path(lake.table_path(private, "application", "")).glob("app_*/*") if p.is_dir())
    assert app_tables
    for table_dir in app_tables:
        df = spark.read.format("delta").load(str(table_dir))
        for c in [f.name for f in df.schema.fields if f.dataType.simpleString() == "string"]:
            assert df.where(F.col(c).rlike("^k1c?_[0-9a-f]{64}$")).count() == 0, (table_dir.name, c)

    # an erasure request quoting the token an analyst saw before the rotation
    report = erasure.erase(spark, private, old_tokens[0], request="REQ-ROTATE-1")
    assert report.complete and report.identifier_found, report.as_dict()
    assert spark.read.format("delta").load(lake.table_path(private, "base", "detections")).where(F.col("plate_no") == plates[0]).count() == 0

    assert ctx.retire_keys(T0 + timedelta(days=8)) == ["k1"]
    with pytest.raises(ConfigError, match="`k1` is not held"):
        ctx.subject_token(token=old_tokens[1])
    entries, _ = ctx.search_audit(action="keys.", limit=10)
    actions = [e["action"] for e in entries]
    assert sorted(actions) == ["keys.retired", "keys.rotated"]
    assert audit.verify(private).ok
