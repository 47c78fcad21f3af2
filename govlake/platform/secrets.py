"""The local secret store: generated keys in `<state>/secrets/`, never in the repository.

Token keys carry a key id so they can rotate: tokens made with an older key stay recognisable
by its id. `GOVLAKE_TOKEN_KEY` (hex) with `GOVLAKE_TOKEN_KEY_ID` overrides the store, for
deployments whose keys come from a vault.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets as pysecrets
from dataclasses import dataclass

from govlake.core import private
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings


@dataclass(frozen=True)
class TokenKey:
    key_id: str
    key: bytes

    def __repr__(self) -> str:  # never print the key itself
        return f"TokenKey(key_id={self.key_id!r})"


def token_key(settings: Settings, *, create: bool = True) -> TokenKey:
    env = os.environ.get("GOVLAKE_TOKEN_KEY")
    if env:
        kid = os.environ.get("GOVLAKE_TOKEN_KEY_ID")
        if not kid:
            raise ConfigError("GOVLAKE_TOKEN_KEY is set but GOVLAKE_TOKEN_KEY_ID is not; set both")
        return TokenKey(kid, bytes.fromhex(env))
    path = settings.secrets_dir / "token_keys.json"
    if not path.is_file():
        if not create:
            raise ConfigError(f"no token key in `{path}`; run `govlake up` (or set GOVLAKE_TOKEN_KEY)")
        private.create_private(path, json.dumps({"active": "k1", "keys": {"k1": pysecrets.token_hex(32)}}))
    store = json.loads(path.read_text())
    kid = store["active"]
    return TokenKey(kid, bytes.fromhex(store["keys"][kid]))


def console_session_key(settings: Settings) -> bytes:
    """The key that signs the console's session cookies (generated once, private)."""
    path = settings.secrets_dir / "console_session_key"
    private.create_private(path, pysecrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def contract_key(key: TokenKey, contract_id: str) -> TokenKey:
    """Per-contract token key: HMAC(platform key, contract id)."""
    return TokenKey(f"{key.key_id}c", hmac.new(key.key, f"contract:{contract_id}".encode(), hashlib.sha256).digest())
