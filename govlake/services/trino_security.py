"""Trino's authentication material, generated locally into the ignored secrets folder.

- a self-signed TLS certificate for 127.0.0.1/localhost (Trino accepts passwords over HTTPS only;
  clients verify against this certificate, never with verification switched off);
- one random password per identity in `catalog/identities.yaml`, kept in `passwords.json`
  (mode 0600) for the CLI and jobs, and Trino's password file with bcrypt hashes only;
- the shared secret Trino needs for internal communication once authentication is on.

Nothing here is ever written into the repository. A user added to the registry gets a password
on the next `govlake up`; a user removed loses theirs.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets as pysecrets
from dataclasses import dataclass
from pathlib import Path

from govlake.contracts import workflow
from govlake.core import private
from govlake.core.errors import ConfigError, IdentityError
from govlake.core.settings import Settings
from govlake.domain import identities

BCRYPT_COST = 10


@dataclass(frozen=True)
class TrinoSecrets:
    tls_pem: Path        # private key + certificate, for the server
    tls_cert: Path       # certificate only, for clients to verify the server
    password_db: Path    # user:bcrypt-hash lines, for the server
    shared_secret: str

    def __repr__(self) -> str:
        return f"TrinoSecrets(tls_cert={str(self.tls_cert)!r})"


def _dir(settings: Settings) -> Path:
    private.private_dir(settings.secrets_dir)
    return private.private_dir(settings.secrets_dir / "trino")


def _ensure_tls(d: Path, host: str) -> tuple[Path, Path]:
    pem, cert_path = d / "tls.pem", d / "tls-cert.pem"
    if pem.is_file() and cert_path.is_file():
        return pem, cert_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "govlake local Trino")])
    now = dt.datetime.now(dt.timezone.utc)
    alt = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        alt.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        alt.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(list(dict.fromkeys(alt))), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    private.write_private(pem, key_pem + cert_pem)
    private.write_private(cert_path, cert_pem)
    return pem, cert_path


def tls_files(settings: Settings) -> tuple[Path, Path]:
    """(private key + certificate, certificate only) for loopback TLS: Trino and the receiver
    serve with it, clients verify against it."""
    return _ensure_tls(_dir(settings), settings.trino_host)


def _passwords_file(settings: Settings) -> Path:
    return _dir(settings) / "passwords.json"


def ensure(settings: Settings) -> TrinoSecrets:
    """Create whatever is missing; keep existing passwords and certificate."""
    import bcrypt

    d = _dir(settings)
    pem, cert = _ensure_tls(d, settings.trino_host)
    secret_file = d / "shared-secret"
    if not secret_file.is_file():
        private.write_private(secret_file, pysecrets.token_urlsafe(48))
    users = [i.user for i in identities.load(settings).identities]
    pw_file = _passwords_file(settings)
    stored: dict[str, str] = json.loads(pw_file.read_text()) if pw_file.is_file() else {}
    current = {u: stored.get(u) or pysecrets.token_urlsafe(18) for u in users}
    db = d / "password.db"
    hashes_file = d / "password-hashes.json"  # user -> (password fingerprint, hash): avoid re-hashing
    known: dict[str, list[str]] = json.loads(hashes_file.read_text()) if hashes_file.is_file() else {}
    lines, new_known = [], {}
    for user, pw in current.items():
        fp = _fingerprint(pw)
        if user in known and known[user][0] == fp:
            h = known[user][1]
        else:
            h = bcrypt.hashpw(pw.encode(), bcrypt.gensalt(BCRYPT_COST)).decode().replace("$2b$", "$2y$", 1)
        new_known[user] = [fp, h]
        lines.append(f"{user}:{h}\n")
    if current != stored:
        private.write_private(pw_file, json.dumps(current, indent=1))
    private.write_private(hashes_file, json.dumps(new_known))
    private.write_private(db, "".join(lines))
    return TrinoSecrets(pem, cert, db, secret_file.read_text().strip())


def _fingerprint(pw: str) -> str:
    import hashlib

    return hashlib.sha256(pw.encode()).hexdigest()[:16]


def password(settings: Settings, user: str) -> str:
    """The local password of `user` (generated by `govlake up`)."""
    env = os.environ.get(f"GOVLAKE_TRINO_PASSWORD_{user.upper()}")
    if env:
        return env
    pw_file = _passwords_file(settings)
    if not pw_file.is_file():
        raise ConfigError(f"cannot reach Trino as `{user}`: it has not been set up here (no passwords in `{pw_file}`); start it with `govlake up`, which generates them")
    stored = json.loads(pw_file.read_text())
    if user not in stored:
        raise IdentityError(f"user `{user}` has no Trino password yet; run `govlake up` to generate passwords for new identities")
    return stored[user]


_NO_USER_HASH = f"$2b${BCRYPT_COST:02d}$".encode() + b"C" * 53  # checked for an unknown user, so both take as long


def check_password(settings: Settings, user: str, password: str) -> bool:
    """Whether `password` is `user`'s local password (the one Trino accepts), checked against its
    bcrypt hash; the plain passwords are not read."""
    import bcrypt

    hashes_file = _dir(settings) / "password-hashes.json"
    known: dict[str, list[str]] = json.loads(hashes_file.read_text()) if hashes_file.is_file() else {}
    stored = known.get(user, [None, None])[1]
    hashed = stored.replace("$2y$", "$2b$", 1).encode() if stored else _NO_USER_HASH
    try:
        ok = bcrypt.checkpw(password.encode(), hashed)
    except ValueError:
        ok = False
    return ok and stored is not None


def client_cert(settings: Settings) -> Path | None:
    path = settings.secrets_dir / "trino" / "tls-cert.pem"
    return path if path.is_file() else None


def registry_fingerprint(settings: Settings) -> tuple:
    """Changes whenever the identity registry file does."""
    try:
        st = settings.identities_path.stat()
    except FileNotFoundError:
        return ()
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def sync_registry(settings: Settings) -> None:
    """Bring the running (or about to start) server in line with the identity registry: a new
    user gets a password, a removed user loses theirs, a moved user their old groups, and the
    access rules follow (Trino re-reads all three within a second or two)."""

    etc = settings.state / "trino" / "etc"  # the server's configuration folder (services/trino.py)
    private.private_dir(etc)
    with private.exclusive(settings.run_dir / "registry.lock"):  # `govlake up` and the receiver's follower
        ensure(settings)
        private.write_private(etc / "groups.txt", identities.trino_group_file(identities.load(settings)))
        workflow.refresh_active(settings)  # states brought up to now
        workflow.rewrite_rules(settings)  # rules from the states as they are when written
