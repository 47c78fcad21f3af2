"""Ingest throughput against the limit and against the peer job (results go to BENCHMARKS.md by hand).

    .venv/bin/python bench/ingest.py [--departments 100] [--rows 10000] [--repeat 3] [--no-peer] [--anatomy] [--out F]

N synthetic departments (feeds cycling GBK CSV / JSON lines / Parquet, shaped like the shipped
police, traffic and transport departments) each get `--rows` detections plus their cameras and
events; `--fault-rate` of the detection rows carry a row fault (malformed or badly encoded line,
missing key, duplicate, future time, unknown camera, value out of range). Then, in one Spark session, three sides ingest the same landing files:

- **limit**: a plain Spark read of the files, one read per feed shape over every department,
  appended straight to Delta: no mapping, no validation, nothing else.
- **govlake**: `ingest_departments` into a warehouse whose base tables exist (as after setup):
  everything a batch needs before it may be promoted to the analytic tier (mapping, validation,
  quarantine, deduplication, the Great Expectations gate, classification sampling, MERGE by
  natural key, batch log, manifest, lineage, archiving).
- **peer**: `bench/peer_ingest.py`, the job a team would write by hand instead: one PySpark job
  per feed shape with the same mapping and validity rules, quarantine with a reason,
  deduplication, MERGE by natural key and a GX checkpoint per entity.

Each side first runs once on three departments (class loading, JIT, code generation); then the
three alternate `--repeat` times over all departments, each run into a fresh warehouse (govlake's
manifest would otherwise, rightly, skip files it has ingested), so every MERGE target starts
empty. Reported: the medians, the ratios govlake/limit and govlake/peer, rows per second per core,
govlake's phases (its own timings; background phases overlap), and a check that govlake and the
peer produced the same base rows and the same quarantine counts. `--anatomy` adds where the
shared read-map-validate pass goes: the same frames up to `read`, `mapped` and `validated`,
each written to Spark's `noop` sink, alternated twice.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BASE_TABLES = ("cameras", "detections", "events", "quarantine", "quality_results", "classification_flags", "batch_log", "ingest_manifest")
RUN_TIME = datetime(2026, 11, 21, tzinfo=timezone.utc)
START = datetime(2026, 11, 20, tzinfo=timezone.utc)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--departments", type=int, default=100)
    p.add_argument("--rows", type=int, default=10000, help="detections per department")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--fault-rate", type=float, default=0.01,
                   help="share of detection rows carrying a row fault (malformed, badly encoded, missing key, duplicate, ...)")
    p.add_argument("--no-peer", action="store_true", help="leave the peer job out")
    p.add_argument("--anatomy", action="store_true", help="also time read / mapped / validated to the noop sink")
    p.add_argument("--work", type=Path, help="scratch folder (default: a new temporary one, removed at the end)")
    p.add_argument("--out", type=Path, help="also write the result (JSON) to this file")
    args = p.parse_args()
    result = json.dumps(run(args), indent=1)
    print(result)
    if args.out:
        args.out.write_text(result + "\n")
    return 0


def run(args) -> dict:
    from pyspark.sql import functions as F

    from govlake.core.settings import Settings
    from govlake.departments import generator, synthetic
    from govlake.domain import schemas
    from govlake.pipeline import ingest
    from govlake.pipeline.ingest.results import Phases
    from govlake.platform import lake
    from govlake.platform.spark import get_spark

    work = Path(tempfile.mkdtemp(prefix="govlake-bench-ingest-", dir=args.work))
    depts = synthetic.write_departments(work / "registry", args.departments)
    t = time.perf_counter()
    for d in depts:
        generator.generate(d, work / "landing" / d.id, rows=args.rows, seed=1, start=START,
                           fault_rate=args.fault_rate, faults=generator.ROW_FAULTS)
    generate_s = time.perf_counter() - t
    spark = get_spark(Settings(state_dir=work / "state-session", departments_dir=work / "registry"))
    cores = os.cpu_count() or 1

    def shapes(members) -> dict[tuple, list[str]]:
        """The landing files of every entity, grouped by feed shape (format, encoding, delimiter)."""
        groups: dict[tuple, list[str]] = {}
        for d in members:
            for entity, src in d.sources.items():
                groups.setdefault((entity, src.format, src.encoding, src.delimiter), []).extend(
                    str(f) for f in ingest.landing_files(src, work / "landing" / d.id))
        return groups

    def limit(members, name: str) -> float:
        out = work / name
        t = time.perf_counter()
        for (entity, fmt, encoding, delimiter), files in shapes(members).items():
            if fmt == "csv":
                df = spark.read.option("header", True).option("encoding", encoding).option("sep", delimiter).csv(files)
            elif fmt == "jsonl":
                df = spark.read.json(files)
            else:
                df = spark.read.parquet(*files)
            df = df.withColumn("source_file", F.col("_metadata.file_name"))
            df.write.format("delta").mode("append").option("mergeSchema", "true").save(str(out / f"{entity}-{fmt}"))
        return time.perf_counter() - t

    def prepare(members, name: str) -> Settings:
        settings = Settings(state_dir=work / name, departments_dir=work / "registry")
        for table in BASE_TABLES:
            lake.ensure_table(spark, settings, schemas.load_schema(settings, "base", table))
        for d in members:  # govlake archives what it ingested: it gets copies of the same files
            shutil.copytree(work / "landing" / d.id, work / name / "landing" / d.id)
        return settings

    def govlake(members, name: str) -> tuple[float, list, dict]:
        settings = prepare(members, name)
        phases = Phases()
        t = time.perf_counter()
        batches, failures = ingest.ingest_departments(
            spark, settings, [(d, work / name / "landing" / d.id) for d in members], RUN_TIME, phases=phases)
        took = time.perf_counter() - t
        if failures:
            raise SystemExit(f"govlake ingest failures: {failures}")
        return took, batches, phases.as_dict() | {"total": round(took, 2)}

    def peer(members, name: str) -> tuple[float, dict]:
        import peer_ingest

        t = time.perf_counter()
        counts = peer_ingest.run(spark, [(d.id, synthetic.TEMPLATES[int(d.id[3:]) % 3], work / "landing" / d.id) for d in members],
                                 work / name, RUN_TIME, ROOT / "expectations")
        return time.perf_counter() - t, counts

    sides = ["limit", "govlake"] + ([] if args.no_peer else ["peer"])
    sample = depts[:3]  # warm-up: one department of each feed shape
    limit(sample, "warm-limit")
    govlake(sample, "warm-govlake")
    if "peer" in sides:
        peer(sample, "warm-peer")
    runs: dict[str, list[float]] = {s: [] for s in sides}
    phase_runs: list[dict] = []
    batches, peer_counts = [], {}
    for i in range(args.repeat):
        for side in sides:
            if side == "limit":
                runs[side].append(limit(depts, f"limit-{i}"))
            elif side == "govlake":
                took, batches, phases = govlake(depts, f"govlake-{i}")
                runs[side].append(took)
                phase_runs.append(phases)
            else:
                took, peer_counts = peer(depts, f"peer-{i}")
                runs[side].append(took)
            if i < args.repeat - 1:  # keep the last repeat's warehouses for the comparison
                shutil.rmtree(work / f"{side}-{i}", ignore_errors=True)
    medians = {s: statistics.median(r) for s, r in runs.items()}
    detections = args.departments * args.rows
    dets = [e for b in batches for e in b.entities if e.entity == "detections"]
    result: dict = {
        "departments": args.departments, "detections": detections, "fault_rate": args.fault_rate, "cores": cores, "generate_s": round(generate_s, 1),
        "repeat": args.repeat, "order": sides,
        "runs_s": {s: [round(x, 1) for x in r] for s, r in runs.items()},
        "median_s": {s: round(m, 1) for s, m in medians.items()},
        "detections_per_s_per_core": {s: round(detections / m / cores) for s, m in medians.items()},
        "govlake_over_limit": round(medians["govlake"] / medians["limit"], 2),
        "govlake_detections": {"read": sum(e.read for e in dets), "accepted": sum(e.accepted for e in dets),
                               "quarantined": sum(e.quarantined for e in dets), "duplicates": sum(e.duplicates for e in dets)},
        "govlake_phases_median_s": {k: round(statistics.median(r.get(k, 0.0) for r in phase_runs), 2)
                                    for k in dict.fromkeys(k for r in phase_runs for k in r)},
    }
    if "peer" in sides:
        import ingest_check

        result["govlake_over_peer"] = round(medians["govlake"] / medians["peer"], 2)
        result["peer_counts"] = peer_counts
        last = args.repeat - 1
        result["same_output"] = ingest_check.compare(
            spark, Settings(state_dir=work / f"govlake-{last}", departments_dir=work / "registry"), work / f"peer-{last}")
    if args.anatomy:
        known = Settings(state_dir=work / f"govlake-{args.repeat - 1}", departments_dir=work / "registry")
        result["anatomy_median_s"] = anatomy(spark, depts, work, prepare, known)
    shutil.rmtree(work, ignore_errors=True)
    return result


def anatomy(spark, depts, work: Path, prepare, known_in) -> dict:
    """The shared pass's frames for all three entities up to `read`, `mapped` and `validated`,
    each written to the `noop` sink (nothing cached, nothing written), alternated twice: what
    reading, mapping and the row rules each add. `known_in`: settings of a warehouse whose base
    holds the cameras (the known-camera check needs them)."""
    from govlake.domain import schemas
    from govlake.pipeline.ingest.mapping import feed_shape
    from govlake.pipeline.ingest.planning import plan_batch
    from govlake.pipeline.ingest.rules import known_cameras
    from govlake.pipeline.ingest.run import ENTITIES, _shape_frame

    settings = prepare(depts, "anatomy")
    plans = [plan_batch(d, work / "anatomy" / "landing" / d.id, {}) for d in depts]
    known = known_cameras(spark, known_in)  # the cameras govlake's last run put in base
    times: dict[str, list[float]] = {"read": [], "mapped": [], "validated": []}
    for _ in range(2):
        for upto in times:
            t = time.perf_counter()
            for entity in ENTITIES:
                schema = schemas.load_schema(settings, "base", entity)
                groups: dict[str, list] = {}
                for plan in plans:
                    if plan.readable(entity):
                        groups.setdefault(feed_shape(plan.dept, entity), []).append(plan)
                for group in groups.values():
                    cameras = None if entity == "cameras" else known
                    df = _shape_frame(spark, group, entity, schema, RUN_TIME, cameras, upto=upto)
                    df.write.format("noop").mode("overwrite").save()
            times[upto].append(time.perf_counter() - t)
    return {k: round(statistics.median(v), 2) for k, v in times.items()}


if __name__ == "__main__":
    sys.exit(main())
