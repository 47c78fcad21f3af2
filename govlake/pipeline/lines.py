"""Line numbers of quarantined records in their landing files.

Spark's CSV and JSON readers do not expose where a record came from within its file, so the
ingest looks the (few) rejected records up afterwards on the driver: each file holding rejected
records is read once, each line decoded with the department's encoding and parsed the way Spark
parsed it, and matched against the rejected record's raw text (a malformed line's text as read,
or the record's fields as JSON). Lines are 1-based and count the CSV header as line 1. A record
whose bytes were invalid in the declared encoding is matched ignoring the replacement characters
(Spark's and Python's decoders need not replace the same bytes). Parquet rows get their 1-based
row number from Spark (`_metadata.row_index`) instead. A record that matches no line keeps no
line number rather than a wrong one.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from govlake.departments.registry import Source

REPLACEMENT = "\ufffd"


def _key(fields: dict) -> str:
    return json.dumps({k: v for k, v in fields.items() if v is not None}, sort_keys=True, ensure_ascii=False)


def _json_fields(text: str) -> dict | None:
    def scalar(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict):
            return {k: scalar(x) for k, x in v.items() if x is not None}
        if isinstance(v, list):
            return [scalar(x) for x in v]
        return v

    try:
        obj = json.loads(text, parse_float=str, parse_int=str, parse_constant=str)
    except ValueError:
        return None
    return {k: scalar(v) for k, v in obj.items()} if isinstance(obj, dict) else None


def _lines(path: Path, encoding: str) -> list[str]:
    text = path.read_bytes().decode(encoding, errors="replace")
    out = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    if out:
        out[0] = out[0].lstrip("\ufeff")
    return out


def locate(path: Path, source: Source, raws: set[str]) -> dict[str, int]:
    """raw record text -> first line (1-based) holding it, for the raws found in `path`."""
    if source.format not in ("csv", "jsonl") or not raws:
        return {}
    lines = _lines(path, source.encoding)
    index: dict[str, int] = {}  # line text and parsed-fields key, exact and without U+FFFD -> line

    def add(key: str, no: int) -> None:
        index.setdefault(key, no)
        index.setdefault(key.replace(REPLACEMENT, ""), no)

    header = next(csv.reader([lines[0]], delimiter=source.delimiter)) if source.format == "csv" and lines else []
    for no, line in enumerate(lines, start=1):
        if not line.strip() or (source.format == "csv" and no == 1):
            continue
        add(line, no)
        if source.format == "csv":
            values = next(csv.reader([line], delimiter=source.delimiter), [])
            if len(values) == len(header):
                add(_key({h: (v if v != "" else None) for h, v in zip(header, values)}), no)
        else:
            fields = _json_fields(line)
            if fields is not None:
                add(_key(fields), no)
    found: dict[str, int] = {}
    for raw in raws:
        fields = _json_fields(raw)
        candidates = [raw] + ([_key(fields)] if fields is not None else [])
        for c in candidates + [c.replace(REPLACEMENT, "") for c in candidates if REPLACEMENT in c]:
            if c in index:
                found[raw] = index[c]
                break
    return found
