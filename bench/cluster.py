"""The embedded profile against the cluster profile on the same data.

    python bench/cluster.py [--departments 100] [--rows 10000] [--queries 15]

Generates N synthetic departments (formats cycling GBK CSV / JSON lines / Parquet; `--rows`
detections each, plus their cameras and events) once, then for each profile, in a process of
its own on a fresh state folder with the profile's services started on free loopback ports:

1. ingest of every department's files in one shared pass, then the analytic build (timed apart);
2. tables registered in Trino, then an aggregation over `analytic.detections_deidentified` (all
   rows: per department and hour, distinct plates) run `--queries` times as the operator, median;
3. drop-to-queryable: one department drops a new detections file; the time until a Trino query
   sees its rows (ingest of that department, registration, the query), median of three drops;
4. on the cluster profile only, the query of 2 again with Trino restarted as one node (no
   workers, the coordinator runs the tasks) on the same object store, to separate "one node
   versus coordinator + worker" from "local files versus object store".

Results print as JSON; BENCHMARKS.md gets them by hand with the machine and the command.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START = datetime(2026, 11, 20, tzinfo=timezone.utc)
RUN_TIME = datetime(2026, 11, 21, tzinfo=timezone.utc)
QUERY = ("SELECT department, observed_hour AS hour, count(*) AS detections, "
         "count(DISTINCT plate_token) AS plates FROM analytic.detections_deidentified GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 20")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ports(profile: str) -> dict[str, str]:
    env = {"GOVLAKE_TRINO_PORT": str(free_port()), "GOVLAKE_CONSOLE_PORT": str(free_port())}
    if profile == "cluster":
        env |= {"GOVLAKE_POSTGRES_PORT": str(free_port()), "GOVLAKE_OBJECT_STORE_PORT": str(free_port()),
                "GOVLAKE_SPARK_MASTER": f"spark://127.0.0.1:{free_port()}", "GOVLAKE_SPARK_MASTER_WEBUI_PORT": str(free_port()),
                "GOVLAKE_TRINO_WORKER_PORT": str(free_port())}
    return env


def _median_query(ctx, n: int) -> tuple[float, int]:
    runs = []
    for _ in range(n):
        t = time.perf_counter()
        rows = ctx.sql("ops_admin", QUERY).rows
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), len(rows)


def _shut_down(steps) -> list[Exception]:
    """Run every step, each whatever the ones before did; the failures, printed and returned."""
    failed = []
    for what, stop in steps:
        try:
            stop()
        except Exception as exc:  # noqa: BLE001 - the next step still runs
            print(f"stopping {what} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed.append(exc)
    return failed


def one(args) -> dict:
    """Runs inside the profile's own process (GOVLAKE_PROFILE, GOVLAKE_STATE_DIR set by the parent)."""
    from govlake.context import Context
    from govlake.departments import generator, registry
    from govlake.pipeline import analytic, main_job
    from govlake.platform.secrets import token_key
    from govlake.services import postgres, serving, trino

    ctx = Context()
    s = ctx.settings
    out: dict = {"profile": s.profile, "warehouse": s.warehouse_root, "spark_master": s.spark_master, "trino_workers": s.trino_workers}
    spark = None
    done = False
    try:
        t = time.perf_counter()
        ctx.start_platform()
        trino.start(s, log=lambda *_: None)
        out["services_start_s"] = round(time.perf_counter() - t, 1)
        shutil.copytree(Path(args.work) / "landing", s.landing_root)
        spark = ctx.spark
        spark.range(1).count()  # the session (and on the cluster its executors) up before timing

        t = time.perf_counter()
        report = main_job.ingest_all(spark, s, RUN_TIME, s.landing_root)
        out["ingest_s"] = round(time.perf_counter() - t, 1)
        if report.failures:
            raise SystemExit(f"ingest failures: {report.failures}")
        dets = [e for b in report.batches for e in b.entities if e.entity == "detections"]
        out["detections_read"], out["detections_accepted"] = sum(e.read for e in dets), sum(e.accepted for e in dets)
        t = time.perf_counter()
        rows = analytic.build(spark, s, token_key(s))
        out["analytic_build_s"] = round(time.perf_counter() - t, 1)
        out["analytic_rows"] = rows
        serving.sync(s, [t for t in main_job.served_tables(s, []) if t.schema in ("base", "analytic")])
        out["query_median_s"], out["query_rows"] = _median_query(ctx, args.queries)
        out["query_median_s"] = round(out["query_median_s"], 3)

        latencies = []
        dept = registry.load_all(s)[0]
        for i in range(3):
            before = ctx.sql("ops_admin", f"SELECT count(*) FROM base.detections WHERE department = '{dept.id}'").rows[0][0]
            t = time.perf_counter()
            generator.generate(dept, s.landing_root / dept.id, rows=200, seed=100 + i, start=START + timedelta(hours=3 + i))
            ctx.ingest(dept.id, RUN_TIME)
            serving.sync(s, [t for t in main_job.served_tables(s, []) if t.schema in ("base", "analytic")])
            after = ctx.sql("ops_admin", f"SELECT count(*) FROM base.detections WHERE department = '{dept.id}'").rows[0][0]
            latencies.append(time.perf_counter() - t)
            assert after > before, (before, after)
        out["drop_to_queryable_s"] = [round(x, 1) for x in latencies]
        out["drop_to_queryable_median_s"] = round(statistics.median(latencies), 1)

        if s.trino_workers:
            trino.stop(s)
            single = s.model_copy(update={"trino_workers": 0})
            trino.start(single, log=lambda *_: None)
            _median_query(ctx, 2)  # warm the restarted server as the first measurement was warmed
            median, _ = _median_query(Context(single), args.queries)
            out["query_one_node_same_store_median_s"] = round(median, 3)
        done = True
    finally:
        # whatever failed: Trino (its workers, and the one-node coordinator, which shares the pid
        # file), the Spark session and the platform services go, so no JVM or PostgreSQL outlives the run
        steps = [("Trino", lambda: trino.stop(s))]
        if spark is not None:
            steps.append(("the Spark session", spark.stop))
        steps += [(m.__name__.rsplit(".", 1)[-1], lambda m=m: m.stop(s)) for m in reversed(ctx.platform_services())]
        if s.postgres_port:
            steps.append(("PostgreSQL's cluster", lambda: postgres.remove(s)))
        failed = _shut_down(steps)
        if done and failed:
            raise failed[0]
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--departments", type=int, default=100)
    p.add_argument("--rows", type=int, default=10000)
    p.add_argument("--queries", type=int, default=15)
    p.add_argument("--profiles", default="embedded,cluster")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print("RESULT " + json.dumps(one(args)), flush=True)
        return 0

    from govlake.departments import generator, synthetic

    work = Path(tempfile.mkdtemp(prefix="govlake-bench-cluster-"))
    depts = synthetic.write_departments(work / "registry", args.departments)
    t = time.perf_counter()
    for d in depts:
        generator.generate(d, work / "landing" / d.id, rows=args.rows, seed=1, start=START)
    results = {"departments": args.departments, "detections": args.departments * args.rows, "generate_s": round(time.perf_counter() - t, 1),
               "cores": os.cpu_count(), "profiles": {}}
    for profile in args.profiles.split(","):
        env = {**os.environ, "GOVLAKE_PROFILE": profile, "GOVLAKE_STATE_DIR": str(work / f"state-{profile}"),
               "GOVLAKE_DEPARTMENTS_DIR": str(work / "registry"), **ports(profile)}
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--one", profile, "--work", str(work), "--queries", str(args.queries)],
                              env=env, capture_output=True, text=True)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if proc.returncode or line is None:
            print(proc.stdout[-3000:], proc.stderr[-6000:], file=sys.stderr)
            raise SystemExit(f"the {profile} run failed ({proc.returncode})")
        results["profiles"][profile] = json.loads(line[len("RESULT "):]) | {"wall_s": round(time.perf_counter() - t, 1)}
        print(json.dumps(results["profiles"][profile]), file=sys.stderr, flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
