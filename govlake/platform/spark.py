"""The one SparkSession factory used by jobs, the CLI and tests.

Local mode sized for two cores by default; `GOVLAKE_SPARK_MASTER` points the same code at a
standalone or Kubernetes cluster. Delta's jars come from the verified artifact cache (no Ivy
resolution at run time), so a session starts offline once `make setup` has run.
"""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from govlake.core import private
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings
from govlake.platform import artifacts, logstore, s3a, secrets
from govlake.platform.java import find_jdk

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def spark_conf(settings: Settings) -> dict[str, str]:
    jars = ",".join(str(p) for p in artifacts.spark_jars(settings, log=lambda *_: None))
    conf = {
        "spark.master": settings.spark_master,
        "spark.app.name": "govlake",
        "spark.jars": jars,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.driver.memory": settings.spark_driver_memory,
        # a standalone master's executors (ignored in local mode, where the driver runs the tasks)
        "spark.executor.memory": settings.spark_executor_memory,
        "spark.executor.cores": str(settings.spark_executor_cores or settings.spark_worker_cores),
        "spark.driver.host": settings.spark_driver_host,
        "spark.driver.bindAddress": settings.spark_driver_host,
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        "spark.default.parallelism": str(settings.spark_shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",
        # departments send GBK/GB18030 files: allow every charset the JVM knows, not just UTF/ISO
        "spark.sql.legacy.javaCharsets": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.adaptive.enabled": "true",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        # small local tables: replaying the Delta log over 50 partitions (the default) dominates run time
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.sql.warehouse.dir": str(settings.state / "spark-warehouse"),
        # private files (govlake/core/private.py): Hadoop sets modes itself from its own umask, and
        # Spark's shuffle/spill and the JVM's temp files stay inside the state folder
        "spark.hadoop.fs.permissions.umask-mode": "077",
        "spark.local.dir": str(settings.state / "tmp" / "spark"),
        "spark.executor.extraJavaOptions": f"-Djava.io.tmpdir={settings.state / 'tmp' / 'spark-jvm'} -XX:-UsePerfData",
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={settings.state / 'spark-derby'} "
            f"-Djava.io.tmpdir={settings.state / 'tmp' / 'spark-jvm'} -XX:-UsePerfData "
            f"-Dlog4j2.configurationFile={settings.path('infra', 'spark', 'log4j2.properties')}"
        ),
    }
    # an object store: S3A (its jars on the class path) and Delta's commits by conditional write
    storage_conf = s3a.spark_conf(settings)
    if storage_conf:
        storage_conf.update(logstore.spark_conf(settings, log=lambda *_: None))
    for key, value in storage_conf.items():
        joined = {"spark.jars": ",", "spark.driver.extraClassPath": ":", "spark.executor.extraClassPath": ":"}
        conf[key] = f"{conf[key]}{joined[key]}{value}" if key in joined and conf.get(key) else value
    if settings.spark_master.startswith("spark://"):
        # the cluster's shared secret: the master and executors accept no driver without it
        conf.update({"spark.authenticate": "true", "spark.authenticate.secret": secrets.spark_secret(settings)})
    conf.update(settings.spark_extra_conf)
    return conf


SECRET_KEYS = ("spark.authenticate.secret", "spark.hadoop.fs.s3a.access.key", "spark.hadoop.fs.s3a.secret.key")


def _escape_property(value: str) -> str:
    """A value for a Java properties file (a backslash escapes; leading spaces would be dropped)."""
    if "\n" in value or "\r" in value:
        raise ConfigError("a Spark secret must be a single-line value")
    return value.replace("\\", "\\\\").replace(" ", "\\ ")


def get_spark(settings: Settings) -> "SparkSession":
    """Build (or return the running) SparkSession configured for Delta."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if "JAVA_HOME" not in os.environ or settings.spark_java_home:
        jdk = find_jdk(minimum=17, maximum=21, explicit=settings.spark_java_home, purpose="Spark")
        os.environ["JAVA_HOME"] = str(jdk.home)
    for name in ("spark", "spark-jvm"):
        private.scratch_dir(settings.state, name)
    os.environ.setdefault("SPARK_LOCAL_IP", settings.spark_driver_host)
    # Python workers (Arrow UDFs) run the driver's interpreter, which has govlake and its locked deps
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    conf = spark_conf(settings)
    hidden = {k: conf.pop(k) for k in list(conf) if k in SECRET_KEYS}
    if hidden:
        # what `builder.config` is given becomes `--conf k=v` on the driver JVM's command line, which
        # every account on the host can read: secrets go in a private properties file instead
        props = private.scratch_dir(settings.state, "spark") / "secrets.properties"
        private.write_private(props, "".join(f"{k}={_escape_property(v)}\n" for k, v in sorted(hidden.items())))
        os.environ["PYSPARK_SUBMIT_ARGS"] = f"--properties-file {props} pyspark-shell"
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if settings.spark_master.startswith("spark://"):
        _watch_executors(spark, settings)
    return spark


EXECUTORS_LOST = ("because the Spark cluster has had no live worker for {s:.0f} s while this job ran (its worker was lost, or "
                  "none has registered with the master); the run is stopped. Start the worker (`govlake up`, or on its host) and "
                  "run the job again: committed batches are not ingested twice, and the batch that was under way is redone")


def _alive_workers(settings: Settings) -> int | None:
    """Workers the standalone master counts alive (its web UI's JSON), None when it does not answer."""
    import json
    import urllib.request
    from urllib.parse import urlparse

    host = urlparse(settings.spark_master).hostname
    try:
        with urllib.request.urlopen(f"http://{host}:{settings.spark_master_webui_port}/json/", timeout=3) as resp:
            return int(json.loads(resp.read()).get("aliveworkers", 0))
    except (OSError, ValueError):
        return None


def _watch_executors(spark: "SparkSession", settings: Settings) -> None:
    """On a cluster, a job whose workers are all gone waits for executors forever. This watcher
    cancels the running jobs once the job has had no executor and the master no live worker (or
    the master has not answered) for `spark_executor_loss_timeout_s`, with a reason that says so,
    so the run fails clearly and can be rerun. A job that only waits for a busy cluster's cores
    (another application holds them) is left waiting."""
    import threading
    import time

    sc = spark.sparkContext
    timeout_s = settings.spark_executor_loss_timeout_s
    reason = EXECUTORS_LOST.format(s=timeout_s)

    def watch() -> None:
        since = None
        while sc._jsc is not None:
            try:
                executors = sc._jsc.sc().getExecutorMemoryStatus().size() - 1  # the driver counts as one
                active = sc.statusTracker().getActiveJobsIds()
            except Exception:  # the context is stopping
                return
            if executors > 0 or not active or (_alive_workers(settings) or 0) > 0:
                since = None
            elif since is None:
                since = time.monotonic()
            elif time.monotonic() - since >= timeout_s:
                for job in active:
                    sc._jsc.sc().cancelJob(job, reason)
                since = None
            time.sleep(1.0)

    threading.Thread(target=watch, name="govlake-executor-watch", daemon=True).start()
