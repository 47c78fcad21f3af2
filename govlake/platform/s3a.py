"""Spark's side of an object-store warehouse: Hadoop's S3A file system, configured from settings.

`spark_conf` gives the Spark configuration that lets the same jobs read and write Delta tables at
`s3a://bucket/...` (and `s3://...`, the URIs Trino uses) on the store named by `s3_endpoint` or
the one govlake runs itself (`object_store_port`, services/object_store.py). Without an object
store it is empty and nothing is downloaded.

Choices, for Hadoop 3.5.0 (the version inside pyspark) and a small store on loopback:
- the jars (hadoop-aws and the AWS SDK bundle, 686 MB) go on the driver's and executors'
  extraClassPath, read in place from the artifact cache: `spark.jars` would copy the bundle into
  every executor's work folder;
- path-style requests and an explicit region (a self-hosted store has no virtual-host DNS and
  Signature V4 needs a region); TLS by the endpoint's scheme; the keys given as they are
  (SimpleAWSCredentialsProvider), never searched for in the environment or instance metadata;
- the classic input stream: Hadoop 3.5 reads through the Analytics Accelerator library by default
  (its jar is needed all the same: S3A's request auditor loads its classes), a young code path
  reported to hold an entry per object read until the file system closes in the 1.3.1 release,
  which brings nothing to small files on a local store;
- upload buffers in the private state folder, not Hadoop's default under the shared /tmp;
- connection pool and threads sized for two cores rather than Hadoop's 500 connections and 96
  threads, and fewer retries (3 rather than 5 and 7), so a store that is down fails sooner.

Which LogStore Delta commits through on S3 (`spark.delta.logStore.<scheme>.impl`) is not set
here: see platform/logstore.py. S3A's conditional create (`fs.s3a.create.conditional.enabled`,
on by default in 3.5) must stay on for it.
"""
from __future__ import annotations

from urllib.parse import urlparse

from govlake.core.settings import Settings
from govlake.platform import artifacts, storage

S3A = "org.apache.hadoop.fs.s3a.S3AFileSystem"


def spark_conf(settings: Settings) -> dict[str, str]:
    """The S3A settings for Spark, or {} when no object store is configured."""
    creds = storage.s3_credentials(settings)
    if creds is None:
        return {}
    jars = ":".join(str(p) for p in artifacts.s3a_jars(settings, log=lambda *_: None))
    endpoint = urlparse(creds.endpoint)
    h = "spark.hadoop.fs.s3a."
    return {
        "spark.driver.extraClassPath": jars,
        "spark.executor.extraClassPath": jars,
        "spark.hadoop.fs.s3.impl": S3A,
        "spark.hadoop.fs.s3n.impl": S3A,
        h + "endpoint": creds.endpoint,
        h + "endpoint.region": creds.region,
        h + "path.style.access": "true",
        h + "connection.ssl.enabled": str(endpoint.scheme == "https").lower(),
        h + "aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        h + "access.key": creds.access_key,
        h + "secret.key": creds.secret_key,
        # VACUUM records its runs in the table's history on local folders, not by default on S3;
        # govlake reports the files a purge removed from that record (lake.vacuum_now)
        "spark.databricks.delta.vacuum.logging.enabled": "true",
        h + "input.stream.type": "classic",
        h + "buffer.dir": str(settings.state / "tmp" / "s3a"),
        h + "connection.maximum": "32",
        h + "threads.max": "16",
        h + "attempts.maximum": "3",
        h + "retry.limit": "3",
    }
