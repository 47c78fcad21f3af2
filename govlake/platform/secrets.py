"""The local secret store: generated keys in `<state>/secrets/`, never in the repository.

Token keys carry a key id so they can rotate: tokens made with an older key stay recognisable
by its id. `rotate` makes a new active key and holds the one it replaces for an overlap (a token
made with it can still be resolved, e.g. to erase the subject it names); `retire` drops it after. `GOVLAKE_TOKEN_KEY` (hex) with `GOVLAKE_TOKEN_KEY_ID` overrides the store, for
deployments whose keys come from a vault.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets as pysecrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from govlake.core import private
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings


@dataclass(frozen=True)
class TokenKey:
    key_id: str
    key: bytes

    def __repr__(self) -> str:  # never print the key itself
        return f"TokenKey(key_id={self.key_id!r})"


def _keys_path(settings: Settings) -> Path:
    return settings.secrets_dir / "token_keys.json"


def _store(settings: Settings, create: bool) -> dict:
    """The key store: {"active": id, "keys": {id: hex}, "retire_after": {id: ISO time}} (a key in
    `retire_after` is an earlier one, still held for its overlap)."""
    path = _keys_path(settings)
    if not path.is_file():
        if not create:
            raise ConfigError(f"no token key in `{path}`; run `govlake up` (or set GOVLAKE_TOKEN_KEY)")
        private.create_private(path, json.dumps({"active": "k1", "keys": {"k1": pysecrets.token_hex(32)}}))
    return json.loads(path.read_text())


def _from_env() -> TokenKey | None:
    env = os.environ.get("GOVLAKE_TOKEN_KEY")
    if not env:
        return None
    kid = os.environ.get("GOVLAKE_TOKEN_KEY_ID")
    if not kid:
        raise ConfigError("GOVLAKE_TOKEN_KEY is set but GOVLAKE_TOKEN_KEY_ID is not; set both")
    return TokenKey(kid, bytes.fromhex(env))


def token_key(settings: Settings, *, create: bool = True) -> TokenKey:
    """The active token key: every new token is made with it."""
    env = _from_env()
    if env is not None:
        return env
    store = _store(settings, create)
    kid = store["active"]
    return TokenKey(kid, bytes.fromhex(store["keys"][kid]))


def held_key(settings: Settings, key_id: str) -> TokenKey:
    """The key `key_id`, active or still in its overlap after a rotation; a retired or unknown
    id is a ConfigError saying so."""
    env = _from_env()
    if env is not None:
        if env.key_id == key_id:
            return env
        raise ConfigError(f"token key `{key_id}` is not the key in GOVLAKE_TOKEN_KEY (`{env.key_id}`); earlier keys are held by the vault")
    store = _store(settings, create=False)
    if key_id not in store["keys"]:
        raise ConfigError(f"token key `{key_id}` is not held (retired after its overlap, or never made here); keys held: "
                          f"{sorted(store['keys'])}. Pass the identifier itself with --identifier-stdin")
    return TokenKey(key_id, bytes.fromhex(store["keys"][key_id]))


def key_status(settings: Settings) -> list[dict]:
    """Each held key: id, active or not, and when an earlier one is retired (never the key)."""
    env = _from_env()
    if env is not None:
        return [{"key_id": env.key_id, "active": True, "retire_after": None, "source": "GOVLAKE_TOKEN_KEY"}]
    store = _store(settings, create=False)
    return [{"key_id": k, "active": k == store["active"], "retire_after": store.get("retire_after", {}).get(k), "source": str(_keys_path(settings))}
            for k in sorted(store["keys"], key=_key_number)]


def _key_number(key_id: str) -> int:
    return int(key_id[1:]) if key_id[1:].isdigit() else 0


def rotate(settings: Settings, when: datetime, overlap: timedelta) -> tuple[str, str]:
    """Make a new active key; the one it replaces is held until `when + overlap` (tokens made with
    it can still be resolved, e.g. to erase a subject named by one), then `retire` drops it.
    Returns (old id, new id)."""
    if _from_env() is not None:
        raise ConfigError("the token key comes from GOVLAKE_TOKEN_KEY: rotate it in the vault that provides it")
    if overlap < timedelta(0):
        raise ConfigError(f"the overlap `{overlap}` must be zero or more")
    with private.exclusive(settings.secrets_dir / "token_keys.lock"):
        store = _store(settings, create=True)
        old = store["active"]
        new = f"k{max(_key_number(k) for k in store['keys']) + 1}"
        store["keys"][new] = pysecrets.token_hex(32)
        store["active"] = new
        store.setdefault("retire_after", {})[old] = (when + overlap).astimezone(timezone.utc).isoformat()
        private.write_private(_keys_path(settings), json.dumps(store))
    return old, new


def retire(settings: Settings, when: datetime) -> list[str]:
    """Drop the earlier keys whose overlap has ended by `when`; returns their ids. Tokens made
    with them can no longer be linked to an identifier by anyone."""
    if _from_env() is not None:
        return []
    with private.exclusive(settings.secrets_dir / "token_keys.lock"):
        store = _store(settings, create=False)
        due = [k for k, t in store.get("retire_after", {}).items() if datetime.fromisoformat(t) <= when and k != store["active"]]
        for k in due:
            store["keys"].pop(k, None)
            store["retire_after"].pop(k)
        if due:
            private.write_private(_keys_path(settings), json.dumps(store))
    return due


def console_session_key(settings: Settings) -> bytes:
    """The key that signs the console's session cookies (generated once, private)."""
    path = settings.secrets_dir / "console_session_key"
    private.create_private(path, pysecrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def contract_key(key: TokenKey, contract_id: str) -> TokenKey:
    """Per-contract token key: HMAC(platform key, contract id)."""
    return TokenKey(f"{key.key_id}c", hmac.new(key.key, f"contract:{contract_id}".encode(), hashlib.sha256).digest())


def spark_secret(settings: Settings) -> str:
    """The Spark standalone cluster's shared secret (`spark.authenticate`): drivers present it to
    the master and executors; generated once into `<state>/secrets/spark.json`."""
    path = settings.secrets_dir / "spark.json"
    private.create_private(path, json.dumps({"secret": pysecrets.token_urlsafe(32)}))
    return json.loads(path.read_text())["secret"]
