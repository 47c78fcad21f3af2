from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from govlake import masking
from govlake.secrets import TokenKey

pytestmark = pytest.mark.spark


def test_spark_token_equals_python_hmac(spark):
    key = TokenKey("k9", bytes(range(32)))
    values = ["京A12345", "粤BD12345", "", None]
    df = spark.createDataFrame([(v,) for v in values], "v string")
    got = [r.t for r in df.select(masking.token(F.col("v"), key).alias("t")).collect()]
    assert got == [masking.token_py(v, key) if v is not None else None for v in values]
    assert got[0].startswith("k9_") and len(got[0]) == 3 + 64


def test_long_keys_are_hashed_first_as_in_rfc_2104(spark):
    key = TokenKey("k2", b"x" * 100)
    df = spark.createDataFrame([("abc",)], "v string")
    assert df.select(masking.token(F.col("v"), key)).first()[0] == masking.token_py("abc", key)
