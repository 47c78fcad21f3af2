from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from govlake.core.errors import DownloadError
from govlake.platform import artifacts


def _repo(tmp_path, content: bytes):
    rel = "org/example/thing/1.0/thing-1.0.jar"
    (tmp_path / "repo" / rel).parent.mkdir(parents=True)
    (tmp_path / "repo" / rel).write_bytes(content)
    return tmp_path / "repo"


def test_fetch_verifies_and_caches(tmp_path, make_settings):
    repo = _repo(tmp_path, b"jar bytes")
    s = make_settings(maven_repo=repo.as_uri(), cache_dir=tmp_path / "cache")
    art = artifacts.Artifact(coordinate="org.example:thing:1.0", ext="jar", role="spark", sha256=hashlib.sha256(b"jar bytes").hexdigest())
    path = artifacts.fetch(art, s, log=lambda *_: None)
    assert path.read_bytes() == b"jar bytes"
    (repo / art.relpath).unlink()  # second call must not need the repository
    assert artifacts.fetch(art, s, log=lambda *_: None) == path


def test_checksum_mismatch_deletes_download_and_names_artifact(tmp_path, make_settings):
    repo = _repo(tmp_path, b"tampered")
    s = make_settings(maven_repo=repo.as_uri(), cache_dir=tmp_path / "cache")
    art = artifacts.Artifact(coordinate="org.example:thing:1.0", ext="jar", role="spark", sha256="0" * 64)
    with pytest.raises(DownloadError, match=r"checksum mismatch for `org.example:thing:1.0`"):
        artifacts.fetch(art, s, log=lambda *_: None)
    assert not list((tmp_path / "cache").rglob("thing-1.0.jar*"))


def test_http_404_is_a_terminal_error_naming_what_to_do(tmp_path, make_settings):
    handler = http.server.SimpleHTTPRequestHandler
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        s = make_settings(maven_repo=f"http://127.0.0.1:{server.server_port}/maven2", cache_dir=tmp_path / "cache")
        art = artifacts.Artifact(coordinate="org.example:missing:9.9", ext="jar", role="spark", sha256="0" * 64)
        with pytest.raises(DownloadError, match=r"HTTP 404.*GOVLAKE_MAVEN_REPO") as exc:
            artifacts.fetch(art, s, log=lambda *_: None)
        assert not exc.value.transient
    finally:
        server.shutdown()
