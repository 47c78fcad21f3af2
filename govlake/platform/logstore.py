"""govlake's Delta LogStore for S3 (`infra/spark/logstore/src`): `io.govlake.delta.S3ConditionalLogStore`.

delta-storage ships only `S3SingleDriverLogStore` for S3, which keeps two writers from creating
the same `_delta_log/N.json` only inside one JVM: two Spark drivers committing to one table at
once can both write version N, and one commit is silently lost. govlake's store creates every
commit file with a put-if-absent (S3A's conditional create, `If-None-Match: *`), so the store
itself picks one winner and the loser retries at the next version, across any number of drivers.

The jar is compiled here from source, against pyspark's own Hadoop jars and the delta-storage jar
of the artifact cache, with the `javac` of a JDK >= 17 (the release Spark 4.2 runs on), and kept
in the cache folder under the hash of its source and of the jars it was compiled against.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import zipfile
from pathlib import Path

from govlake.core import private
from govlake.core.errors import JavaError
from govlake.core.settings import PROJECT_ROOT, Settings
from govlake.platform import artifacts
from govlake.platform.java import candidates, inspect

SOURCE = PROJECT_ROOT / "infra" / "spark" / "logstore" / "src"
CLASS = "io.govlake.delta.S3ConditionalLogStore"
RELEASE = 17  # the oldest JDK Spark 4.2 runs on
SCHEMES = ("s3a", "s3", "s3n")  # every scheme that may reach S3A (fs.s3.impl is mapped to S3AFileSystem)


def _pyspark_jars() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent / "jars"


def _delta_storage(settings: Settings, log) -> Path:
    jars = [p for p in artifacts.spark_jars(settings, log=log) if p.name.startswith("delta-storage-")]
    if not jars:
        raise JavaError("infra/artifacts.yaml lists no io.delta:delta-storage jar with role `spark`; govlake's LogStore extends it")
    return jars[0]


def _classpath(settings: Settings, log) -> list[Path]:
    """The jars compiled against: Hadoop's client API from pyspark, and delta-storage."""
    hadoop = sorted(_pyspark_jars().glob("hadoop-client-api-*.jar"))
    if not hadoop:
        raise JavaError(f"pyspark's jars folder `{_pyspark_jars()}` has no hadoop-client-api jar; reinstall pyspark (`make setup`)")
    return [*hadoop, _delta_storage(settings, log)]


def _digest(classpath: list[Path]) -> str:
    h = hashlib.sha256(f"release={RELEASE}\0".encode())
    for jar in classpath:
        h.update(jar.name.encode() + b"\0")
    for src in sorted(SOURCE.rglob("*.java")):
        h.update(str(src.relative_to(SOURCE)).encode() + b"\0" + src.read_bytes())
    return h.hexdigest()[:16]


def javac(settings: Settings) -> Path:
    """A `javac` of a JDK >= 17: Spark's configured JDK's first, else any found (platform/java.py)."""
    homes = ([settings.spark_java_home] if settings.spark_java_home else []) + candidates()
    for home in homes:
        jdk = inspect(home)
        if jdk and jdk.major >= RELEASE and (jdk.home / "bin" / "javac").is_file():
            return jdk.home / "bin" / "javac"
    raise JavaError(
        f"building govlake's Delta LogStore needs the javac of a JDK >= {RELEASE}; none was found (looked at "
        f"GOVLAKE_SPARK_JAVA_HOME, JAVA_HOME, the java on PATH, /usr/lib/jvm). Install one (apt-get install openjdk-17-jdk-headless)"
    )


def jar(settings: Settings, *, log=print) -> Path:
    """The LogStore's jar, compiled once per source version and cached under the cache folder."""
    classpath = _classpath(settings, log)
    target = settings.cache_dir / "govlake-logstore" / f"govlake-delta-logstore-{_digest(classpath)}.jar"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with private.exclusive(target.parent / ".build.lock"):
        if target.is_file():  # another process built it while this one waited
            return target
        compiler = javac(settings)
        log(f"building govlake's Delta LogStore with {compiler}")
        with tempfile.TemporaryDirectory(prefix="logstore-", dir=target.parent) as build:
            classes = Path(build) / "classes"
            done = subprocess.run(
                [str(compiler), "--release", str(RELEASE), "-nowarn", "-encoding", "UTF-8", "-d", str(classes),
                 "-cp", os.pathsep.join(str(p) for p in classpath), *[str(p) for p in sorted(SOURCE.rglob("*.java"))]],
                capture_output=True, text=True, timeout=300, check=False,
            )
            if done.returncode != 0:
                raise JavaError(f"govlake's Delta LogStore does not compile with {compiler}:\n{done.stderr[-2000:]}")
            tmp = Path(build) / target.name
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
                for cls in sorted(classes.rglob("*.class")):
                    z.write(cls, str(cls.relative_to(classes)))
            tmp.replace(target)  # older builds stay: other clones sharing the cache may use them
    return target


def spark_conf(settings: Settings, *, log=print) -> dict[str, str]:
    """Spark settings that make Delta commit to S3 through govlake's LogStore.

    `spark.jars` holds only this jar: append it to the delta jars already there (comma-separated).
    It must be loaded by the same class loader as delta-storage, whose class it extends, so it goes
    where delta-storage goes (spark.jars), not on an extraClassPath."""
    conf = {f"spark.delta.logStore.{scheme}.impl": CLASS for scheme in SCHEMES}
    conf["spark.hadoop.fs.s3a.create.conditional.enabled"] = "true"  # S3A's default, made explicit
    # a PUT that landed but whose response was lost is retried by the SDK and refused with 412: Delta
    # then finds its own commit (same txnId) at that version and takes it as done instead of
    # committing the same rows again at the next version (off by default in Delta 4.4)
    conf["spark.databricks.delta.commit.idempotencyCheck.enabled"] = "true"
    conf["spark.jars"] = str(jar(settings, log=log))
    return conf

