"""Backup and restore of the governance store and the keys needed to check what it holds.

A lost disk must not lose the approval history. A backup is one file holding:

- a consistent snapshot of the governance store (contracts, their versions, approvals and
  events, the audit chain, lineage, classification proposals), taken with SQLite's online backup
  API while writers may be active (each transaction is in the snapshot whole or not at all);
- the audit chain's MAC key (without it the chain cannot be verified), the token keys (without
  them erasure by identifier and contract tokens cannot be recomputed), and the snapshot's chain
  head as the anchor beside the restored store;
- a manifest: when, the head of the chain in the snapshot, and the SHA-256 of every member.

The file is encrypted (AES-256-GCM, key from a passphrase by scrypt): it holds keys that let
whoever has it compute every token. It is written private to the service account.

A restore goes only into a state folder without a governance store (it never overwrites one),
checks the passphrase (the GCM tag) and every member's checksum before writing anything, writes
the members privately, and then verifies the audit chain with the restored key.

Only the embedded SQLite store is backed up here; a PostgreSQL store (GOVLAKE_GOVERNANCE_URL) is
backed up with PostgreSQL's own tools, and this refuses it with that advice.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from govlake.core import private
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings
from govlake.governance import audit, store

MAGIC = b"GOVLAKE-BACKUP-1\n"
SALT, NONCE = 16, 12
SCRYPT = {"n": 2 ** 15, "r": 8, "p": 1}
STORE = "governance.db"
KEYS = ("audit-chain.key", "token_keys.json")  # in the secrets folder
ANCHOR = "audit-head.json"  # the chain's head (restored as the anchor in the warehouse)
MIN_PASSPHRASE = 12
ACTOR = "operator"  # the CLI names no user: backups are the platform operator's job


def _key(passphrase: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, **SCRYPT).derive(passphrase.encode())


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase or "") < MIN_PASSPHRASE:
        raise ConfigError(f"the backup passphrase must have at least {MIN_PASSPHRASE} characters; pipe it on stdin "
                          "(`--passphrase-stdin`) or set GOVLAKE_BACKUP_PASSPHRASE")


def _sqlite_path(settings: Settings) -> Path:
    url = store.url(settings)
    if not url.startswith("sqlite:///"):
        raise ConfigError("the governance store is not the embedded SQLite file (GOVLAKE_GOVERNANCE_URL is set): back it up "
                          "with the database's own tools (e.g. pg_dump), and the secrets folder with it")
    return Path(url[len("sqlite:///"):])


def backup(settings: Settings, out: Path, passphrase: str) -> dict:
    """Write an encrypted backup to `out`; returns its manifest."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    _check_passphrase(passphrase)
    db = _sqlite_path(settings)
    if not db.is_file():
        raise ConfigError(f"no governance store at `{db}`: nothing to back up (is GOVLAKE_STATE_DIR the right state folder?)")
    store.engine(settings)  # the schema is current before the snapshot
    members: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="govlake-backup-", dir=private.private_dir(settings.state / "tmp")) as tmp:
        snap = Path(tmp) / STORE
        source, target = sqlite3.connect(db), sqlite3.connect(snap)
        try:
            source.backup(target)  # online: a consistent snapshot while appends go on
        finally:
            target.close()
            source.close()
        members[STORE] = snap.read_bytes()
        check = sqlite3.connect(snap)
        try:
            head = check.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        finally:
            check.close()
    for name in KEYS:
        path = settings.secrets_dir / name
        if path.is_file():
            members[f"secrets/{name}"] = path.read_bytes()
    if head:  # the anchor of the restored store is the snapshot's head (the live one may already be further on)
        members[ANCHOR] = json.dumps({"seq": head[0], "hash": head[1]}).encode()
    manifest = {
        "format": 1, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "audit_head": {"seq": head[0], "hash": head[1]} if head else None,
        "members": {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in members.items()},
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in [("manifest.json", json.dumps(manifest, indent=1).encode())] + sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
    salt, nonce = os.urandom(SALT), os.urandom(NONCE)
    sealed = AESGCM(_key(passphrase, salt)).encrypt(nonce, buf.getvalue(), MAGIC)
    private.private_dir(out.parent)
    private.write_private(out, MAGIC + salt + nonce + sealed)
    manifest["file"], manifest["file_bytes"] = str(out), out.stat().st_size
    audit.record(settings, ACTOR, "backup.made", f"backup:{out.name}", {
        "audit_head": manifest["audit_head"], "members": sorted(members), "bytes": manifest["file_bytes"]})
    return manifest


def read(path: Path, passphrase: str) -> tuple[dict, dict[str, bytes]]:
    """The manifest and members of a backup, after the passphrase and every checksum are checked."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not path.is_file():
        raise ConfigError(f"no backup file `{path}`")
    blob = path.read_bytes()
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + SALT + NONCE + 16:
        raise ConfigError(f"`{path}` is not a govlake backup (it does not start with the backup header)")
    body = blob[len(MAGIC):]
    salt, nonce, sealed = body[:SALT], body[SALT:SALT + NONCE], body[SALT + NONCE:]
    try:
        plain = AESGCM(_key(passphrase, salt)).decrypt(nonce, sealed, MAGIC)
    except InvalidTag:
        raise ConfigError(f"`{path}` cannot be opened with this passphrase, or the file was altered") from None
    members: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:gz") as tar:
        for info in tar.getmembers():
            if not info.isfile() or info.name.startswith("/") or ".." in Path(info.name).parts:
                raise ConfigError(f"backup `{path}` holds an unexpected member `{info.name}`")
            members[info.name] = tar.extractfile(info).read()
    manifest = json.loads(members.pop("manifest.json"))
    if set(manifest["members"]) != set(members):
        raise ConfigError(f"backup `{path}`: its members {sorted(members)} differ from its manifest {sorted(manifest['members'])}")
    for name, data in members.items():
        if hashlib.sha256(data).hexdigest() != manifest["members"][name]["sha256"]:
            raise ConfigError(f"backup `{path}`: member `{name}` does not match its checksum")
    if STORE not in members:
        raise ConfigError(f"backup `{path}` holds no governance store")
    return manifest, members


def restore(settings: Settings, path: Path, passphrase: str) -> tuple[dict, audit.Verification]:
    """Restore a backup into `settings`' state folder, which must hold no governance store yet;
    then verify the audit chain with the restored key. Nothing is written unless the whole
    backup opened and checked out."""
    db = _sqlite_path(settings)
    if db.exists():
        raise ConfigError(f"`{db}` already holds a governance store; restore into an empty state folder "
                          "(GOVLAKE_STATE_DIR) or move the current one aside first: a restore never overwrites")
    manifest, members = read(path, passphrase)
    for name in KEYS:
        if (settings.secrets_dir / name).exists() and f"secrets/{name}" in members \
                and (settings.secrets_dir / name).read_bytes() != members[f"secrets/{name}"]:
            raise ConfigError(f"`{settings.secrets_dir / name}` exists and differs from the backup's: a restore never replaces a key; "
                              "restore into an empty state folder")
    private.private_dir(settings.state)
    private.private_dir(settings.secrets_dir)
    for name, data in members.items():
        if name == ANCHOR:  # the restored store's head replaces the anchor in the warehouse (it may be further on)
            audit.write_anchor(settings, data)
            continue
        target = db if name == STORE else (settings.secrets_dir / name.split("/", 1)[1] if name.startswith("secrets/") else settings.state / name)
        private.write_private(target, data)
    verification = audit.verify(settings)
    if verification.ok:  # the restore itself joins the restored chain
        audit.record(settings, ACTOR, "backup.restored", f"backup:{path.name}", {"created_at": manifest["created_at"],
                                                                                 "audit_head": manifest["audit_head"]})
        verification = audit.verify(settings)
    return manifest, verification
