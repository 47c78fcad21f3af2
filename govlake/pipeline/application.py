"""Analytic tier -> application tier: one table per active sharing contract.

Each table holds exactly the granted columns of the contract's dataset, filtered by the
contract's row filter (re-rendered from its parsed form), in schema `app_<consumer>`. Tables of
contracts that are no longer active are removed from the warehouse.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from govlake import schemas
from govlake.contracts import filters
from govlake.contracts.spec import ContractSpec
from govlake.errors import ConfigError
from govlake.settings import Settings


@dataclass
class Published:
    contract: str
    schema: str
    table: str
    rows: int
    path: str


def contract_view(dataset: DataFrame, spec: ContractSpec) -> DataFrame:
    """The consumer's shape of `dataset` under `spec` (pure)."""
    available = set(dataset.columns)
    unknown = [c.name for c in spec.columns if c.name not in available]
    if unknown:
        raise ConfigError(f"contract `{spec.id}` grants column(s) {unknown} that `{spec.dataset}` does not have")
    df = dataset
    if spec.row_filter:
        try:
            tree = filters.validate(spec.row_filter, available)
        except filters.FilterError as exc:
            raise ConfigError(f"contract `{spec.id}` field `row_filter`: {exc}") from exc
        df = df.where(F.expr(filters.to_sql(tree, "spark")))
    return df.select(*[c.name for c in spec.columns])


def app_table_path(settings: Settings, spec: ContractSpec) -> str:
    return schemas.table_path(settings, "application", f"{spec.consumer_schema}/{spec.table}")


def publish(spark: SparkSession, settings: Settings, contracts: list[ContractSpec], when: datetime) -> list[Published]:
    out = []
    active = [c for c in contracts if c.active_at(when)]
    for spec in active:
        tier, table = spec.dataset.split(".")
        dataset = spark.read.format("delta").load(schemas.table_path(settings, tier, table))
        df = contract_view(dataset, spec)
        path = app_table_path(settings, spec)
        (
            df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
            .option("userMetadata", f"contract={spec.id};spec={spec.content_hash()[:16]}")
            .save(path)
        )
        rows = spark.read.format("delta").load(path).count()
        out.append(Published(spec.id, spec.consumer_schema, spec.table, rows, path))
    if settings.warehouse_is_local:
        keep = {Path(p.path) for p in out}
        root = Path(schemas.table_path(settings, "application", ""))
        for table_dir in root.glob("app_*/*"):
            if table_dir.is_dir() and table_dir not in keep:
                shutil.rmtree(table_dir)
    return out
