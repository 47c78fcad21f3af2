"""govlake's Delta LogStore on S3 (govlake/platform/logstore.py): several Spark drivers, each its own
process, append to one Delta table on s3a:// at the same time, and no commit is lost.

The object store is s3proxy on loopback (file-system backend; govlake's own service when this
checkout has services/object_store.py, else started here), which answers a PUT carrying
`If-None-Match: *` on an existing key with 412 as S3 does. Each driver is a local[1] SparkSession
in a subprocess; they wait for each other before appending so their commits overlap. Driver 0
creates the table first and, when every driver is done, reads it back through Delta: the table
must have one version per append (plus the creation) and every appended row.

The stock `S3SingleDriverLogStore` (exists() then PUT, locked only inside one JVM) is not asserted
on here: whether two drivers hit its window in a given run is chance. Run this file with
GOVLAKE_RACE_LOGSTORE=io.delta.storage.S3SingleDriverLogStore (and GOVLAKE_RACE_DRIVERS=3) to watch
it lose commits: here 3 drivers x 6 appends lost 2 of 18 commits (10 rows) in one of two tries,
every driver exiting without an error; 2 drivers x 6 appends lost none in two tries.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

import pytest

from govlake.core.settings import Settings
from govlake.platform import artifacts, logstore
from govlake.platform.java import find_jdk
from tests.conftest import free_port

pytestmark = pytest.mark.cluster

DRIVERS = 2
APPENDS = 6  # per driver
ROWS = 5  # per append

# (Maven path under the cache's maven folder, sha256) of what S3A and the local store need, for
# as long as infra/artifacts.yaml does not list them (sha1 checked against Maven Central's)
JARS = {
    "s3proxy": ("org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar",
                "a4d025969aaf796616ed4b1e2491d87d455ce84bb28cb9db086b2e6aaa68b48d"),
    "hadoop-aws": ("org/apache/hadoop/hadoop-aws/3.5.0/hadoop-aws-3.5.0.jar",
                   "66bd9eefb938b1a1657487324b63c13df2d8b17164a1dd24e0ef37b905bc5baa"),
    "analyticsaccelerator-s3": ("software/amazon/s3/analyticsaccelerator/analyticsaccelerator-s3/1.3.1/analyticsaccelerator-s3-1.3.1.jar",
                                "4959a9747cbb479c73c3ffbcd479bee5b014f8b2880994585a8693fb9d24675e"),
    "bundle": ("software/amazon/awssdk/bundle/2.35.4/bundle-2.35.4.jar",
               "db4b55f24ad1b4e70f17eb1717a4de76a8dadc5a27d764be7c44ff67b2c1c677"),
}

DRIVER = r'''
import json, os, sys, time
from pathlib import Path
from pyspark.sql import SparkSession, functions as F

index, drivers, appends, rows = (int(a) for a in sys.argv[1:5])
table, sync = sys.argv[5], Path(sys.argv[6])
builder = SparkSession.builder
for key, value in json.loads(os.environ["RACE_SPARK_CONF"]).items():
    builder = builder.config(key, value)
spark = builder.getOrCreate()
spark.sparkContext.setLogLevel("ERROR")

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


def _maven_jar(settings: Settings, name: str) -> Path:
    """A jar from the artifact cache, verified; downloaded from the Maven repository if missing."""
    relpath, sha256 = JARS[name]
    path = settings.cache_dir / "maven" / relpath
    if path.is_file() and artifacts.sha256_file(path) == sha256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    try:
        urllib.request.urlretrieve(f"{settings.maven_repo.rstrip('/')}/{relpath}", part)
    except (urllib.error.URLError, OSError) as exc:
        pytest.skip(f"{relpath} is not cached and cannot be downloaded: {exc}")
    assert artifacts.sha256_file(part) == sha256, f"checksum mismatch for {relpath}"
    part.replace(path)
    return path


def _wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise AssertionError(f"s3proxy exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"s3proxy did not listen on {port} in {timeout} s:\n{log.read_text()[-3000:]}")


class Store(NamedTuple):
    endpoint: str
    key: str
    secret: str
    settings: Settings | None  # the store's settings when govlake's own service runs it


def _shared_modules():
    """govlake's object store service and S3A settings, when this checkout has them."""
    try:
        from govlake.platform import s3a
        from govlake.services import object_store
    except ImportError:
        return None
    return (object_store, s3a) if hasattr(object_store, "start") and hasattr(s3a, "spark_conf") else None


@pytest.fixture(scope="module")
def object_store(settings, tmp_path_factory):
    """An S3-compatible store on a free loopback port with a `warehouse` bucket: govlake's own
    (services/object_store.py) when there is one, else s3proxy started here."""
    root = tmp_path_factory.mktemp("s3")
    shared = _shared_modules()
    if shared is not None:
        from govlake.platform import storage

        service = shared[0]
        store_settings = Settings(state_dir=root / "state", object_store_port=free_port(), warehouse="s3a://warehouse/lake")
        status = service.start(store_settings, log=lambda m: print(m, file=sys.stderr))
        assert status.state == "running", status
        creds = storage.s3_credentials(store_settings)
        try:
            yield Store(creds.endpoint, creds.access_key, creds.secret_key, store_settings)
        finally:
            service.stop(store_settings)
        return
    port, key, secret = free_port(), "govlake-test", secrets.token_hex(16)
    (root / "objects" / "warehouse").mkdir(parents=True)  # a bucket is a folder of the backend
    conf = root / "s3proxy.conf"
    conf.write_text(
        f"s3proxy.endpoint=http://127.0.0.1:{port}\ns3proxy.authorization=aws-v2-or-v4\n"
        f"s3proxy.identity={key}\ns3proxy.credential={secret}\njclouds.provider=filesystem-nio2\n"
        f"jclouds.filesystem.basedir={root / 'objects'}\n"
    )
    java = find_jdk(minimum=17, explicit=settings.spark_java_home, purpose="s3proxy").java
    log = root / "s3proxy.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(java), "-Xmx256m", "-XX:-UsePerfData", "-jar", str(_maven_jar(settings, "s3proxy")),
                                 "--properties", str(conf)], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_port(port, proc, log)
        yield Store(f"http://127.0.0.1:{port}", key, secret, None)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _s3a_conf(settings: Settings, store: Store) -> dict[str, str]:
    """S3A on the store: govlake's own settings (platform/s3a.py) when there are, else the same keys here."""
    shared = _shared_modules()
    if shared is not None and store.settings is not None:
        return shared[1].spark_conf(store.settings)
    jars = os.pathsep.join(str(_maven_jar(settings, n)) for n in ("hadoop-aws", "analyticsaccelerator-s3", "bundle"))
    h = "spark.hadoop.fs.s3a."
    return {
        "spark.driver.extraClassPath": jars,
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        h + "endpoint": store.endpoint,
        h + "endpoint.region": settings.s3_region,
        h + "path.style.access": "true",
        h + "connection.ssl.enabled": "false",
        h + "aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        h + "access.key": store.key,
        h + "secret.key": store.secret,
    }


def _driver_conf(settings: Settings, store: Store, store_class: str | None) -> dict[str, str]:
    """A tiny local[1] session with Delta, S3A on the store, and `store_class` (default:
    govlake's LogStore) for s3a:// and s3://."""
    delta_jars = [str(p) for p in artifacts.spark_jars(settings, log=lambda *_: None)]
    ours = logstore.spark_conf(settings, log=lambda *_: None)
    conf = {
        "spark.master": "local[1]",
        "spark.driver.memory": "512m",
        "spark.sql.shuffle.partitions": "1",
        "spark.default.parallelism": "1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.databricks.delta.snapshotPartitions": "1",
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.jars": ",".join([*delta_jars, ours.pop("spark.jars")]),
        "spark.driver.extraJavaOptions": f"-XX:-UsePerfData -Dlog4j2.configurationFile={settings.path('infra', 'spark', 'log4j2.properties')}",
        **_s3a_conf(settings, store),
        **ours,
    }
    if store_class:
        conf.update({k: store_class for k in conf if k.startswith("spark.delta.logStore.")})
    return conf


def race(settings: Settings, store: Store, tmp_path: Path, *, store_class: str | None = None,
         drivers: int = DRIVERS, appends: int = APPENDS) -> tuple[dict, list[dict], float]:
    """`drivers` processes append `appends` times each to one new table; driver 0's read-back,
    every driver's result line, and the wall time."""
    table = f"s3a://warehouse/race-{tmp_path.name}-{secrets.token_hex(4)}"
    sync = tmp_path / "sync"
    sync.mkdir()
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    jdk = find_jdk(minimum=17, maximum=21, explicit=settings.spark_java_home, purpose="Spark")
    env = {**os.environ, "JAVA_HOME": str(jdk.home), "SPARK_LOCAL_IP": "127.0.0.1",
           "PYSPARK_PYTHON": sys.executable,
           "RACE_SPARK_CONF": json.dumps(_driver_conf(settings, store, store_class))}
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


def test_concurrent_drivers_lose_no_commit(settings, object_store, tmp_path):
    result, outputs, wall = race(settings, object_store, tmp_path)
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


def test_commit_file_is_put_if_absent(settings, object_store, tmp_path):
    """Through the LogStore itself, on a fresh S3A file system: the second create of a commit file
    is refused by the store (412, RemoteFileChangedException in S3A) and reaches Delta as
    java.nio.file.FileAlreadyExistsException; the first one stays whole."""
    endpoint, key, secret, _ = object_store
    probe = tmp_path / "Probe.java"
    probe.write_text(PROBE)
    jdk = find_jdk(minimum=17, maximum=21, explicit=settings.spark_java_home, purpose="Spark")
    compile_cp = [*logstore._classpath(settings, lambda *_: None), logstore.jar(settings, log=lambda *_: None)]
    built = subprocess.run([str(jdk.home / "bin" / "javac"), "-nowarn", "-d", str(tmp_path), "-cp",
                            os.pathsep.join(map(str, compile_cp)), str(probe)], capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    run_cp = [str(tmp_path), str(logstore._pyspark_jars() / "*"), *map(str, compile_cp),
              *(str(_maven_jar(settings, n)) for n in ("hadoop-aws", "analyticsaccelerator-s3", "bundle"))]
    done = subprocess.run(
        [str(jdk.java), "-Xmx256m", "-XX:-UsePerfData", "-cp", os.pathsep.join(run_cp), "Probe", endpoint, key, secret,
         f"s3a://warehouse/probe-{secrets.token_hex(4)}/_delta_log/00000000000000000000.json"],
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
        conf.set("fs.s3a.endpoint.region", "us-east-1");
        conf.set("fs.s3a.path.style.access", "true");
        conf.set("fs.s3a.connection.ssl.enabled", "false");
        conf.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        conf.set("fs.s3a.access.key", a[1]);
        conf.set("fs.s3a.secret.key", a[2]);
        Path path = new Path(a[3]);
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


@pytest.mark.skipif(not os.environ.get("GOVLAKE_RACE_LOGSTORE"), reason="set GOVLAKE_RACE_LOGSTORE to a LogStore class to race it")
def test_race_other_logstore(settings, object_store, tmp_path):
    """Observation only (no assertion on the outcome): the same race with another LogStore
    (GOVLAKE_RACE_DRIVERS drivers, default DRIVERS)."""
    drivers = int(os.environ.get("GOVLAKE_RACE_DRIVERS", DRIVERS))
    result, _, wall = race(settings, object_store, tmp_path, store_class=os.environ["GOVLAKE_RACE_LOGSTORE"], drivers=drivers)
    total = drivers * APPENDS
    print(f"{os.environ['GOVLAKE_RACE_LOGSTORE']}: {wall:.1f} s; {total} appends by {drivers} drivers -> {len(result['versions']) - 1} "
          f"versions after the first ({result['retried']} retried), rows {result['rows']} of {total * ROWS}, per driver {result['per_driver']}")
