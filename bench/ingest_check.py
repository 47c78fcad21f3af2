"""Check that the peer ingest (bench/peer_ingest.py) does the same work as govlake's ingest.

    python bench/ingest_check.py [--departments 6] [--rows 5000] [--fault-rate 0.05] [--warm-up]

`compare` takes govlake's base tables and the peer's and asserts that they hold the same rows
(every schema column but `batch_id`; doubles rounded to 6 places, coordinates to 7) and the
same quarantine counts per (entity, reason). `main` generates synthetic departments (formats
cycling GBK CSV / JSON lines / Parquet, as in `bench/ingest.py`), ingests them with govlake
(copies of the landing folders: govlake archives what it ingested) and with the peer (the
original folders, which it only reads), times both in the same Spark session, and compares.
With `--fault-rate` > 0 (the default here; `bench/ingest.py` takes 0.01) the
generator's row faults are injected, so that the quarantine and its reasons are compared too.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

ENTITIES = ("cameras", "detections", "events")
COORDINATES = ("longitude", "latitude")


def _normalised(df, columns: list[str]):
    from pyspark.sql import functions as F

    types = dict(df.dtypes)
    return df.select(*[F.round(F.col(c), 7 if c in COORDINATES else 6).alias(c) if types[c] in ("double", "float") else F.col(c)
                       for c in columns])


def _first_difference(entity: str, key: list[str], columns: list[str], only_gov, only_peer, n_gov: int, n_peer: int) -> str:
    """A message naming the first differing row: the columns that differ for a key both sides
    have, or a key only one side has."""
    g = only_gov.limit(1).collect()
    p_rows = only_peer.limit(1).collect()
    head = f"{entity}: {n_gov} row(s) only in govlake's base table, {n_peer} only in the peer's"
    if g:
        row = g[0].asDict()
        match = only_peer
        for k in key:
            match = match.where(match[k] == row[k])
        twin = match.limit(1).collect()
        if twin:
            other = twin[0].asDict()
            diff = {c: (row[c], other[c]) for c in columns if row[c] != other[c]}
            return f"{head}; first: key {[row[k] for k in key]} differs in (govlake, peer) {diff}"
        return f"{head}; first: key {[row[k] for k in key]} only in govlake: {row}"
    return f"{head}; first: key {[p_rows[0][k] for k in key]} only in the peer: {p_rows[0].asDict()}"


def compare(spark, govlake_settings, peer_warehouse: Path) -> dict:
    """Rows per entity and quarantine counts per (entity, reason), the same on both sides;
    raises AssertionError naming the first difference."""
    from govlake.domain import schemas
    from govlake.platform import lake

    peer_warehouse = Path(peer_warehouse)
    out: dict = {"rows": {}, "quarantine": {}}
    for entity in ENTITIES:
        schema = schemas.load_schema(govlake_settings, "base", entity)
        columns = [c for c in schema.names() if c != "batch_id"]
        gov = _normalised(spark.read.format("delta").load(lake.table_path(govlake_settings, "base", entity)), columns).persist()
        peer = _normalised(spark.read.format("delta").load(str(peer_warehouse / entity)), columns).persist()
        try:
            only_gov, only_peer = gov.exceptAll(peer), peer.exceptAll(gov)
            n_gov, n_peer = only_gov.count(), only_peer.count()
            if n_gov or n_peer:
                raise AssertionError(_first_difference(entity, schema.key, columns, only_gov, only_peer, n_gov, n_peer))
            out["rows"][entity] = gov.count()
        finally:
            gov.unpersist()
            peer.unpersist()

    def counts(df) -> dict[tuple[str, str], int]:
        return {(r.entity, r.reason): r["count"] for r in df.groupBy("entity", "reason").count().collect()}

    # govlake's quarantine holds each distinct rejected record of a file once (key: batch,
    # entity, file, SHA-256 of the record); the peer's is keyed alike (department for batch)
    gov_q = counts(spark.read.format("delta").load(lake.table_path(govlake_settings, "base", "quarantine")))
    peer_q = counts(spark.read.format("delta").load(str(peer_warehouse / "quarantine")))
    for k in sorted(set(gov_q) | set(peer_q)):
        if gov_q.get(k, 0) != peer_q.get(k, 0):
            raise AssertionError(f"quarantine {k[0]} {k[1]}: govlake {gov_q.get(k, 0)} row(s), peer {peer_q.get(k, 0)}")
    out["quarantine"] = {f"{e}/{r}": n for (e, r), n in sorted(gov_q.items())}
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--departments", type=int, default=6)
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--fault-rate", type=float, default=0.05, help="share of detection rows with an injected fault (0: clean files)")
    p.add_argument("--warm-up", action="store_true", help="first run both on three small departments (JIT, codegen), untimed")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    args = p.parse_args()

    from govlake.core.settings import Settings
    from govlake.departments import generator, synthetic
    from govlake.domain import schemas
    from govlake.pipeline import ingest
    from govlake.platform import lake
    from govlake.platform.spark import get_spark

    import peer_ingest

    work = Path(tempfile.mkdtemp(prefix="govlake-ingest-check-"))
    run_time = datetime(2026, 11, 21, tzinfo=timezone.utc)
    start = datetime(2026, 11, 20, tzinfo=timezone.utc)
    shape_of = {i: synthetic.TEMPLATES[i % len(synthetic.TEMPLATES)] for i in range(args.departments)}
    depts = synthetic.write_departments(work / "registry", args.departments)
    faults: dict[str, int] = {}
    for d in depts:
        feed = generator.generate(d, work / "landing" / d.id, rows=args.rows, seed=1, start=start, fault_rate=args.fault_rate)
        for k, n in feed.faults.items():
            faults[k] = faults.get(k, 0) + n
    settings = Settings(state_dir=work / "state", departments_dir=work / "registry")
    spark = get_spark(settings)
    base_tables = ("cameras", "detections", "events", "quarantine", "quality_results", "classification_flags", "batch_log", "ingest_manifest")

    def run_govlake(members, name: str) -> tuple[Settings, float]:
        s = Settings(state_dir=work / name, departments_dir=work / "registry")
        for table in base_tables:
            lake.ensure_table(spark, s, schemas.load_schema(s, "base", table))
        for d in members:
            shutil.copytree(work / "landing" / d.id, work / name / "landing" / d.id)
        t = time.perf_counter()
        batches, failures = ingest.ingest_departments(spark, s, [(d, work / name / "landing" / d.id) for d in members], run_time)
        took = time.perf_counter() - t
        if failures:
            raise SystemExit(f"govlake ingest failures: {failures}")
        return s, took

    def run_peer(members, name: str) -> tuple[dict, float]:
        listed = [(d.id, shape_of[depts.index(d)], work / "landing" / d.id) for d in members]
        t = time.perf_counter()
        counts = peer_ingest.run(spark, listed, work / name, run_time, ROOT / "expectations")
        return counts, time.perf_counter() - t

    try:
        if args.warm_up:
            run_govlake(depts[:3], "govlake-warm-up")
            run_peer(depts[:3], "peer-warm-up")
        gov_settings, gov_s = run_govlake(depts, "govlake")
        peer_counts, peer_s = run_peer(depts, "peer")
        result = compare(spark, gov_settings, work / "peer")
        print(json.dumps({
            "departments": args.departments, "rows": args.rows, "fault_rate": args.fault_rate, "injected": faults,
            "govlake_s": round(gov_s, 1), "peer_s": round(peer_s, 1), "warm_up": args.warm_up,
            "peer": peer_counts, "same": result,
        }, indent=1, ensure_ascii=False, default=str))
        print("OK: same base rows and quarantine counts")
        return 0
    finally:
        spark.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work folder: {work}")


if __name__ == "__main__":
    sys.exit(main())
