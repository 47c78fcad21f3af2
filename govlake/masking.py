"""Masking as native Spark column functions (no Python UDFs on the hot path).

HMAC-SHA256 is composed from `sha2`, `unhex` and `concat` (RFC 2104), so tokens computed in Spark
equal Python's `hmac` digest and departments can join on them without seeing the value.
"""
from __future__ import annotations

import hashlib
import hmac

from pyspark.sql import Column
from pyspark.sql import functions as F

from govlake.secrets import TokenKey

BLOCK = 64


def _pads(key: bytes) -> tuple[str, str]:
    k = hashlib.sha256(key).digest() if len(key) > BLOCK else key
    k = k.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in k).hex(), bytes(b ^ 0x5C for b in k).hex()


def token(col: Column, key: TokenKey) -> Column:
    """Deterministic keyed token `<key id>_<hex HMAC-SHA256>`; null stays null."""
    ipad, opad = _pads(key.key)
    inner = F.sha2(F.concat(F.unhex(F.lit(ipad)), col.cast("string").cast("binary")), 256)
    outer = F.sha2(F.concat(F.unhex(F.lit(opad)), F.unhex(inner)), 256)
    return F.when(col.isNull(), F.lit(None)).otherwise(F.concat(F.lit(key.key_id + "_"), outer))


def token_py(value: str, key: TokenKey) -> str:
    """The same token in Python (tests, CLI look-ups of a subject's token)."""
    return f"{key.key_id}_" + hmac.new(key.key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def hour(col: Column) -> Column:
    """Generalise a timestamp to the start of its hour."""
    return F.date_trunc("hour", col)


def grid_cell(lon: Column, lat: Column, size_deg: float) -> Column:
    """Generalise a position to a square grid cell id `g<size>:<lat index>:<lon index>`."""
    return F.concat_ws(
        ":",
        F.lit(f"g{size_deg:g}"),
        F.floor(lat / F.lit(size_deg)).cast("long").cast("string"),
        F.floor(lon / F.lit(size_deg)).cast("long").cast("string"),
    )
