"""Line numbers of quarantined records (pipeline/lines.py): the key-narrowed lookup finds the
same lines as reading every line, on generated feeds with injected faults."""
from __future__ import annotations

import csv
import json
from datetime import datetime, timezone

import pytest

from govlake.departments import generator, synthetic
from govlake.pipeline import lines


def _raws(path, source) -> dict[str, int]:
    """Every record of the file as the ingest would quarantine it (its fields as JSON, or a
    line that does not parse as its own text), with the first line holding it."""
    text = path.read_bytes().decode(source.encoding, errors="replace").split("\n")
    header = next(csv.reader([text[0].lstrip("\ufeff")], delimiter=source.delimiter)) if source.format == "csv" else None
    out: dict[str, int] = {}
    for no, line in enumerate(text, start=1):
        if not line.strip() or (header and no == 1):
            continue
        if header:
            values = next(csv.reader([line], delimiter=source.delimiter))
            raw = line if len(values) != len(header) else json.dumps(
                {h: v for h, v in zip(header, values) if v != ""}, ensure_ascii=False)
        else:
            try:
                obj = json.loads(line)
                raw = json.dumps({k: v if isinstance(v, (str, list)) or v is None else str(v) for k, v in obj.items()}, ensure_ascii=False)
            except ValueError:
                raw = line
        out.setdefault(raw, no)
    return out


@pytest.mark.parametrize("template", [0, 1])  # GBK CSV, JSON lines
def test_the_key_narrowed_lookup_finds_the_same_lines_as_a_full_read(tmp_path, template, monkeypatch):
    dept = synthetic.make_departments(3)[template]
    feed = generator.generate(dept, tmp_path, rows=2000, seed=7, start=datetime(2026, 11, 20, tzinfo=timezone.utc),
                              fault_rate=0.05, faults=generator.ROW_FAULTS)
    source = dept.sources["detections"]
    path = feed.paths["detections"]
    expected = _raws(path, source)
    wanted = set(list(expected)[::7])
    key_field = source.fields["detection_id"].source
    parsed = []
    index_line = lines._index_line
    monkeypatch.setattr(lines, "_index_line", lambda index, line, no, *a: parsed.append(no) or index_line(index, line, no, *a))
    fast = lines.locate(path, source, wanted, key_field=key_field)
    narrowed, parsed[:] = len(parsed), []
    assert fast == lines.locate(path, source, wanted)
    assert narrowed < len(parsed) / 2  # the narrowed lookup parsed a fraction of the lines
    assert fast == {raw: expected[raw] for raw in wanted} and len(fast) > 250
    absent = {"{\"no\": \"such record\"}", json.dumps({key_field: "no-such-id"})}
    assert lines.locate(path, source, absent, key_field=key_field) == {} == lines.locate(path, source, absent)
