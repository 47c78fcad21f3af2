"""govlake benchmarks. Results go to BENCHMARKS.md by hand, with the command and the machine.

    python bench/run.py dagbag  [--departments 100] [--repeat 3]
    python bench/run.py ingest  [--departments 100] [--rows 10000]

`ingest` generates N synthetic departments (formats cycling GBK CSV / JSON lines / Parquet), then
in one Spark session times (a) a baseline: per department, a plain Spark read of the same files
written straight to Delta (append, no mapping, no validation), and (b) govlake's ingest of the
same files (mapping, validation, quarantine, MERGE, batch log, manifest). Both run in the same
process on the same files; the ratio is what to compare.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_dagbag(args) -> dict:
    from govlake.departments import synthetic

    work = Path(tempfile.mkdtemp(prefix="govlake-bench-"))
    synthetic.write_departments(work / "registry", args.departments)
    code = (
        "import time; t=time.perf_counter(); from airflow.dag_processing.dagbag import DagBag;"
        f"b=DagBag(dag_folder={str(ROOT / 'dags')!r}); el=time.perf_counter()-t;"
        "print('RESULT', len(b.dag_ids), len(b.import_errors), el)"
    )
    env = os.environ | {"GOVLAKE_DEPARTMENTS_DIR": str(work / "registry"), "AIRFLOW_HOME": str(work / "airflow"),
                        "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    times = []
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
        _, dags, errors, elapsed = next(ln for ln in out.splitlines() if ln.startswith("RESULT")).split()
        times.append(float(elapsed))
    return {"departments": args.departments, "dags": int(dags), "import_errors": int(errors),
            "parse_s_median": round(statistics.median(times), 2), "runs": [round(t, 2) for t in times]}


def bench_ingest(args) -> dict:
    from pyspark.sql import functions as F

    from govlake.departments import generator, synthetic
    from govlake.pipeline import ingest
    from govlake.settings import Settings
    from govlake.spark import get_spark

    work = Path(tempfile.mkdtemp(prefix="govlake-bench-"))
    settings = Settings(state_dir=work / "state", departments_dir=work / "registry")
    depts = synthetic.write_departments(work / "registry", args.departments)
    start = datetime(2026, 11, 20, tzinfo=timezone.utc)
    t = time.perf_counter()
    for d in depts:
        generator.generate(d, work / "landing" / d.id, rows=args.rows, seed=1, start=start)
    gen_s = time.perf_counter() - t
    spark = get_spark(settings)
    run_time = datetime(2026, 11, 21, tzinfo=timezone.utc)

    def baseline() -> None:
        for d in depts:
            src = d.sources["detections"]
            files = [str(p) for p in ingest.landing_files(src, work / "landing" / d.id)]
            reader = spark.read
            if src.format == "csv":
                df = reader.option("header", True).option("encoding", src.encoding).csv(files)
            elif src.format == "jsonl":
                df = reader.json(files)
            else:
                df = reader.parquet(*files)
            df = df.withColumn("department", F.lit(d.id))
            df.write.format("delta").mode("append").option("mergeSchema", "true").save(str(work / "baseline" / src.format))

    t = time.perf_counter()
    baseline()
    base_s = time.perf_counter() - t
    t = time.perf_counter()
    accepted = read = 0
    for d in depts:
        r = ingest.ingest_department(spark, settings, d, work / "landing" / d.id, run_time)
        det = next(e for e in r.entities if e.entity == "detections")
        accepted += det.accepted
        read += det.read
    gov_s = time.perf_counter() - t
    rows = args.departments * args.rows
    return {
        "departments": args.departments, "detections": rows, "generate_s": round(gen_s, 1),
        "baseline_s": round(base_s, 1), "baseline_rows_per_s": round(rows / base_s),
        "govlake_s": round(gov_s, 1), "govlake_rows_per_s": round(rows / gov_s),
        "ratio_govlake_to_baseline": round(gov_s / base_s, 2), "read": read, "accepted": accepted,
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["dagbag", "ingest"])
    p.add_argument("--departments", type=int, default=100)
    p.add_argument("--rows", type=int, default=10000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    result = bench_dagbag(args) if args.what == "dagbag" else bench_ingest(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
