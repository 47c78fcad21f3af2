from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from govlake.domain import masking
from govlake.platform.secrets import TokenKey

pytestmark = pytest.mark.spark


def test_spark_token_equals_python_hmac(spark):
    key = TokenKey("k9", bytes(range(32)))
    values = ["京A12345", "粤BD12345", "", None]
    df = spark.createDataFrame([(v,) for v in values], "v string")
    got = [r.t for r in masking.keyed(df, key).select(masking.token(F.col("v"), key).alias("t")).collect()]
    assert got == [masking.token_py(v, key) if v is not None else None for v in values]
    assert got[0].startswith("k9_") and len(got[0]) == 3 + 64


def test_long_keys_are_hashed_first_as_in_rfc_2104(spark):
    key = TokenKey("k2", b"x" * 100)
    df = spark.createDataFrame([("abc",)], "v string")
    assert masking.keyed(df, key).select(masking.token(F.col("v"), key)).first()[0] == masking.token_py("abc", key)


def _key_forms(key: TokenKey) -> list[str]:
    """Every spelling of the key material a plan or message could carry: the key, and the HMAC
    pads derived from it, in hex (both cases) and base64."""
    import base64

    forms = []
    for raw in (key.key, *masking._pads(key.key)):
        forms += [raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode()]
    return forms


def test_the_token_key_is_in_no_plan_and_no_error_message(spark):
    """Plans reach logs, error messages and lineage: the key must travel as data, not as a literal."""
    from pyspark.errors import AnalysisException

    from govlake.pipeline import analytic

    key = TokenKey("k7", bytes(range(100, 132)))
    detections = spark.createDataFrame([("police", "d1", "c1", "京A12345", None)],
                                       "department string, detection_id string, camera_id string, plate_no string, observed_at timestamp")
    detections = detections.selectExpr("*", "'motor_vehicle' AS object_type", "0.9 AS confidence", "'red' AS vehicle_color", "'v1' AS model_version")
    cameras = spark.createDataFrame([("c1", "110105", 116.4, 39.9)], "camera_id string, region_code string, longitude double, latitude double")
    df = analytic.detections_deidentified(detections, cameras, key, 0.01)
    assert df.first().plate_token == masking.token_py("京A12345", key)  # the tokens are right
    qe = df._jdf.queryExecution()
    texts = [qe.toString(), qe.executedPlan().toString(), qe.optimizedPlan().toJSON()]
    with pytest.raises(AnalysisException) as err:
        df.select("no_such_column").collect()
    texts.append(str(err.value))
    with pytest.raises(Exception) as err:  # a runtime failure inside the token expression's plan
        df.select(F.assert_true(F.col("plate_token").isNull())).collect()
    texts.append(str(err.value))
    for text in texts:
        for form in _key_forms(key):
            assert form not in text
