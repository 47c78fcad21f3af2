"""What only the cluster profile has: work on the workers, losing a worker, erasure on object
storage, the audit chain on PostgreSQL after the whole suite."""
from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
from datetime import timedelta

import pytest

from govlake.context import Context
from govlake.core.errors import QueryError
from govlake.compliance import retention
from govlake.governance import audit
from govlake.platform import lake, storage
from govlake.services import spark_cluster, sql, trino
from tests.conftest import RUN_TIME, SAMPLE_START

pytestmark = [pytest.mark.cluster, pytest.mark.spark, pytest.mark.trino]


def test_the_profile_runs_on_distributed_services(settings, lakehouse):
    assert settings.warehouse_root.startswith("s3a://") and settings.spark_master.startswith("spark://")
    assert settings.trino_workers >= 1 and settings.spark_workers >= 1
    from govlake.governance import store

    assert store.engine(settings).dialect.name == "postgresql"
    # the lakehouse is in the object store, not on this host's disk
    assert storage.is_dir(settings, lake.table_path(settings, "base", "detections") + "/_delta_log")
    assert not (settings.state / "warehouse").exists()


def test_trino_executes_on_the_worker_not_the_coordinator(settings, lakehouse):
    nodes = sql.query(settings, "ops_admin", "SELECT node_id, coordinator, state FROM system.runtime.nodes").rows
    workers = {n for n, coordinator, state in nodes if not coordinator and state == "active"}
    assert len(nodes) == 1 + settings.trino_workers and len(workers) == settings.trino_workers, nodes
    conn = sql.connect(settings, "ops_admin")
    cur = conn.cursor()
    cur.execute("SELECT department, count(*) FROM base.detections GROUP BY department")
    assert cur.fetchall()
    query_id = cur.query_id
    tasks = sql.query(settings, "ops_admin", f"SELECT node_id, count(*), sum(splits) FROM system.runtime.tasks "
                                             f"WHERE query_id = '{query_id}' GROUP BY node_id").rows
    assert tasks and {node for node, _, _ in tasks} <= workers, f"tasks ran on {tasks}, workers are {workers}"
    assert sum(splits for _, _, splits in tasks) > 0


def _master(settings) -> dict:
    host, _ = spark_cluster.master_address(settings)
    with urllib.request.urlopen(f"http://{host}:{settings.spark_master_webui_port}/json/", timeout=5) as resp:
        return json.loads(resp.read())


def test_spark_jobs_run_on_the_worker_executors(settings, spark, lakehouse):
    assert spark.sparkContext.master == settings.spark_master
    # Python tasks run in processes the executor started inside its work folder on the worker
    # (local mode would run them beside the driver, in the project folder)
    where = set(spark.sparkContext.parallelize(range(8), 4).map(lambda _: __import__("os").getcwd()).collect())
    work = str(settings.state / "spark-work")
    assert where and all(w.startswith(work) for w in where), where
    # executors come and go with the work (dynamic allocation): right after a job there is one
    assert spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1 >= 1  # less the driver
    apps = [a for a in _master(settings)["activeapps"] if a["id"] == spark.sparkContext.applicationId]
    assert apps, _master(settings)


def _new_feed(settings, dept_id: str, seed: int):
    from govlake.departments import generator, registry

    dept = next(d for d in registry.load_all(settings) if d.id == dept_id)
    later = SAMPLE_START + timedelta(hours=6)
    return generator.generate(dept, settings.landing_root / dept.id, rows=300, seed=seed, start=later)


def _base_counts(settings) -> tuple[int, int]:
    rows = sql.query(settings, "ops_admin", "SELECT count(*), count(DISTINCT department || ':' || detection_id) FROM base.detections").rows[0]
    return rows[0], rows[1]


@pytest.mark.last
def test_losing_the_spark_worker_fails_the_run_clearly_and_the_rerun_completes_exactly_once(settings, spark, lakehouse):
    ctx = Context(settings)
    before, distinct_before = _base_counts(settings)
    assert before == distinct_before
    _new_feed(settings, "traffic", seed=41)

    def kill_worker():
        time.sleep(3)
        spark_cluster.stop_one(settings, "worker-1", sig=signal.SIGKILL)  # the worker and its executors, as a host loss

    killer = threading.Thread(target=kill_worker)
    killer.start()
    t0 = time.monotonic()
    with pytest.raises(Exception) as failed:
        ctx.ingest("traffic", RUN_TIME)
    killer.join()
    print(f"the run failed {time.monotonic() - t0:.0f} s after it started")
    assert "no live worker" in str(failed.value) and "run the job again" in str(failed.value), str(failed.value)[:2000]

    assert spark_cluster.start(settings).state == "running"
    result = ctx.ingest("traffic", RUN_TIME)
    assert result is not None and result.as_dict()["balanced"], result.as_dict()
    detections = next(e for e in result.entities if e.entity == "detections")
    after, distinct_after = _base_counts(settings)
    assert after == distinct_after, "a detection was ingested twice"
    assert after - before == detections.accepted > 0, (before, after, result.as_dict())
    assert ctx.ingest("traffic", RUN_TIME) is None  # the files are in the manifest: nothing is ingested again


@pytest.mark.last
def test_losing_the_trino_worker_fails_the_query_clearly_and_the_rerun_answers(settings, lakehouse):
    heavy = "SELECT count(*) FROM UNNEST(sequence(1, 3000)) a(x) CROSS JOIN UNNEST(sequence(1, 30000)) b(y) WHERE (x * y) % 7 = 3"
    errors: list[Exception] = []

    def run():
        try:
            sql.query(settings, "ops_admin", heavy)
        except Exception as exc:  # noqa: BLE001 - the failure is the point
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    time.sleep(4)
    trino.stop_worker(settings, 0, sig=signal.SIGKILL)
    t.join(timeout=300)
    assert errors and isinstance(errors[0], QueryError), errors
    print(f"the query failed with: {errors[0]}")
    with pytest.raises(QueryError):  # no worker: nothing runs on the coordinator, and it says so
        sql.query(settings, "ops_admin", "SELECT count(*) FROM base.detections")
    trino.start(settings)
    assert all(w.state == "running" for w in trino.worker_status(settings))
    deadline = time.monotonic() + 60
    while True:
        try:
            assert sql.query(settings, "ops_admin", "SELECT count(*) FROM base.detections").rows[0][0] > 0
            break
        except QueryError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def _parquet_text(settings) -> str:
    """Every row of every data file under the warehouse, read straight from the object store."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files, folders = [], [settings.warehouse_root]
    while folders:
        folder = folders.pop()
        folders += [d for d in storage.child_dirs(settings, folder) if not d.endswith("/_delta_log")]
        files += [f for f in storage.list_files(settings, folder) if f.endswith(".parquet")]
    assert files
    return "\n".join(str(pq.read_table(pa.BufferReader(storage.read_bytes(settings, f))).to_pylist()) for f in files)


@pytest.mark.last
def test_erasure_purges_the_subject_from_object_storage_and_time_travel(settings, spark, lakehouse, capfd):
    from pyspark.sql import functions as F

    from govlake.domain import masking
    from govlake.platform.secrets import token_key

    key = token_key(settings, create=False)
    load = lambda tier, t: spark.read.format("delta").load(lake.table_path(settings, tier, t))  # noqa: E731
    deid = load("analytic", "detections_deidentified")
    subject = deid.where("plate_token IS NOT NULL").groupBy("plate_token").count().orderBy(F.desc("count")).first()
    token = subject.plate_token
    base = load("base", "detections")
    plate = masking.keyed(base, key).where(masking.token(F.col("plate_no"), key) == token).select("plate_no").first().plate_no
    n_base, total = base.where(F.col("plate_no") == plate).count(), base.count()
    version = spark.sql(f"DESCRIBE HISTORY delta.`{lake.table_path(settings, 'base', 'detections')}` LIMIT 1").first().version
    assert n_base > 1 and plate in _parquet_text(settings)

    report = Context(settings).erase(token, request="REQ-cluster-1")
    assert report.complete and report.identifier_found, report.as_dict()
    assert report.tables["base.detections"]["rows_deleted"] == n_base
    assert report.residue == {} and report.log_mentions == {}, report.as_dict()  # the transaction-log check, on S3
    base = load("base", "detections")
    assert base.where(F.col("plate_no") == plate).count() == 0 and base.count() == total - n_base
    assert load("analytic", "detections_deidentified").where(F.col("plate_token") == token).count() == 0
    # VACUUM on the object store: no data file holds the plate, and time travel cannot bring it back
    assert plate not in _parquet_text(settings)
    try:
        old = spark.read.format("delta").option("versionAsOf", version).load(lake.table_path(settings, "base", "detections"))
        assert old.where(F.col("plate_no") == plate).count() == 0
    except Exception as exc:  # noqa: BLE001 - the purged version's files are gone
        assert "FileNotFound" in str(exc) or "does not exist" in str(exc) or "FILE_NOT_EXIST" in str(exc), exc
    out, err = capfd.readouterr()
    assert plate not in out + err and token not in out + err


@pytest.mark.last
def test_the_audit_chain_on_postgresql_verifies_after_the_whole_suite(settings, lakehouse):
    from govlake.governance import store

    result = audit.verify(settings)
    assert result.ok, result.as_dict()
    with store.engine(settings).connect() as conn:
        seqs = [r[0] for r in conn.exec_driver_sql("SELECT seq FROM audit_log ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) > 100, len(seqs)
    assert Context(settings).verify_audit().ok


def test_no_secret_is_on_any_command_line(settings, spark, lakehouse):
    """Every account on a host reads every process's command line: the object store's keys, the
    Spark cluster's secret, PostgreSQL's password and Trino's internal secret are in private
    files and process memory only (the driver JVM, the executors, the daemons, s3proxy)."""
    from pathlib import Path

    from govlake.platform import postgres_access, secrets
    from govlake.services import trino_security

    creds = storage.s3_credentials(settings)
    values = {"S3 secret key": creds.secret_key, "Spark secret": secrets.spark_secret(settings),
              "PostgreSQL password": postgres_access.password(settings),
              "Trino internal secret": trino_security.ensure(settings).shared_secret}
    seen = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        seen += 1
        leaked = [name for name, value in values.items() if value and value in cmdline]
        assert not leaked, f"{leaked} on the command line of pid {proc.name}: {cmdline[:120]}..."
    assert seen > 10
    driver = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    assert (Path("/proc") / str(driver)).is_dir()  # the driver JVM was among them


def _data_files(settings, uri: str) -> list[str]:
    """Every Parquet file under a table's location on the object store (partition folders included)."""
    found = [f for f in storage.list_files(settings, uri) if f.endswith(".parquet")]
    for sub in storage.child_dirs(settings, uri):
        if not storage.name(sub).startswith("_"):
            found += _data_files(settings, sub)
    return found


@pytest.mark.last
def test_the_compliance_report_and_retention_run_on_the_cluster(settings, spark, lakehouse):
    """Last of all: retention at a time when every row is past its period empties the tiers and,
    with a policy that keeps no history, vacuums the replaced files off the object store (the
    shipped policy keeps 168 h, so its VACUUM would rightly remove nothing written minutes ago)."""
    ctx = Context(settings)
    report, sections = ctx.report("compliance", None, None)
    assert report and sections
    later = RUN_TIME + timedelta(days=3650)
    plan = ctx.enforce_retention(later, dry_run=True)
    assert not plan.failed and plan.tables["base.detections"]["would_delete"] > 0, plan.as_dict()
    path = lake.table_path(settings, "base", "detections")
    before, files_before = _base_counts(settings)[0], len(_data_files(settings, path))
    policy = retention.load_policy(settings).model_copy(update={"vacuum_retain_hours": 0})
    done = retention.enforce(spark, settings, later, policy=policy)
    assert not done.failed, done.as_dict()
    entry = done.tables["base.detections"]
    assert entry["rows_deleted"] == plan.tables["base.detections"]["would_delete"] and entry["files_removed"], entry
    assert _base_counts(settings)[0] == before - entry["rows_deleted"]
    live = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0].numFiles
    assert len(_data_files(settings, path)) == live < files_before  # nothing but the live files is left
    assert audit.verify(settings).ok


def test_the_supervisor_brings_back_a_killed_postgresql_object_store_and_spark_worker(settings, lakehouse):
    """Each platform daemon killed with SIGKILL, as a crash: the supervisor notices, starts only
    what is missing, and records the restart; afterwards the lakehouse answers as before."""
    import os

    from govlake.platform.processes import running_pid
    from govlake.services import object_store, postgres, supervisor

    watched = ("postgres", "objects", "spark")
    assert set(watched) <= set(supervisor.local_platform(settings))
    fast = settings.model_copy(update={"supervise_every_s": 1.0})
    before = sql.query(settings, "ops_admin", "SELECT count(*) FROM base.detections").rows[0][0]
    master = running_pid(settings.run_dir / "spark-master.pid")
    sup = supervisor.start(fast, watched)
    try:
        assert sup.state == "running"
        killed = {"postgres": postgres.status(settings).pid, "objects": object_store.status(settings).pid,
                  "spark": running_pid(settings.run_dir / "spark-worker-1.pid")}
        assert all(killed.values()), killed
        at = time.time()
        for pid in killed.values():
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            states = {name: supervisor.probe(settings, name) for name in watched}
            if all(state == "running" for state in states.values()):
                break
            time.sleep(1)
        assert all(state == "running" for state in states.values()), (states, (settings.logs_dir / "supervisor.log").read_text()[-3000:])
    finally:
        supervisor.stop(fast)
    assert postgres.status(settings).pid != killed["postgres"] and object_store.status(settings).pid != killed["objects"]
    assert running_pid(settings.run_dir / "spark-master.pid") == master  # only the lost worker was started again
    restarts = supervisor.report(settings, at - 1, time.time() + 1)
    for name in watched:
        assert restarts[name]["restarts"] >= 1 and restarts[name]["last_restart"]["ok"], (name, restarts[name])
    assert sql.query(settings, "ops_admin", "SELECT count(*) FROM base.detections").rows[0][0] == before
    from govlake.governance import store

    with store.engine(settings).connect() as conn:  # the session's own connections were cut: the pool reconnects
        assert conn.execute(store.audit_log.select().limit(1)).first() is not None
