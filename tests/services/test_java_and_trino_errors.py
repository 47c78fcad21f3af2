from __future__ import annotations

import socket

import pytest

from govlake.core.errors import JavaError, ServiceError
from govlake.platform import java
from govlake.services import trino


def test_missing_jdk_error_says_what_was_found_and_what_to_do():
    with pytest.raises(JavaError, match=r"needs Java 99 or newer; found .*make setup"):
        java.find_jdk(minimum=99, purpose="Trino")


def test_explicit_jdk_of_wrong_version_is_refused(tmp_path):
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "release").write_text('JAVA_VERSION="11.0.2"\n')
    with pytest.raises(JavaError, match=r"is Java 11; Trino needs Java 24 or newer"):
        java.find_jdk(minimum=24, explicit=home, purpose="Trino")


def test_version_parsing_from_release_and_banner():
    assert java._parse_version('JAVA_VERSION="25.0.3"') == (25, 0, 3)
    assert java._parse_version('openjdk version "17.0.15" 2025-04-15') == (17, 0, 15)


def test_taken_port_is_reported_with_the_setting_to_change(make_settings):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        s = make_settings(trino_port=port)
        with pytest.raises(ServiceError, match=rf"port `{port}`.*GOVLAKE_TRINO_PORT"):
            trino.start(s, log=lambda *_: None)


def test_status_of_a_never_started_server_is_stopped(make_settings):
    assert trino.status(make_settings()).state == "stopped"


def test_a_probe_answered_with_something_that_is_not_http_is_no_answer(tmp_path):
    """A plain-HTTP probe of a port that speaks TLS gets TLS bytes back (seen while a restarted
    server came up): the probe says "no answer", it does not raise."""
    import socket
    import threading

    from govlake.services import trino

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def answer() -> None:
        conn, _ = srv.accept()
        conn.recv(1024)
        conn.sendall(b"\x15\x03\x03\x00\x02\x02P\r\n")  # a TLS alert record, not a status line
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    assert trino._info(f"http://127.0.0.1:{srv.getsockname()[1]}", timeout=5) is None
    srv.close()
