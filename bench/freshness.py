"""Drop-to-queryable latency through the real scheduler: a file dropped into a department's
landing folder, picked up by its `govlake_ingest_<department>` DAG on its registry schedule, and
visible in `base.detections` through Trino.

    python bench/freshness.py [--department traffic] [--rows 200]

Runs on a private state folder: starts Trino, runs the main job once so the tables exist, starts
`airflow standalone` (scheduler, DAG processor, API server, triggerer; SQLite), drops a new file,
polls Trino every 2 s, prints the latency as JSON, and stops everything it started.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--department", default="traffic")
    p.add_argument("--rows", type=int, default=200)
    p.add_argument("--timeout", type=float, default=600)
    args = p.parse_args()

    state = Path(tempfile.mkdtemp(prefix="govlake-fresh-"))
    os.environ.update(GOVLAKE_STATE_DIR=str(state), GOVLAKE_TRINO_PORT=str(_free_port()))
    from govlake.core.settings import load_settings
    from govlake.departments import generator, registry
    from govlake.pipeline import main_job
    from govlake.platform.spark import get_spark
    from govlake.services import airflow_env, sql, trino

    settings = load_settings()
    trino.start(settings, log=lambda m: print(m, file=sys.stderr))
    start = datetime(2026, 11, 20, tzinfo=timezone.utc)
    for d in registry.load_all(settings):
        generator.generate(d, settings.landing_root / d.id, rows=100, seed=1, start=start)
    spark = get_spark(settings)
    main_job.run(spark, settings, datetime.now(timezone.utc))
    spark.stop()

    count = lambda: sql.query(settings, "ops_admin", f"SELECT count(*) FROM base.detections WHERE department = '{args.department}'").rows[0][0]  # noqa: E731
    before = count()
    api_port = _free_port()
    env = airflow_env.environment(settings) | {
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{api_port}/execution/",
        # standalone starts its parts as `airflow ...` subprocesses: the venv's bin must be on PATH
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    log = (settings.logs_dir / "airflow-standalone.log").open("wb")
    airflow = subprocess.Popen([str(Path(sys.executable).with_name("airflow")), "standalone"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        time.sleep(60)  # scheduler, DAG processor and API server up; DAGs parsed
        dept = registry.get(settings, args.department)
        t0 = time.monotonic()
        dropped_at = datetime.now(timezone.utc)
        generator.generate(dept, settings.landing_root / dept.id, rows=args.rows, seed=99, start=start)
        latency = None
        while time.monotonic() - t0 < args.timeout:
            if count() >= before + args.rows:
                latency = time.monotonic() - t0
                break
            time.sleep(2)
        print(json.dumps({"department": args.department, "schedule": dept.schedule, "rows": args.rows,
                          "dropped_at": dropped_at.isoformat(), "latency_s": round(latency, 1) if latency else None}))
        return 0 if latency is not None else 1
    finally:
        os.killpg(airflow.pid, signal.SIGTERM)
        try:
            airflow.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(airflow.pid, signal.SIGKILL)
        trino.stop(settings)


if __name__ == "__main__":
    sys.exit(main())
