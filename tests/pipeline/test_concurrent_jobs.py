"""Jobs that overlap, as separate real processes (core.locks; the lock's rules themselves are in
tests/test_locks.py):

- two ingests of one department started together ingest each file once;
- an erasure started while the main job runs waits for it, and the job's build and publish never
  put the erased subject back; the job is not broken by the erasure's VACUUM;
- a publish racing a revocation leaves the revoked contract without a rule.
"""
from __future__ import annotations

import json
import os
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
from govlake.pipeline.ingest import planning
from govlake.platform import lake
from tests.conftest import RUN_TIME, SAMPLE_START, copy_of_lakehouse, free_port

pytestmark = [pytest.mark.spark, pytest.mark.faults]



def govlake(state: Path, *args: str) -> subprocess.Popen:
    env = os.environ | {"GOVLAKE_STATE_DIR": str(state), "GOVLAKE_TRINO_PORT": str(free_port())}  # never the suite's Trino
    return subprocess.Popen([sys.executable, "-m", "govlake", *args], env=env, start_new_session=True, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finished(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, f"rc {proc.returncode}\n{err[-3000:]}"
    return out


def test_two_ingests_of_one_department_at_once_ingest_each_file_once(spark, tmp_path):
    s = Settings(state_dir=tmp_path / "state")
    dept = registry.get(s, "transport")
    landing = s.landing_root / dept.id
    feed = generator.generate(dept, landing, rows=300, seed=41, start=SAMPLE_START)
    files = sorted(p.name for p in feed.paths.values())
    args = ("ingest", "--department", dept.id, "--run-time", RUN_TIME.isoformat(), "--json")
    a, b = govlake(s.state, *args), govlake(s.state, *args)
    results = [json.loads(finished(p)) for p in (a, b)]
    assert sorted(r["batch_id"] is None for r in results) == [False, True], results  # one ingested, the other found nothing new
    m = spark.read.format("delta").load(lake.table_path(s, "base", "ingest_manifest")).collect()
    assert sorted(r.file_name for r in m) == files and len({r.batch_id for r in m}) == 1
    det = spark.read.format("delta").load(lake.table_path(s, "base", "detections"))
    assert det.count() == det.select("department", "detection_id").distinct().count() == len(feed.data.detections)
    log = spark.read.format("delta").load(lake.table_path(s, "base", "batch_log")).collect()
    assert {r.batch_id for r in log} == {m[0].batch_id} and all(r.balanced == "true" for r in log)
    assert sorted(p.name for p in (landing / "_ingested" / m[0].batch_id).iterdir()) == files
    assert not (landing / planning.JOURNAL).exists()


@pytest.fixture(scope="module")
def private(lakehouse, settings, tmp_path_factory) -> Settings:
    return copy_of_lakehouse(settings, tmp_path_factory, "concurrent-jobs")


@pytest.mark.trino
def test_an_erasure_during_the_main_job_waits_for_it_and_nothing_brings_the_subject_back(private, spark):
    from govlake.compliance import erasure
    from govlake.platform.secrets import token_key

    dept = registry.get(private, "police")
    landing = private.landing_root / dept.id
    feed = generator.generate(dept, landing, rows=300, seed=42, start=SAMPLE_START + timedelta(hours=3))
    plate = next(d["plate_no"] for d in feed.data.detections if d["plate_no"])  # in the new files and (city fleet) maybe in base
    job = govlake(private.state, "run", "--run-time", RUN_TIME.isoformat(), "--no-serve")
    deadline = time.monotonic() + 300
    while not (landing / planning.JOURNAL).exists():  # the job holds the lake: it planned its batch under the lock
        assert job.poll() is None and time.monotonic() < deadline, "the main job ended before planning its batch"
        time.sleep(0.2)
    report = erasure.erase(spark, private, erasure.subject_token(plate, token_key(private, create=False)), identifier=plate, request="REQ-CONC-1")
    assert job.poll() is not None  # the erasure ran only once the job had finished...
    finished(job)  # ...and the job was not broken by its VACUUM
    assert report.complete, report.as_dict()
    base = spark.read.format("delta").load(lake.table_path(private, "base", "detections"))
    assert base.where(F.col("plate_no") == plate).count() == 0
    assert base.where(F.col("detection_id") == feed.data.detections[0]["detection_id"]).count() == 1  # the job's rows are in
    token = erasure.subject_token(plate, token_key(private, create=False))
    assert spark.read.format("delta").load(lake.table_path(private, "analytic", "detections_deidentified")).where(F.col("plate_token") == token).count() == 0
    assert audit.verify(private).ok


@pytest.mark.trino
def test_a_publish_racing_a_revocation_leaves_the_revoked_contract_without_a_rule(private, spark):
    from govlake.context import Context
    from govlake.contracts import access

    ctx = Context(private)
    active = [r for r in ctx.contracts() if r.status == "active"]
    assert active
    victim = active[0]
    spec = victim.spec
    job = govlake(private.state, "publish", "--at", RUN_TIME.isoformat(), "--no-serve")
    time.sleep(6)  # Spark is starting or the publish is under way: the revocation lands somewhere inside it
    ctx.revoke_contract(victim.id, "zhao_compliance", "concurrency test: revoked during a publish", RUN_TIME + timedelta(minutes=1))
    finished(job)
    rules = json.loads(access.rules_path(private).read_text())
    granting = [r for r in rules["tables"] if r.get("schema") == spec.consumer_schema and r.get("table") == spec.table and r.get("privileges")]
    assert granting == [], granting
    assert {r.id: r.status for r in ctx.contracts()}[victim.id] == "revoked"
    others = {(r.spec.consumer_schema, r.spec.table) for r in active[1:]}
    still = {(r.get("schema"), r.get("table")) for r in rules["tables"] if r.get("privileges")}
    assert others <= still  # the other contracts keep their rules
