"""The local object store (services/object_store.py): s3proxy on a free loopback port with its
objects under a temporary state folder, reached through platform/storage as `s3a://` locations.

No Spark here: Delta on S3 is exercised by the rest of the cluster suite.
"""
from __future__ import annotations

import socket
import stat
from dataclasses import replace

import pytest

from govlake.core.errors import ServiceError
from govlake.core.settings import Settings
from govlake.platform import artifacts, lake, storage
from govlake.services import object_store
from tests.conftest import free_port

pytestmark = pytest.mark.cluster

WAREHOUSE = "s3a://govlake/warehouse"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Settings(state_dir=tmp_path_factory.mktemp("objects") / "state", object_store_port=free_port(), warehouse=WAREHOUSE)
    status = object_store.start(s, log=lambda *_: None)
    assert status.state == "running", status
    yield s
    object_store.stop(s)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_start_creates_the_warehouse_bucket_and_a_second_start_is_a_no_op(store):
    creds = storage.s3_credentials(store)
    assert object_store.list_buckets(creds) == ["govlake"]
    first = object_store.status(store)
    again = object_store.start(store, log=lambda m: pytest.fail(f"second start launched something: {m}"))
    assert again.state == "running" and again.pid == first.pid
    assert object_store.list_buckets(creds) == ["govlake"]


def test_secret_and_objects_stay_private(store):
    config = store.state / "object-store" / "s3proxy.properties"
    assert _mode(config) == 0o600
    assert storage.s3_credentials(store).secret_key in config.read_text()
    assert _mode(object_store.objects_dir(store)) == 0o700
    storage.write_bytes(store, f"{WAREHOUSE}/private/file.json", b"{}")
    on_disk = object_store.objects_dir(store) / "govlake" / "warehouse" / "private" / "file.json"
    assert on_disk.read_bytes() == b"{}" and _mode(on_disk) == 0o600
    assert _mode(on_disk.parent) == 0o700


def test_storage_helpers_on_s3a(store):
    table = f"{WAREHOUSE}/application/app_x/sightings__0123"
    storage.write_bytes(store, f"{table}/_delta_log/00000000000000000000.json", b'{"commitInfo":{}}')
    storage.write_bytes(store, f"{table}/part-0.parquet", b"rows")
    assert storage.read_bytes(store, f"{table}/part-0.parquet") == b"rows"
    assert storage.read_bytes(store, f"{table}/missing.parquet") is None
    assert storage.exists(store, f"{table}/part-0.parquet") and not storage.exists(store, f"{table}/missing.parquet")
    assert storage.is_dir(store, table) and storage.is_dir(store, f"{table}/_delta_log")
    assert not storage.is_dir(store, f"{WAREHOUSE}/application/app_nobody")
    assert storage.child_dirs(store, f"{WAREHOUSE}/application/app_x") == [table]
    assert storage.child_dirs(store, table) == [f"{table}/_delta_log"]
    assert storage.list_files(store, table) == [f"{table}/part-0.parquet"]
    assert storage.child_dirs(store, f"{WAREHOUSE}/nowhere") == [] and storage.list_files(store, f"{WAREHOUSE}/nowhere") == []
    assert storage.canonical(f"s3://govlake/warehouse/application/app_x/sightings__0123/") == table

    storage.delete_tree(store, table)
    assert not storage.exists(store, f"{table}/part-0.parquet")
    assert storage.child_dirs(store, f"{WAREHOUSE}/application/app_x") == []
    storage.delete_tree(store, table)  # already gone: no error


def test_delete_table_removes_log_and_files(store):
    table = f"{WAREHOUSE}/base/retired"
    for name in ("00000000000000000000.json", "00000000000000000001.json", "_last_checkpoint"):
        storage.write_bytes(store, f"{table}/_delta_log/{name}", b"{}")
    storage.write_bytes(store, f"{table}/department=a/part-0.parquet", b"rows")
    lake.delete_table(store, table)
    assert not storage.exists(store, table) and storage.list_files(store, f"{table}/_delta_log") == []
    assert f"{WAREHOUSE}/base/retired" not in storage.child_dirs(store, f"{WAREHOUSE}/base")


def test_delete_table_removes_folders_the_store_left_empty(store):
    """s3proxy keeps objects as files: a folder emptied by a delete may stay on disk (seen when
    pyarrow deleted a table's files in parallel), invisible to a recursive listing but shown by a
    listing of its parent; a retired table's folder must still disappear."""
    table = f"{WAREHOUSE}/application/app_y/emptied__0123"
    storage.write_bytes(store, f"{table}/_delta_log/00000000000000000000.json", b"{}")
    storage.write_bytes(store, f"{table}/part-0.parquet", b"rows")
    on_disk = object_store.objects_dir(store) / "govlake" / "warehouse" / "application" / "app_y" / "emptied__0123"
    (on_disk / "_delta_log" / "_commits").mkdir()
    (on_disk / "department=a").mkdir()
    lake.delete_table(store, table)
    assert not storage.is_dir(store, table) and not on_disk.exists()
    assert storage.child_dirs(store, f"{WAREHOUSE}/application/app_y") == []


def test_wrong_keys_are_refused_by_name(store):
    creds = storage.s3_credentials(store)
    with pytest.raises(ServiceError, match=r"refused ListBuckets \(HTTP 403"):
        object_store.list_buckets(replace(creds, secret_key="not-the-secret"))


def test_a_taken_port_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        s = Settings(state_dir=tmp_path / "state", object_store_port=port, warehouse=WAREHOUSE)
        with pytest.raises(ServiceError, match=rf"port `{port}` .* GOVLAKE_OBJECT_STORE_PORT"):
            object_store.start(s, log=lambda *_: None)


def test_stop_frees_the_port(tmp_path):
    s = Settings(state_dir=tmp_path / "state", object_store_port=free_port(), warehouse="s3a://other/lake")
    assert object_store.start(s, log=lambda *_: None).state == "running"
    assert object_store.list_buckets(storage.s3_credentials(s)) == ["other"]
    stopped = object_store.stop(s)
    assert stopped.state == "stopped" and stopped.pid is None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", s.object_store_port))  # free again


def test_lineage_names_tables_on_the_object_store_whatever_the_scheme(tmp_path):
    from govlake.governance import lineage

    s = Settings(state_dir=tmp_path / "state", object_store_port=9, warehouse=f"{WAREHOUSE}/")
    assert lineage.logical_name(s, f"{WAREHOUSE}/base/detections") == "base.detections"
    assert lineage.logical_name(s, "s3://govlake/warehouse/application/app_traffic/sightings__0123456789abcdef/") == "app_traffic.sightings"
    assert lineage.logical_name(s, "s3a://elsewhere/warehouse/base/detections") is None


def test_spark_gets_s3a_only_with_an_object_store(tmp_path, store):
    from govlake.platform import s3a

    embedded = Settings(profile="embedded", object_store_port=None, s3_endpoint=None, state_dir=tmp_path / "state", cache_dir=tmp_path / "cache", maven_repo="http://127.0.0.1:9/nowhere")
    assert s3a.spark_conf(embedded) == {} and artifacts.s3a_jars(embedded, log=pytest.fail) == []
    conf = s3a.spark_conf(store)
    jars = conf["spark.driver.extraClassPath"].split(":")
    assert [j.rsplit("/", 1)[1] for j in jars] == ["hadoop-aws-3.5.0.jar", "bundle-2.35.4.jar", "analyticsaccelerator-s3-1.3.1.jar"]
    assert conf["spark.executor.extraClassPath"] == conf["spark.driver.extraClassPath"] and "spark.jars" not in conf
    assert conf["spark.hadoop.fs.s3a.endpoint"] == f"http://127.0.0.1:{store.object_store_port}"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false" and conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"
    assert conf["spark.hadoop.fs.s3a.secret.key"] == storage.s3_credentials(store).secret_key
