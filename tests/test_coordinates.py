from __future__ import annotations

import pytest

from govlake.core import coordinates


@pytest.mark.parametrize("crs", coordinates.CRS)
@pytest.mark.parametrize("lon,lat", [(116.40, 39.90), (121.47, 31.23), (113.26, 23.13)])
def test_round_trip_is_within_half_a_metre(crs, lon, lat):
    x, y = coordinates.from_wgs84(crs, lon, lat)
    back = coordinates.to_wgs84(crs, x, y)
    assert abs(back[0] - lon) < 5e-6 and abs(back[1] - lat) < 5e-6


def test_gcj02_offset_is_hundreds_of_metres_in_beijing():
    x, y = coordinates.wgs84_to_gcj02(116.40, 39.90)
    assert 0.003 < abs(x - 116.40) + abs(y - 39.90) < 0.02


def test_unknown_crs_is_named():
    with pytest.raises(ValueError, match="unknown coordinate system `EPSG:3857`"):
        coordinates.to_wgs84("EPSG:3857", 1.0, 2.0)


@pytest.mark.spark
@pytest.mark.parametrize("crs", coordinates.CRS)
def test_spark_conversion_in_steps_equals_the_formula(spark, crs):
    points = [(116.40, 39.90), (121.47, 31.23), (113.26, 23.13), (87.62, 43.82)]
    sent = [coordinates.from_wgs84(crs, lon, lat) for lon, lat in points]
    df = spark.createDataFrame([(str(x), str(y)) for x, y in sent], "x string, y string")
    from pyspark.sql import functions as F

    df, lon, lat = coordinates.to_wgs84_staged(df, crs, F.col("x"), F.col("y"))
    got = df.select(lon.alias("lon"), lat.alias("lat")).collect()
    for (x, y), row in zip(sent, got):
        want = coordinates.to_wgs84(crs, x, y)
        assert row.lon == pytest.approx(want[0], abs=1e-9) and row.lat == pytest.approx(want[1], abs=1e-9)
