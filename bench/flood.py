"""Many departments dropping files every minute: drop-to-queryable latency and nothing lost.

    python bench/flood.py [--departments 100] [--minutes 60] [--speed 1] [--rows 20]

`--departments` synthetic departments (cycling GBK CSV, JSON lines and Parquet feeds) each drop
one delivery (a cameras file, a detections file and, for some, an events file; `--rows`
detections) every simulated minute for `--minutes` minutes. `--speed` simulated minutes pass per
real minute (1: real time; 4: the hour in 15 minutes, four times the load). Deliveries are written
beforehand and moved into the landing folders at their minute (one rename per file, as an SFTP
drop that lands whole).

Meanwhile the ingest runs pass after pass, as the scheduled ingest does: each pass is
`ingest_departments` over every department (the function the DAGs' ingest task calls), in one
Spark session. A file is queryable when the pass that took it has committed (Trino reads the
newest Delta version on each query). Its latency is the time from its drop to that commit.

At the end: every dropped file is in the manifest and in its batch's archive, base holds exactly
the dropped detections (no key twice), and every batch balances. Prints JSON.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--departments", type=int, default=100)
    p.add_argument("--minutes", type=int, default=60)
    p.add_argument("--speed", type=float, default=1.0, help="simulated minutes per real minute")
    p.add_argument("--rows", type=int, default=20, help="detections per department per minute")
    args = p.parse_args()

    from pyspark.sql import functions as F

    from govlake.core.settings import Settings
    from govlake.departments import generator, synthetic
    from govlake.pipeline import ingest
    from govlake.platform import lake
    from govlake.platform.spark import get_spark

    work = Path(tempfile.mkdtemp(prefix="govlake-flood-"))
    depts = synthetic.write_departments(work / "registry", args.departments)
    settings = Settings(state_dir=work / "state", departments_dir=work / "registry")
    start = datetime(2026, 11, 20, tzinfo=timezone.utc)
    t = time.perf_counter()
    deliveries: list[list[tuple[Path, Path]]] = []  # per minute: (staged file, landing file)
    expected_rows = 0
    for m in range(args.minutes):
        minute = []
        for d in depts:
            staged = work / "staging" / str(m) / d.id
            feed = generator.generate(d, staged, rows=args.rows, seed=m + 1, start=start + timedelta(minutes=m))
            expected_rows += len(feed.data.detections)
            minute += [(f, settings.landing_root / d.id / f.name) for f in feed.paths.values()]
        deliveries.append(minute)
    generate_s = time.perf_counter() - t
    for d in depts:
        (settings.landing_root / d.id).mkdir(parents=True, exist_ok=True)

    spark = get_spark(settings)
    work_list = [(d, settings.landing_root / d.id) for d in depts]
    ingest.ingest_departments(spark, settings, work_list, start)  # warm-up pass over empty folders (creates the tables)

    dropped: dict[tuple[str, str], float] = {}  # (department, file name) -> when it was dropped (monotonic)
    lock = threading.Lock()
    interval = 60.0 / args.speed

    def drop_all() -> None:
        t0 = time.monotonic()
        for m, minute in enumerate(deliveries):
            time.sleep(max(0.0, t0 + m * interval - time.monotonic()))
            for staged, target in minute:
                staged.rename(target)
                with lock:
                    dropped[(target.parent.name, target.name)] = time.monotonic()

    dropper = threading.Thread(target=drop_all, daemon=True)
    began = time.monotonic()
    dropper.start()
    latencies: list[float] = []
    passes: list[dict] = []
    failures_seen: dict[str, str] = {}
    run_time = start + timedelta(days=1, minutes=args.minutes + 1)  # after every delivery's last detection: none is in the future
    while True:
        finished_dropping = not dropper.is_alive()
        t = time.monotonic()
        batches, failures = ingest.ingest_departments(spark, settings, work_list, run_time)
        done = time.monotonic()
        failures_seen |= failures
        files = [(b.department, f) for b in batches for e in b.entities for f in e.files]
        with lock:
            latencies += [done - dropped[f] for f in files]
        passes.append({"seconds": round(done - t, 1), "departments": len(batches), "files": len(files)})
        if finished_dropping and not batches:
            break
        if not batches:
            time.sleep(1.0)
    wall = time.monotonic() - began

    manifest = spark.read.format("delta").load(lake.table_path(settings, "base", "ingest_manifest"))
    det = spark.read.format("delta").load(lake.table_path(settings, "base", "detections"))
    log = spark.read.format("delta").load(lake.table_path(settings, "base", "batch_log"))
    archived = sum(1 for d in depts for p in (settings.landing_root / d.id / "_ingested").rglob("*") if p.is_file())
    left = sum(1 for d in depts for p in (settings.landing_root / d.id).iterdir() if p.is_file())
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    busy = [x for x in passes if x["files"]]
    result = {
        "departments": args.departments, "minutes": args.minutes, "speed": args.speed, "rows_per_delivery": args.rows,
        "generate_s": round(generate_s, 1), "wall_s": round(wall, 1),
        "files_dropped": len(dropped), "files_ingested": len(latencies), "files_in_manifest": manifest.count(),
        "files_archived": archived, "files_left_in_landing": left,
        "detections_expected": expected_rows, "detections_in_base": det.count(),
        "detection_keys_distinct": det.select("department", "detection_id").distinct().count(),
        "detections_quarantined": spark.read.format("delta").load(lake.table_path(settings, "base", "quarantine"))
        .where(F.col("entity") == "detections").count(),
        "batches_unbalanced": log.where(F.col("balanced") != "true").select("batch_id").distinct().count(),
        "failures": failures_seen,
        "passes": len(busy), "pass_s_median": round(statistics.median(x["seconds"] for x in busy), 1) if busy else None,
        "pass_s_max": max((x["seconds"] for x in busy), default=None),
        "latency_s_p50": round(statistics.median(latencies), 1), "latency_s_p95": round(q[94], 1), "latency_s_max": round(max(latencies), 1),
        "latency_simulated_min_p95": round(q[94] / interval, 2),
    }
    print(json.dumps(result))
    spark.stop()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
