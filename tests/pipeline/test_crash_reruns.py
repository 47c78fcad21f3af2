"""kill -9 of a whole job (the `govlake` process and its Spark JVM) at several points, then a
rerun: the rerun completes the job with nothing lost and nothing doubled.

Each crash is real: the job runs as its own process group, and at a named crash point
(core.faults; `<point>+<s>` lands the kill inside the step that follows, such as a MERGE's commit
or a VACUUM's deletes) SIGKILL goes to the group. The reruns are the ordinary in-process calls.

- ingest: killed during the reads, during the MERGEs, between the bookkeeping commits and the
  manifest, and between the manifest and the archive; a new file lands between the crashes. The
  result equals a clean ingest of the same files, row for row, every batch balances, the
  manifest and the archive agree.
- publish, erasure and retention run on a private copy of the shared lakehouse: killed between
  tables, during a VACUUM, before the export; after the rerun every table is whole and readable,
  the erased subject is nowhere, expired rows are gone, and `audit verify` passes.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from govlake.core.settings import Settings
from govlake.departments import generator, registry
from govlake.governance import audit
from govlake.pipeline import ingest
from govlake.pipeline.ingest import planning
from govlake.platform import lake
from tests.conftest import RUN_TIME, SAMPLE_START, copy_of_lakehouse, free_port

pytestmark = [pytest.mark.spark, pytest.mark.faults]

BASE = ("cameras", "detections", "events", "quarantine")



def crash(state: Path, point: str, *args: str, stdin: str | None = None) -> None:
    """Run `govlake <args>` on `state` and kill its process tree at `point`; fails if the job
    ended any other way or left a process of its group behind."""
    env = os.environ | {"GOVLAKE_STATE_DIR": str(state), "GOVLAKE_CRASH_AT": point,
                        "GOVLAKE_TRINO_PORT": str(free_port())}  # nothing reaches the suite's Trino
    proc = subprocess.Popen([sys.executable, "-m", "govlake", *args], env=env, start_new_session=True, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(stdin, timeout=600)
    assert proc.returncode == -signal.SIGKILL, f"`govlake {' '.join(args)}` was not killed at {point}: rc {proc.returncode}\n{err[-3000:]}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # the group still has a member (the JVM)?
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"a process of the killed job's group {proc.pid} is still alive")


def rows(spark, settings: Settings, table: str, drop: tuple[str, ...] = ()) -> list[tuple]:
    df = spark.read.format("delta").load(lake.table_path(settings, "base", table))
    return sorted(tuple(r) for r in df.drop(*drop).collect())


def manifest_agrees_with_archive(spark, settings: Settings, landing: Path, dept: str) -> None:
    import hashlib

    m = spark.read.format("delta").load(lake.table_path(settings, "base", "ingest_manifest")).where(F.col("department") == dept).collect()
    assert m
    for r in m:
        where = landing / ("_rejected" if r.status == "rejected" else f"_ingested/{r.batch_id}") / r.file_name
        assert where.is_file(), f"{r.file_name} of batch {r.batch_id} is not at {where}"
        assert hashlib.sha256(where.read_bytes()).hexdigest() == r.sha256
    left = [p.name for p in landing.iterdir() if p.is_file()]
    assert left == [], f"files left in the landing folder: {left}"


def test_an_ingest_killed_at_any_point_is_completed_by_the_rerun(spark, settings, tmp_path):
    dept = registry.get(settings, "police")  # cameras, detections and events
    crashed, clean = Settings(state_dir=tmp_path / "crashed"), Settings(state_dir=tmp_path / "clean")
    landing, clean_landing = crashed.landing_root / dept.id, clean.landing_root / dept.id
    generator.generate(dept, landing, rows=500, seed=21, start=SAMPLE_START, fault_rate=0.1)
    later = tmp_path / "later"
    generator.generate(dept, later, rows=300, seed=22, start=SAMPLE_START + timedelta(days=1), fault_rate=0.1)

    args = ("ingest", "--department", dept.id, "--run-time", RUN_TIME.isoformat())
    crash(crashed.state, "ingest.read", *args)
    assert not (landing / "_ingested").exists()
    crash(crashed.state, "ingest.merge+4", *args)  # inside the first entity's MERGEs, or just after
    for f in later.iterdir():  # more files arrive before the next attempt: they wait for the next batch
        shutil.copy(f, landing / f.name)
    crash(crashed.state, "ingest.manifest", *args)
    crash(crashed.state, "ingest.archive", *args)
    assert (landing / planning.JOURNAL).exists()
    first = ingest.ingest_department(spark, crashed, dept, landing, RUN_TIME)  # the rerun: completes, then the new files
    assert first is not None and first.totals["read"] > 0
    assert ingest.ingest_department(spark, crashed, dept, landing, RUN_TIME) is None  # nothing left

    # the same files, ingested without a crash, batch by batch
    generator.generate(dept, clean_landing, rows=500, seed=21, start=SAMPLE_START, fault_rate=0.1)
    ingest.ingest_department(spark, clean, dept, clean_landing, RUN_TIME)
    for f in later.iterdir():
        shutil.copy(f, clean_landing / f.name)
    ingest.ingest_department(spark, clean, dept, clean_landing, RUN_TIME)

    for table in BASE:
        got, want = rows(spark, crashed, table), rows(spark, clean, table)
        assert got == want, f"base.{table}: {len(got)} rows after the crashes, {len(want)} after a clean ingest"
    log = ("batch_id", "entity", "read", "accepted", "quarantined", "duplicates", "balanced")
    got = sorted(tuple(r) for r in spark.read.format("delta").load(lake.table_path(crashed, "base", "batch_log")).select(*log).collect())
    want = sorted(tuple(r) for r in spark.read.format("delta").load(lake.table_path(clean, "base", "batch_log")).select(*log).collect())
    assert got == want and len({r[0] for r in got}) == 2
    assert all(r[-1] == "true" for r in got)  # read = accepted + quarantined + duplicates, each batch and entity
    for table, key in (("detections", ["department", "detection_id"]), ("events", ["department", "event_id"])):
        df = spark.read.format("delta").load(lake.table_path(crashed, "base", table))
        assert df.count() == df.select(*key).distinct().count()
    manifest_agrees_with_archive(spark, crashed, landing, dept.id)
    assert not (landing / planning.JOURNAL).exists()


# --- publish, erasure and retention, on a private copy of the shared lakehouse -------------------

@pytest.fixture(scope="module")
def private(lakehouse, settings, tmp_path_factory) -> Settings:
    return copy_of_lakehouse(settings, tmp_path_factory, "crash-reruns")


def app_tables(settings: Settings) -> list[Path]:
    root = Path(lake.table_path(settings, "application", ""))
    return sorted(p for p in root.glob("app_*/*") if p.is_dir())


def whole(spark, path: Path) -> int:
    """Rows of the table's current version, every data file read (a file a VACUUM took too early
    fails here)."""
    df = spark.read.format("delta").load(str(path))
    n, _ = df.select(F.count(F.lit(1)), F.sum(F.hash(*df.columns))).first()  # every column of every file
    return n


@pytest.mark.trino
def test_a_publish_killed_between_tables_leaves_each_table_whole_and_the_rerun_completes(private, spark):
    from govlake.pipeline import analytic, main_job
    from govlake.platform.secrets import token_key

    dept = registry.get(private, "traffic")
    generator.generate(dept, private.landing_root / dept.id, rows=400, seed=31, start=SAMPLE_START + timedelta(hours=6))
    ingest.ingest_department(spark, private, dept, private.landing_root / dept.id, RUN_TIME)
    analytic.build(spark, private, token_key(private))
    before = {p: whole(spark, p) for p in app_tables(private)}
    assert len(before) >= 2

    crash(private.state, "publish.table", "publish", "--at", RUN_TIME.isoformat())
    after_crash = {p: whole(spark, p) for p in app_tables(private)}
    assert set(after_crash) == set(before)  # the kill came before any retirement
    crash(private.state, "publish.export", "publish", "--at", RUN_TIME.isoformat())

    published, _ = main_job.publish(spark, private, RUN_TIME, serve=False)  # the rerun
    tables = app_tables(private)
    assert sorted(Path(p.path) for p in published) == tables  # nothing retired left half-deleted, nothing extra
    for p in published:
        assert whole(spark, Path(p.path)) == p.rows
        assert p.rows >= before.get(Path(p.path), 0)
    again, _ = main_job.publish(spark, private, RUN_TIME, serve=False)
    assert [(p.path, p.rows) for p in again] == [(p.path, p.rows) for p in published]
    assert audit.verify(private).ok


@pytest.mark.trino
def test_an_erasure_killed_between_tables_and_during_a_vacuum_is_completed_by_the_rerun(private, spark):
    from govlake.compliance import erasure
    from govlake.platform.secrets import token_key

    base = spark.read.format("delta").load(lake.table_path(private, "base", "detections"))
    plate = base.where("plate_no IS NOT NULL").groupBy("plate_no").count().orderBy(F.desc("count"), "plate_no").first().plate_no
    crash(private.state, "erase.table", "erase", "--identifier-stdin", "--request", "REQ-CRASH-1", stdin=plate + "\n")
    crash(private.state, "lake.vacuum+1", "erase", "--identifier-stdin", "--request", "REQ-CRASH-1", stdin=plate + "\n")
    token = erasure.subject_token(plate, token_key(private, create=False))
    report = erasure.erase(spark, private, token, identifier=plate, request="REQ-CRASH-1")
    assert report.complete, report.as_dict()
    assert not report.failed and not any(report.residue.values()), report.residue
    assert spark.read.format("delta").load(lake.table_path(private, "base", "detections")).where(F.col("plate_no") == plate).count() == 0
    for p in app_tables(private):
        whole(spark, p)
    assert audit.verify(private).ok


@pytest.mark.trino
def test_a_retention_run_killed_during_a_vacuum_is_completed_by_the_rerun(private, spark):
    from govlake.compliance import retention

    at = SAMPLE_START + timedelta(days=30, hours=12)  # the first half of the sample day is past its 30 days (L4)
    cutoff = retention.cutoff(at, 30)
    det = lake.table_path(private, "base", "detections")
    assert spark.read.format("delta").load(det).where(F.col("observed_at") < cutoff).count() > 0
    crash(private.state, "lake.vacuum+1", "retention", "run", "--at", at.isoformat())
    report = retention.enforce(spark, private, at)
    assert not report.failed, report.failed
    assert spark.read.format("delta").load(det).where(F.col("observed_at") < cutoff).count() == 0
    for table in ("detections", "events", "quarantine", "batch_log"):
        whole(spark, Path(lake.table_path(private, "base", table).removeprefix("file:")))
    assert audit.verify(private).ok
