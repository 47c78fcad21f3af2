"""The audit receiver under attack and under faults, against the real Trino: nothing is lost when
the store cannot be written, a process squatting on its port gets neither the token nor a query
text, and malformed requests are refused cleanly."""
from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import socket
import sqlite3
import ssl
import threading
import time

import pytest

from govlake.governance import audit
from govlake.services import audit_receiver, sql

pytestmark = pytest.mark.trino

ANALYST = "zhou_traffic_analyst"
GRANTED = "app_traffic.police_vehicle_sightings"


def _entries_with(settings, marker: str) -> list[dict]:
    return [e for e in audit.entries(settings, 5000, "query.") if marker in e["detail"]]


def test_no_query_goes_unaudited_while_the_store_is_locked(settings, lakehouse):
    """Another process holds the governance store's write lock for longer than Trino retries
    (5 retries, 1 s doubling: about 31 s); every query still reaches the chain, once."""
    marker = f"locked-{time.time_ns()}"
    db = sqlite3.connect(str(settings.state / "governance.db"), timeout=30, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        for i in range(5):
            sql.query(settings, ANALYST, f"SELECT count(*) FROM {GRANTED} WHERE camera_id <> '{marker}-{i}'")
        time.sleep(40)
        assert _entries_with(settings, marker) == []  # nothing could be written meanwhile
        assert audit_receiver.pending(settings)  # but every event is kept
    finally:
        db.execute("ROLLBACK")
        db.close()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30 and len(_entries_with(settings, marker)) < 5:
        time.sleep(0.5)
    found = _entries_with(settings, marker)
    for i in range(5):  # each query exactly once
        assert sum(f"'{marker}-{i}'" in e["detail"] for e in found) == 1, found
    assert len(found) == 5
    assert all('"received_at"' in e["detail"] for e in found)  # the delay is visible
    assert audit.verify(settings).ok


def test_no_query_goes_unaudited_while_the_receiver_is_down(settings, lakehouse):
    """The receiver is stopped during 1,000 analyst queries (granted ones and refused ones): Trino
    itself writes each completed query into the spool, so when the receiver returns every query is
    in the chain exactly once, whatever Trino's HTTP listener retried meanwhile."""
    import sqlalchemy as sa
    import trino

    from govlake.governance import store

    marker = f"down-{time.time_ns()}"
    port = audit_receiver.running_port(settings)
    assert port is not None
    audit_receiver.stop(settings)
    ids, refused = [], 0
    try:
        conn = sql.connect(settings, ANALYST)
        for i in range(1000):
            cur = conn.cursor()
            table = GRANTED if i % 10 else "base.detections"  # every tenth is refused by the access rules
            try:
                cur.execute(f"SELECT count(*) FROM {table} WHERE camera_id <> '{marker}-{i}'")
                cur.fetchall()
            except trino.exceptions.TrinoQueryError:
                refused += 1
            ids.append(cur.query_id)
        conn.close()
        assert refused == 100 and all(ids)
        waited = time.monotonic()  # Trino dispatches a completion event just after the client has its answer
        while len(audit_receiver.pending(settings)) < 1000 and time.monotonic() - waited < 30:
            time.sleep(0.2)
        assert len(audit_receiver.pending(settings)) >= 1000  # kept by Trino itself while nobody listens
    finally:
        assert audit_receiver.start(settings, port) == port
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        with store.engine(settings).connect() as c:
            found = c.execute(sa.select(store.audit_log.c.object, store.audit_log.c.action)
                              .where(store.audit_log.c.detail.like(f"%{marker}%"))).all()
        if len(found) >= 1000 and not audit_receiver.pending(settings):
            break
        time.sleep(1)
    objects = sorted(o for o, _ in found)
    assert objects == sorted(f"trino:{q}" for q in ids)  # every query, each exactly once
    assert sum(a == "query.denied" for _, a in found) == 100
    assert audit.verify(settings).ok


def _certificate() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "squatter")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


class Squatter:
    """Takes the receiver's port and keeps whatever clients send it, in plain HTTP or over TLS
    with a certificate of its own."""

    def __init__(self, port: int, tmp_path):
        cert, key = _certificate()
        (tmp_path / "squat.pem").write_bytes(key + cert)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(tmp_path / "squat.pem"))
        self.received = bytearray()
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(5)
            self.connections += 1
            try:
                if conn.recv(1, socket.MSG_PEEK) == b"\x16":
                    conn = self.context.wrap_socket(conn, server_side=True)
                while chunk := conn.recv(65536):
                    self.received += chunk
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def stop(self) -> None:
        self.running = False
        self.thread.join(5)
        self.sock.close()


def test_a_process_on_the_receivers_port_gets_neither_the_token_nor_a_query(settings, lakehouse, tmp_path):
    port = audit_receiver.running_port(settings)
    assert port is not None
    audit_receiver.stop(settings)
    squatter = Squatter(port, tmp_path)
    marker = f"squat-{time.time_ns()}"
    try:
        sql.query(settings, ANALYST, f"SELECT count(*) FROM {GRANTED} WHERE camera_id <> '{marker}'")
        time.sleep(8)  # Trino's first retries
    finally:
        squatter.stop()
        assert audit_receiver.start(settings, port) == port
    assert squatter.connections > 0  # Trino did come to the port, and left with nothing sent
    assert audit_receiver.token(settings).encode() not in squatter.received
    assert marker.encode() not in squatter.received


def _post(settings, headers: dict[str, bytes | str], body: bytes = b"{}") -> int:
    port = audit_receiver.running_port(settings)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=audit_receiver.client_context(settings), timeout=30)
    conn.putrequest("POST", audit_receiver.PATH, skip_accept_encoding=True)
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.endheaders()
    if body:
        conn.send(body)
    status = conn.getresponse().status
    conn.close()
    return status


def test_malformed_requests_are_refused_cleanly(settings, lakehouse):
    token = audit_receiver.token(settings)
    assert _post(settings, {"Authorization": "Bearer \u00fc\u00ff" + token[2:], "Content-Length": "2"}) == 403
    assert _post(settings, {"Authorization": "Bearer " + token[:-1] + "\u00e9", "Content-Length": "2"}) == 403
    assert _post(settings, {"Authorization": f"Bearer {token}", "Content-Length": str(10**12)}, b"") == 413
    assert _post(settings, {"Authorization": f"Bearer {token}", "Content-Length": "-5"}, b"") == 413
    assert _post(settings, {"Authorization": f"Bearer {token}", "Content-Length": "9"}, b"{not json") == 400
    assert _post(settings, {"Authorization": f"Bearer {token}", "Content-Length": "2"}) == 200  # still serving


def _listening(port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Local addresses with a socket listening on `port`, from the kernel's own tables."""
    out = []
    for table, size in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, _, state = line.split()[1:4]
            addr, p = local.split(":")
            if int(p, 16) == port and state == "0A":  # LISTEN
                raw = bytes.fromhex(addr)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, size, 4))
                out.append(ipaddress.ip_address(words))
    return out


def test_trino_listens_on_loopback_only(settings, trino_server):
    port = int(settings.trino_endpoint.rsplit(":", 1)[1])
    addresses = _listening(port)
    assert addresses and all(a.is_loopback or (a.version == 6 and a.ipv4_mapped and a.ipv4_mapped.is_loopback)
                             for a in addresses), addresses
    others = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1", "127.0.1.1"}
    for host in others:  # and a connection through any other address of this host is refused
        with socket.socket() as s:
            s.settimeout(3)
            assert s.connect_ex((host, port)) != 0, host
