"""Native Spark masking functions agree with their Python definitions."""
from __future__ import annotations

import random

import pytest
from pyspark.sql import functions as F

from govlake.departments import personal
from govlake.domain import masking
from govlake.pii import recognizers as rec

pytestmark = pytest.mark.spark


def test_partial_masks(spark):
    df = spark.createDataFrame([("京A12345", "+86 138-1234-5678", "110105199003071233", 37)], "plate string, phone string, idn string, age int")
    row = df.select(
        masking.mask_plate(F.col("plate")).alias("plate"), masking.mask_phone(F.col("phone")).alias("phone"),
        masking.mask_id_number(F.col("idn")).alias("idn"), masking.age_band(F.col("age")).alias("age"),
    ).first()
    assert row.asDict() == {"plate": "京A***45", "phone": "138****5678", "idn": "110105************", "age": "30-39"}


def test_id_check_digit_in_spark_equals_python(spark):
    rng = random.Random(3)
    values = [personal.id_number(rng) for _ in range(100)]
    values += [v[:17] + ("0" if v[17] != "0" else "1") for v in values[:50]]
    got = spark.createDataFrame([(v,) for v in values], "v string").select("v", masking.id_check_ok(F.col("v")).alias("ok")).collect()
    assert {r.v: r.ok for r in got} == {v: rec.id_check_ok(v) for v in values}


def test_free_text_scrub_udf_equals_the_recognizers(spark):
    rng = random.Random(4)
    notes = [personal.note(rng)[2].text for _ in range(300)] + [None, ""]
    got = spark.createDataFrame([(i, n) for i, n in enumerate(notes)], "i int, note string").repartition(2).select(
        "i", masking.scrub_text(F.col("note")).alias("s")
    ).collect()
    assert {r.i: r.s for r in got} == {i: (None if n is None else rec.scrub(n)) for i, n in enumerate(notes)}
    assert not any(rec.find(r.s) for r in got if r.s)
