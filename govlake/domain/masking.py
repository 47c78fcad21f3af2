"""Masking as native Spark column functions (no Python UDFs on the hot path).

HMAC-SHA256 is composed from `sha2`, `unhex` and `concat` (RFC 2104), so tokens computed in Spark
equal Python's `hmac` digest and departments can join on them without seeing the value.
"""
from __future__ import annotations

import hashlib
import hmac

from pyspark.sql import Column, DataFrame, functions as F

from govlake.pii.checksums import ID_CHECK, ID_WEIGHTS
from govlake.pii.recognizers import scrub as scrub_one
from govlake.platform.secrets import TokenKey

BLOCK = 64
MASK_KEY = "govlake.masking"  # column metadata naming the masking method, read by lineage capture


def mark(method: str, col: Column) -> Column:
    """`col` labelled as the result of masking method `method` (lineage records it on the edge).
    Label the outermost expression: Spark keeps the label through a later `.alias`, not through
    an expression wrapped around it."""
    return col.alias(method, metadata={MASK_KEY: method})


def _pads(key: bytes) -> tuple[bytes, bytes]:
    k = hashlib.sha256(key).digest() if len(key) > BLOCK else key
    k = k.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


def pad_columns(key: TokenKey) -> tuple[str, str]:
    """Names of the two columns `keyed` adds for `key` (named after a one-way tag of the key, so
    two keys never share a column and the name reveals nothing of the key)."""
    tag = hashlib.sha256(b"govlake pad column " + key.key).hexdigest()[:12]
    return f"__pad_i_{tag}", f"__pad_o_{tag}"


def keyed(df: DataFrame, *keys: TokenKey) -> DataFrame:
    """`df` with the HMAC pads of each key as two extra columns, joined from a one-row in-memory
    table by broadcast. `token` reads the key from these columns: the key travels as data, never
    as a literal in the plan, and plans reach logs, error messages and lineage."""
    for key in keys:
        inner, outer = pad_columns(key)
        if inner in df.columns:
            continue
        ipad, opad = _pads(key.key)
        pads = df.sparkSession.createDataFrame([(bytearray(ipad), bytearray(opad))], f"`{inner}` binary, `{outer}` binary")
        df = df.crossJoin(F.broadcast(pads))
    return df


def token(col: Column, key: TokenKey) -> Column:
    """Deterministic keyed token `<key id>_<hex HMAC-SHA256>`; null stays null. The frame must
    carry the key's pads (`keyed(df, key)`)."""
    inner_pad, outer_pad = pad_columns(key)
    inner = F.sha2(F.concat(F.col(inner_pad), col.cast("string").cast("binary")), 256)
    outer = F.sha2(F.concat(F.col(outer_pad), F.unhex(inner)), 256)
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


def day(col: Column) -> Column:
    """Generalise a timestamp to the start of its day."""
    return F.date_trunc("day", col)


def mask_plate(col: Column) -> Column:
    """Partial mask of a licence plate: province, authority letter and the last two characters
    stay (`京A***12`); anything shorter than 5 characters is fully masked."""
    n = F.char_length(col)
    return F.when(col.isNull(), None).when(n < 5, F.lit("***")).otherwise(
        F.concat(F.substring(col, 1, 2), F.repeat(F.lit("*"), n - 4), F.substring(col, -2, 2))
    )


def mask_phone(col: Column) -> Column:
    """Partial mask of a mainland mobile number: first 3 and last 4 digits stay (`138****5678`);
    a +86 prefix and separators are dropped first."""
    digits = F.regexp_replace(F.regexp_replace(col, r"[\s-]", ""), r"^(\+|00)?86(?=1\d{10}$)", "")
    return F.when(col.isNull(), None).when(F.char_length(digits) == 11, F.concat(F.substring(digits, 1, 3), F.lit("****"), F.substring(digits, -4, 4))).otherwise(
        F.lit("***")
    )


def mask_id_number(col: Column) -> Column:
    """Partial mask of a resident identity number: only the 6 region digits stay (`110105************`)."""
    return F.when(col.isNull(), None).otherwise(F.concat(F.substring(col, 1, 6), F.repeat(F.lit("*"), F.greatest(F.char_length(col) - 6, F.lit(0)))))


def age_band(col: Column, width: int = 10) -> Column:
    """Generalise an age in years to a band like `30-39`."""
    lo = (F.floor(col / F.lit(width)) * width).cast("int")
    return F.when(col.isNull(), None).otherwise(F.concat(lo.cast("string"), F.lit("-"), (lo + width - 1).cast("string")))


def id_check_ok(col: Column) -> Column:
    """GB 11643 check-digit validity of an 18-character identity number, as a native column."""

    total = sum((F.substring(col, i + 1, 1).cast("int") * w for i, w in enumerate(ID_WEIGHTS)), F.lit(0))
    expected = F.substring(F.lit(ID_CHECK), (total % 11) + 1, 1)
    return col.rlike(r"^\d{17}[\dXx]$") & (F.upper(F.substring(col, 18, 1)) == expected)


def scrub_text(col: Column) -> Column:
    """Free text with every recognised entity replaced by its typed placeholder, computed in
    batches by an Arrow (pandas) UDF calling the recognizers directly (no Presidio pipeline per
    row), each distinct text of a batch once."""
    return _scrub_udf()(col)


def _scrub_udf():
    import pandas as pd
    from pyspark.sql.functions import pandas_udf

    def scrub(texts):
        # each distinct text once per batch: system-generated notes (alarm texts) repeat verbatim
        done = {t: scrub_one(t) for t in texts.dropna().unique()}
        return texts.map(done.get)

    # real type objects (this module's annotations are strings, which pandas_udf cannot resolve)
    scrub.__annotations__ = {"texts": pd.Series, "return": pd.Series}
    return pandas_udf(scrub, "string")


def apply(method: str, col: Column, key: TokenKey | None = None, params: dict | None = None) -> Column | None:
    """Apply a masking method named in policies/masking.yaml; None means the column is suppressed."""
    params = params or {}
    if method == "identity":
        return col
    if method == "token":
        if key is None:
            raise ValueError("method `token` needs a token key")
        return mark(method, token(col, key))
    simple = {"hour": hour, "day": day, "mask_plate": mask_plate, "mask_phone": mask_phone, "mask_id_number": mask_id_number,
              "scrub": scrub_text}
    if method in simple:
        return mark(method, simple[method](col))
    if method == "age_band":
        return mark(method, age_band(col, int(params.get("width", 10))))
    if method == "suppress":
        return None
    raise ValueError(f"unknown masking method `{method}`; see policies/masking.yaml")
