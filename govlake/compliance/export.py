"""Governance tables as lakehouse tables, so compliance officers can query them through Trino
(`governance.audit_log`, `governance.contracts`, `governance.contract_events`).

The governance store stays the system of record; these are read-only copies refreshed at every
publish. The audit log is copied incrementally (entries after the highest seq already copied)
with its hashes, so `govlake audit verify` logic can be re-run over the copy too.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from pyspark.sql import SparkSession

from govlake.core.settings import Settings
from govlake.governance import store
from govlake.platform import lake

TABLES = {
    "audit_log": ("seq long, at string, actor string, action string, object string, detail string, prev_hash string, hash string",
                  store.audit_log),
    "contracts": ("id string, provider string, consumer string, requester string, status string, spec_hash string, "
                  "valid_from timestamp, valid_to timestamp, updated_at timestamp, reason string, spec_yaml string", store.contracts),
    "contract_events": ("id long, contract_id string, action string, from_status string, to_status string, actor string, "
                        "at timestamp, reason string, spec_hash string", store.contract_events),
}


def _plain(v):
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
    return v


def export(spark: SparkSession, settings: Settings) -> dict[str, str]:
    """Copy the governance tables into `<warehouse>/governance/`; returns table -> location."""
    from delta.tables import DeltaTable

    out = {}
    with store.engine(settings).connect() as conn:
        for name, (ddl, table) in TABLES.items():
            path = lake.table_path(settings, "governance", name)
            cols = [c.strip().split(" ")[0] for c in ddl.split(",")]
            query = sa.select(*[table.c[c] for c in cols])
            incremental = name == "audit_log" and DeltaTable.isDeltaTable(spark, path)
            if incremental:
                last = spark.read.format("delta").load(path).agg({"seq": "max"}).first()[0] or 0
                query = query.where(table.c.seq > last).order_by(table.c.seq)
            rows = [tuple(_plain(v) for v in r) for r in conn.execute(query)]
            df = spark.createDataFrame(rows, ddl)
            if incremental:
                if rows:
                    df.write.format("delta").mode("append").save(path)
            else:
                df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)
            out[name] = path
    return out
