"""govlake's Delta LogStore on S3 (govlake/platform/logstore.py): several Spark drivers, each its own
process, append to one Delta table on s3a:// at the same time, and no commit is lost.

The object store is govlake's own (services/object_store.py: s3proxy on a free loopback port,
file-system backend), which answers a PUT carrying `If-None-Match: *` on an existing key with 412
as S3 does. Each driver is a subprocess opening govlake's own session (platform/spark.py
`get_spark`, so S3A and the LogStore come from the same settings as production, its keys from a
private properties file) sized small: local[1], 512m, one shuffle partition. The drivers wait for
each other before appending so their commits overlap. Driver 0 creates the table first and, when
every driver is done, reads it back through Delta: the table must have one version per append
(plus the creation) and every appended row.

The stock `S3SingleDriverLogStore` (exists() then PUT, locked only inside one JVM) is not asserted
on here: whether two drivers hit its window in a given run is chance. bench/logstore_race.py runs
the same race with any LogStore class and reports what it lost:

    .venv/bin/python bench/logstore_race.py --logstore io.delta.storage.S3SingleDriverLogStore --drivers 3 --appends 6 --tries 2

Observed: 3 drivers x 6 appends with the stock store lost 2 of 18 commits (10 rows) in one of two
tries, every driver exiting without an error; 2 drivers x 6 appends lost none in two tries.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from govlake.core.settings import Settings
from govlake.platform import artifacts, logstore, storage
from govlake.platform.java import find_jdk
from govlake.services import object_store
from tests.conftest import free_port

pytestmark = pytest.mark.cluster

DRIVERS = 2
APPENDS = 6  # per driver
ROWS = 5  # per append

DRIVER = r'''
import json, sys, time
from pathlib import Path
from pyspark.sql import functions as F
from govlake.core.settings import load_settings
from govlake.platform.spark import get_spark

index, drivers, appends, rows = (int(a) for a in sys.argv[1:5])
table, sync = sys.argv[5], Path(sys.argv[6])
spark = get_spark(load_settings())  # the settings come from the GOVLAKE_* environment

def wait_for(names, timeout=300):
    end = time.time() + timeout
    while not all((sync / n).exists() for n in names):
        if time.time() > end:
            sys.exit(f"driver {index}: timed out waiting for {names}")
        time.sleep(0.05)

def batch(k):
    start = (index * appends + k) * rows
    return spark.range(start, start + rows).withColumn("driver", F.lit(index))

if index == 0:
    spark.range(0).withColumn("driver", F.lit(0)).write.format("delta").save(table)  # version 0
    (sync / "created").touch()
# warm up (class loading, Delta's write path) so that the timed appends of all drivers overlap
spark.range(1).write.format("delta").save(str(sync / f"warm-{index}"))
wait_for(["created"])
spark.read.format("delta").load(table).count()
(sync / f"ready-{index}").touch()
wait_for([f"ready-{i}" for i in range(drivers)])
started = time.time()
for k in range(appends):
    batch(k).write.format("delta").mode("append").save(table)
result = {"driver": index, "append_s": round(time.time() - started, 2)}
(sync / f"done-{index}").touch()
if index == 0:
    wait_for([f"done-{i}" for i in range(drivers)])
    from delta.tables import DeltaTable
    history = DeltaTable.forPath(spark, table).history().select("version", "operation", "readVersion").collect()
    df = spark.read.format("delta").load(table)
    result.update(
        versions=sorted(r.version for r in history),
        appends=sum(r.operation == "WRITE" for r in history) - 1,
        # a commit read at version r is first tried at r + 1: a later version means it lost a race
        retried=sum(r.readVersion is not None and r.readVersion < r.version - 1 for r in history),
        rows=df.count(),
        distinct_ids=df.select("id").distinct().count(),
        per_driver={str(r.driver): r["count"] for r in df.groupBy("driver").count().collect()},
        commit_files=sorted(f.getPath().getName() for f in spark._jvm.org.apache.hadoop.fs.Path(table + "/_delta_log")
                            .getFileSystem(spark._jsc.hadoopConfiguration())
                            .listStatus(spark._jvm.org.apache.hadoop.fs.Path(table + "/_delta_log"))
                            if f.getPath().getName().endswith(".json")),
    )
print("RESULT " + json.dumps(result), flush=True)
spark.stop()
'''


@contextmanager
def running_store(state_dir: Path):
    """Settings for a small local Spark session (embedded profile, whatever GOVLAKE_PROFILE says)
    with its warehouse in govlake's object store, started on a free port for the block."""
    settings = Settings(profile="embedded", state_dir=state_dir, object_store_port=free_port(), warehouse="s3a://warehouse/lake",
                        spark_master="local[1]", spark_driver_memory="512m", spark_shuffle_partitions=1, spark_extra_conf={})
    status = object_store.start(settings, log=lambda m: print(m, file=sys.stderr))
    try:
        assert status.state == "running", status
        yield settings
    finally:
        object_store.stop(settings)


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    """This module's own settings and object store (not the session's: see running_store)."""
    with running_store(tmp_path_factory.mktemp("logstore") / "state") as settings:
        yield settings


def race(settings: Settings, tmp_path: Path, *, store_class: str | None = None,
         drivers: int = DRIVERS, appends: int = APPENDS) -> tuple[dict, list[dict], float]:
    """`drivers` processes append `appends` times each to one new table, committing through
    `store_class` (default: govlake's LogStore); driver 0's read-back, every driver's result
    line, and the wall time."""
    table = f"{settings.warehouse}/race-{tmp_path.name}-{secrets.token_hex(4)}"
    sync = tmp_path / "sync"
    sync.mkdir()
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    env = {**os.environ, **settings.as_env()}
    if store_class:
        env["GOVLAKE_SPARK_EXTRA_CONF"] = json.dumps({f"spark.delta.logStore.{s}.impl": store_class for s in logstore.SCHEMES})
    started = time.time()
    procs = [subprocess.Popen([sys.executable, str(script), str(i), str(drivers), str(appends), str(ROWS), table, str(sync)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
             for i in range(drivers)]
    outputs = []
    for i, proc in enumerate(procs):
        try:
            out, err = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise
        assert proc.returncode == 0, f"driver {i} failed ({proc.returncode}):\n{err[-4000:]}"
        outputs.append(next(json.loads(line[7:]) for line in out.splitlines() if line.startswith("RESULT ")))
    return outputs[0], outputs, time.time() - started


def test_concurrent_drivers_lose_no_commit(settings, tmp_path):
    result, outputs, wall = race(settings, tmp_path)
    total = DRIVERS * APPENDS
    print(f"{DRIVERS} drivers x {APPENDS} appends: {wall:.1f} s wall; appending took "
          f"{', '.join(str(o['append_s']) for o in outputs)} s; {result['retried']} commits lost a race and were retried")
    assert result["versions"] == list(range(total + 1)), result  # version 0 creates the table
    assert result["appends"] == total, result
    assert len(result["commit_files"]) == total + 1, result
    assert result["rows"] == result["distinct_ids"] == total * ROWS, result
    assert result["per_driver"] == {str(i): APPENDS * ROWS for i in range(DRIVERS)}, result
    # the drivers did race: with this LogStore only the store's 412 makes Delta try a later version
    assert result["retried"] > 0, result


def test_commit_file_is_put_if_absent(settings, tmp_path):
    """Through the LogStore itself, on a fresh S3A file system: the second create of a commit file
    is refused by the store (412, RemoteFileChangedException in S3A) and reaches Delta as
    java.nio.file.FileAlreadyExistsException; the first one stays whole."""
    creds = storage.s3_credentials(settings)
    probe = tmp_path / "Probe.java"
    probe.write_text(PROBE)
    jdk = find_jdk(minimum=17, maximum=21, explicit=settings.spark_java_home, purpose="Spark")
    compile_cp = [*logstore._classpath(settings, lambda *_: None), logstore.jar(settings, log=lambda *_: None)]
    built = subprocess.run([str(jdk.home / "bin" / "javac"), "-nowarn", "-d", str(tmp_path), "-cp",
                            os.pathsep.join(map(str, compile_cp)), str(probe)], capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    run_cp = [tmp_path, logstore._pyspark_jars() / "*", *compile_cp, *artifacts.s3a_jars(settings, log=lambda *_: None)]
    done = subprocess.run(  # the keys go in the child's environment, not on its command line
        [str(jdk.java), "-Xmx256m", "-XX:-UsePerfData", "-cp", os.pathsep.join(map(str, run_cp)), "Probe", creds.endpoint, creds.region,
         f"{settings.warehouse}/probe-{secrets.token_hex(4)}/_delta_log/00000000000000000000.json"],
        env={**os.environ, "PROBE_ACCESS_KEY": creds.access_key, "PROBE_SECRET_KEY": creds.secret_key},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    assert done.stdout.split() == ["first:ok", "second:java.nio.file.FileAlreadyExistsException<-org.apache.hadoop.fs.s3a.RemoteFileChangedException",
                                  "content:a", "partial:false"], done.stdout


# A Java program: writes a commit file twice with overwrite=false.
PROBE = r'''
import java.util.*;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import io.govlake.delta.S3ConditionalLogStore;

public class Probe {
    public static void main(String[] a) throws Exception {
        Configuration conf = new Configuration();
        conf.set("fs.s3a.endpoint", a[0]);
        conf.set("fs.s3a.endpoint.region", a[1]);
        conf.set("fs.s3a.path.style.access", "true");
        conf.set("fs.s3a.connection.ssl.enabled", "false");
        conf.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        conf.set("fs.s3a.access.key", System.getenv("PROBE_ACCESS_KEY"));
        conf.set("fs.s3a.secret.key", System.getenv("PROBE_SECRET_KEY"));
        Path path = new Path(a[2]);
        S3ConditionalLogStore store = new S3ConditionalLogStore(conf);
        store.write(path, List.of("a").iterator(), false, conf);
        System.out.println("first:ok");
        try {
            store.write(path, List.of("b").iterator(), false, conf);
            System.out.println("second:ok");
        } catch (Exception e) {
            System.out.println("second:" + e.getClass().getName() + "<-" + e.getCause().getClass().getName());
        }
        var lines = store.read(path, conf);
        System.out.println("content:" + String.join("|", (Iterable<String>) () -> lines));
        System.out.println("partial:" + store.isPartialWriteVisible(path, conf));
        System.exit(0);
    }
}
'''
