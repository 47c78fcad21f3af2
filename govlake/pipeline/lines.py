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


def locate(path: Path, source: Source, raws: set[str], key_field: str | None = None) -> dict[str, int]:
    """raw record text -> first line (1-based) holding it, for the raws found in `path`.

    With `key_field` (the source field holding the record's key), each record is looked for
    only in the lines whose key is its key or cannot be read cheaply, and a line that did not
    parse is looked up by its text, instead of parsing every line of the file; a record found
    nowhere that way is looked for the slow way, so the answer is the same either way."""
    if source.format not in ("csv", "jsonl") or not raws:
        return {}
    lines = _lines(path, source.encoding)
    header = next(csv.reader([lines[0]], delimiter=source.delimiter)) if source.format == "csv" and lines else []
    found: dict[str, int] = {}
    by_key = _key_index(lines, source, header, key_field) if key_field else None
    if by_key is not None:
        texts: dict[str, int] = {}
        for no, line in enumerate(lines, start=1):
            if line.strip() and not (source.format == "csv" and no == 1):
                _add(texts, line, no)
        keyless: dict[str, int] = {}  # the lines without a readable key, parsed once
        for no in by_key.get(None, []):
            _index_line(keyless, lines[no - 1], no, source, header)
        for raw in raws:
            fields = _json_fields(raw)
            if fields is None:  # the text of a line that did not parse
                hit = _match(raw, None, texts)
            else:
                key = fields.get(key_field)
                if key is not None and not isinstance(key, str):
                    continue
                index: dict[str, int] = {}
                for no in by_key.get(key, []) if key else []:
                    _index_line(index, lines[no - 1], no, source, header)
                hits = [h for h in (_match(raw, fields, index), _match(raw, fields, keyless)) if h is not None]
                hit = min(hits, default=None)
            if hit is not None:
                found[raw] = hit
        raws = raws - found.keys()
        if not raws:
            return found
    index = {}
    for no, line in enumerate(lines, start=1):
        _index_line(index, line, no, source, header)
    for raw in raws:
        hit = _match(raw, _json_fields(raw), index)
        if hit is not None:
            found[raw] = hit
    return found


def _add(index: dict[str, int], key: str, no: int) -> None:
    index.setdefault(key, no)
    index.setdefault(key.replace(REPLACEMENT, ""), no)


def _index_line(index: dict[str, int], line: str, no: int, source: Source, header: list[str]) -> None:
    """Index one line by its text and by its parsed fields (as `_key` of them)."""
    if not line.strip() or (source.format == "csv" and no == 1):
        return
    _add(index, line, no)
    if source.format == "csv":
        values = next(csv.reader([line], delimiter=source.delimiter), [])
        if len(values) == len(header):
            _add(index, _key({h: (v if v != "" else None) for h, v in zip(header, values)}), no)
    else:
        fields = _json_fields(line)
        if fields is not None:
            _add(index, _key(fields), no)


def _match(raw: str, fields: dict | None, index: dict[str, int]) -> int | None:
    candidates = [raw] + ([_key(fields)] if fields is not None else [])
    for c in candidates + [c.replace(REPLACEMENT, "") for c in candidates if REPLACEMENT in c]:
        if c in index:
            return index[c]
    return None


_JSON_STRING = r'"((?:[^"\\]|\\.)*)"'


def _key_index(lines: list[str], source: Source, header: list[str], key_field: str) -> dict[str | None, list[int]] | None:
    """Key value -> the lines (1-based) holding it, read cheaply (the key's CSV column, or the
    key's string in a JSON line); lines whose key is empty or cannot be read that way (escapes,
    replacement characters, a cell count that differs from the header's) are under None. None
    when the file's header does not name the key field."""
    import re

    out: dict[str | None, list[int]] = {}
    if source.format == "csv":
        if key_field not in header:
            return None
        at, width = header.index(key_field), len(header)
        for no, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            cells = line.split(source.delimiter) if '"' not in line else next(csv.reader([line], delimiter=source.delimiter), [])
            key = cells[at] if len(cells) == width and cells[at] and REPLACEMENT not in cells[at] else None
            out.setdefault(key, []).append(no)
        return out
    pattern = re.compile(re.escape(json.dumps(key_field, ensure_ascii=False)) + r"\s*:\s*" + _JSON_STRING)
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        m = pattern.search(line)
        value = None
        if m and "\\" not in m.group(1) and REPLACEMENT not in m.group(1):
            value = m.group(1) or None
        out.setdefault(value, []).append(no)
    return out
