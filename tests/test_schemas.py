"""Table layout kept in line with the schema files: a table written before its schema named
partition columns is rewritten partitioned, with every row and no file of the old layout left."""
from __future__ import annotations

from pathlib import Path

import pytest

from govlake.domain import schemas
from govlake.platform import lake

pytestmark = pytest.mark.spark


def test_an_unpartitioned_table_is_rewritten_by_department_and_nothing_is_lost(spark, make_settings):
    s = make_settings()
    schema = schemas.load_schema(s, "base", "cameras")
    assert schema.partitioned_by == ["department"]
    path = lake.table_path(s, "base", "cameras")
    old = schema.model_copy(update={"partitioned_by": []})
    old_stats = ",".join(c.name for c in schema.columns if c.name in ("department", "camera_id"))
    from delta.tables import DeltaTable

    (DeltaTable.createIfNotExists(spark).location(path).addColumns(old.spark_schema())
     .property(lake.STATS_COLUMNS, old_stats).execute())  # as an older govlake made it
    rows = [tuple({"camera_id": f"c{i}", "department": ("police", "traffic")[i % 2]}.get(c.name) for c in schema.columns) for i in range(40)]
    spark.createDataFrame(rows, old.spark_schema()).coalesce(1).write.format("delta").mode("append").save(path)
    before = sorted(tuple(r) for r in spark.read.format("delta").load(path).collect())
    old_files = {p.name for p in Path(path).glob("*.parquet")}
    assert old_files

    lake.ensure_table(spark, s, schema)

    detail = DeltaTable.forPath(spark, path).detail().first()
    assert list(detail.partitionColumns) == ["department"]
    assert "department" not in detail.properties[lake.STATS_COLUMNS].split(",")
    assert sorted(tuple(r) for r in spark.read.format("delta").load(path).select(*schema.names()).collect()) == before
    assert not [p for p in Path(path).rglob("*.parquet") if p.name in old_files]  # the mixed files are gone
    assert {p.parent.name for p in Path(path).rglob("*.parquet")} == {"department=police", "department=traffic"}
