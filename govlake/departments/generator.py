"""Realistic landing files for any registered department, in that department's own format.

The generator draws canonical records (unified schema, WGS-84, UTC) from a seeded random source
and writes them through the department's registry mapping in reverse: its field names, code
values, units, timezone, coordinate system, encoding and file format. So a new registry file
gets sample data with no code change, and tests can compare what comes out of the lakehouse with
the canonical records that went in.
"""
from __future__ import annotations

import csv
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from govlake.core.coordinates import from_wgs84
from govlake.departments import personal
from govlake.departments.personal import plate
from govlake.departments.registry import TIME_FORMATS, Department, FieldMap, Source

OBJECT_TYPES = [("motor_vehicle", 55), ("person", 15), ("non_motor_vehicle", 14), ("face", 10), ("thing", 4), ("scene", 2)]
COLOURS = ["white", "black", "silver", "red", "blue", "yellow", "green"]
STATUSES = [("online", 85), ("offline", 10), ("fault", 5)]
# Region centres (WGS-84) for the sample districts; other codes get a point near the city centre.
CENTRES = {"110105": (116.486, 39.948), "110108": (116.298, 39.959), "110101": (116.416, 39.928)}


@dataclass
class Canonical:
    cameras: list[dict] = field(default_factory=list)
    detections: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    notes: dict[str, personal.Note] = field(default_factory=dict)  # event id -> note with its labelled spans


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights)[0]


def device_id(region_code: str, serial: int, industry: str = "00", kind: str = "132") -> str:
    """GB/T 28181 device ID: 8-digit centre code, industry, type, network digit, 6-digit serial."""
    return f"{region_code}00{industry}{kind}1{serial:06d}"


def canonical(dept: Department, *, rows: int, seed: int, start: datetime, cameras: int = 8) -> Canonical:
    """Canonical records for `dept`: `cameras` devices and `rows` detections over 24 hours from `start`."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    rng = random.Random(f"{dept.id}:{seed}")
    out = Canonical()
    clon, clat = CENTRES.get(dept.region_code, (116.40, 39.90))
    for i in range(cameras):
        out.cameras.append(
            {
                "camera_id": device_id(dept.region_code, 1 + i),
                "name": f"{dept.id}-cam-{i + 1:03d}",
                "region_code": dept.region_code,
                "longitude": round(clon + rng.uniform(-0.03, 0.03), 6),
                "latitude": round(clat + rng.uniform(-0.02, 0.02), 6),
                "status": _weighted(rng, STATUSES),
            }
        )
    start_utc = start.astimezone(timezone.utc)
    # vehicles recur: a department-local fleet plus a city-wide one shared by all departments
    city = random.Random(f"city:{seed}")
    city_fleet = [plate(city) for _ in range(max(20, rows // 20))]
    local_fleet = [plate(rng) for _ in range(max(20, rows // 4))]
    for n in range(rows):
        cam = rng.choice(out.cameras)
        kind = _weighted(rng, OBJECT_TYPES)
        vehicle = kind == "motor_vehicle"
        observed = start_utc + timedelta(seconds=rng.randrange(0, 24 * 3600))
        det_id = f"{dept.id[:2].upper()}{seed:04d}{n:08d}"
        out.detections.append(
            {
                "detection_id": det_id,
                "camera_id": cam["camera_id"],
                "observed_at": observed,
                "object_type": kind,
                "confidence": round(rng.uniform(0.5, 0.99), 2),
                "bbox_x": rng.randrange(0, 1800),
                "bbox_y": rng.randrange(0, 1000),
                "bbox_w": rng.randrange(20, 400),
                "bbox_h": rng.randrange(20, 400),
                "plate_no": (rng.choice(city_fleet if rng.random() < 0.3 else local_fleet) if vehicle and rng.random() < 0.9 else None),
                "vehicle_color": rng.choice(COLOURS) if kind in ("motor_vehicle", "non_motor_vehicle") else None,
                "model_version": rng.choice(["v3.1", "v3.2"]),
                "image_ref": f"imgstore://{dept.id}/{observed:%Y%m%d}/{det_id}.jpg",
            }
        )
    if "events" in dept.sources:  # own random stream: adding events leaves detections unchanged
        erng = random.Random(f"{dept.id}:{seed}:events")
        for n in range(max(1, rows // 10)):
            kind, category, note = personal.note(erng)
            event_id = f"E{dept.id[:2].upper()}{seed:04d}{n:07d}"
            out.events.append(
                {
                    "event_id": event_id,
                    "camera_id": erng.choice(out.cameras)["camera_id"] if kind == "alarm" or erng.random() < 0.5 else None,
                    "occurred_at": start_utc + timedelta(seconds=erng.randrange(0, 24 * 3600)),
                    "event_type": kind,
                    "category": category,
                    "severity": erng.randrange(1, 5),
                    "note": note.text,
                }
            )
            out.notes[event_id] = note
    return out


def _encode_value(name: str, value, fm: FieldMap, dept: Department):
    if value is None:
        return None
    if fm.values:
        inverse = {v: k for k, v in fm.values.items()}
        return inverse.get(value, value)
    if fm.scale:
        return round(value / fm.scale)
    if isinstance(value, datetime):
        if fm.epoch:
            factor = 1000 if fm.epoch == "ms" else 1
            return int(value.timestamp() * factor)
        if fm.time_format:
            local = value.astimezone(ZoneInfo(dept.timezone))
            return local.strftime(TIME_FORMATS[fm.time_format])
        return value.astimezone(ZoneInfo(fm.timezone or dept.timezone))
    return value


def encode(record: dict, source: Source, dept: Department) -> dict:
    """One canonical record as the department's own record (field names, codes, units)."""
    out: dict = {}
    rec = dict(record)
    if "longitude" in rec:
        rec["longitude"], rec["latitude"] = (round(v, 7) for v in from_wgs84(dept.coordinate_system, rec["longitude"], rec["latitude"]))
    for name, fm in source.fields.items():
        value = _encode_value(name, rec.get(name), fm, dept)
        if fm.index is not None:
            arr = out.setdefault(fm.source, [])
            arr.extend([None] * (fm.index + 1 - len(arr)))
            arr[fm.index] = value
        else:
            out[fm.source] = value
    return out


ROW_FAULTS = ("malformed_line", "invalid_encoding", "missing_key", "duplicate", "future_time", "unknown_camera", "out_of_range")
FILE_FAULTS = ("extra_column", "missing_column")
TEXT_ONLY = ("malformed_line", "invalid_encoding")  # a Parquet file cannot carry these
# Reason code the ingest gives each injected row fault (duplicates are counted, not quarantined).
FAULT_REASONS = {
    "malformed_line": "MALFORMED_LINE",
    "invalid_encoding": "INVALID_ENCODING",
    "missing_key": "MISSING_KEY",
    "future_time": "FUTURE_TIME",
    "unknown_camera": "UNKNOWN_CAMERA",
    "out_of_range_confidence": "OUT_OF_RANGE_CONFIDENCE",
    "out_of_range_position": "OUT_OF_RANGE_POSITION",
}


def inject_faults(data: Canonical, dept: Department, rng: random.Random, rate: float, faults: tuple[str, ...]) -> tuple[Canonical, Counter, set[int]]:
    """Corrupt about `rate` of the detection records (and camera positions for `out_of_range`).

    Returns the faulty data, the count per injected fault and the indexes of detection records
    to be written as malformed or badly encoded lines (done at write time)."""
    counts: Counter = Counter()
    text_faults: dict[int, str] = {}
    dets = [dict(d) for d in data.detections]
    cams = [dict(c) for c in data.cameras]
    usable = [f for f in faults if f in ROW_FAULTS and not (f in TEXT_ONLY and dept.sources["detections"].format == "parquet")]
    out: list[dict] = []
    for i, d in enumerate(dets):
        if usable and rng.random() < rate:
            kind = rng.choice(usable)
            if kind == "missing_key":
                d["detection_id"] = None
            elif kind == "future_time":
                d["observed_at"] = d["observed_at"] + timedelta(days=400)
            elif kind == "unknown_camera":
                d["camera_id"] = device_id(dept.region_code, 900000 + i)
            elif kind == "out_of_range":
                d["confidence"] = 7.5
                kind = "out_of_range_confidence"
            elif kind in TEXT_ONLY:
                text_faults[len(out)] = kind
            counts[kind] += 1
            out.append(d)
            if kind == "duplicate":
                out.append(dict(d))
            continue
        out.append(d)
    if "out_of_range" in usable and cams:
        bad = dict(cams[-1], camera_id=device_id(dept.region_code, 999999), name="misplaced", longitude=200.0)
        cams.append(bad)
        counts["out_of_range_position"] += 1
    return Canonical(cams, out, data.events, data.notes), counts, text_faults


def _encode_line(values: list, source: Source, fault: str | None, rng: random.Random) -> bytes:
    if source.format == "csv":
        import io

        buf = io.StringIO()
        cells = ["" if v is None else str(v) for v in values]
        if fault == "malformed_line":
            cells = cells + ["unexpected", "fields"]
        csv.writer(buf, delimiter=source.delimiter, lineterminator="\n").writerow(cells)
        line = buf.getvalue().encode(source.encoding)
    else:
        line = (json.dumps(values, ensure_ascii=False, default=str) + "\n").encode(source.encoding)
        if fault == "malformed_line":
            line = line[: max(5, len(line) // 2)].rstrip(b"\n") + b"\n"
    if fault == "invalid_encoding":
        # inside a value: after the first delimiter (CSV) or the first string's opening quote (JSON)
        cut = line.index(b",") + 1 if source.format == "csv" else line.index(b'": "') + 4
        line = line[:cut] + b"\xff\xff" + line[cut:]  # 0xFF is never a GBK lead byte nor UTF-8
    return line


def write(
    records: list[dict], source: Source, dept: Department, path: Path, *,
    text_faults: dict[int, str] | None = None, extra_column: bool = False, drop_column: str | None = None,
    rng: random.Random | None = None,
) -> Path:
    rows = [encode(r, source, dept) for r in records]
    if extra_column:
        for r in rows:
            r["remark"] = "x"
    if drop_column:
        for r in rows:
            r.pop(drop_column, None)
    text_faults = text_faults or {}
    rng = rng or random.Random(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    if source.format in ("csv", "jsonl"):
        with tmp.open("wb") as f:
            if source.format == "csv":
                cols = [c for c in dict.fromkeys(fm.source for fm in source.fields.values()) if c != drop_column]
                cols += ["remark"] if extra_column else []
                f.write(_encode_line(cols, source, None, rng))
            for i, r in enumerate(rows):
                values = [r.get(c) for c in cols] if source.format == "csv" else r
                f.write(_encode_line(values, source, text_faults.get(i), rng))
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), tmp)
    tmp.replace(path)  # a landing file appears whole or not at all
    return path


@dataclass
class Feed:
    """What `generate` wrote: the files, the canonical records, and the faults it injected."""

    paths: dict[str, Path]
    data: Canonical
    faults: Counter


def generate(
    dept: Department, out: Path, *, rows: int, seed: int, start: datetime,
    fault_rate: float = 0.0, faults: tuple[str, ...] = ROW_FAULTS + FILE_FAULTS,
) -> Feed:
    """Write one cameras file, one detections file and (if the department sends them) one events
    file for `dept` into `out`.

    With `fault_rate` > 0, about that share of detection rows carries one of `faults`, and the
    file-level faults (`extra_column`, `missing_column`) are applied to the detections file."""
    data = canonical(dept, rows=rows, seed=seed, start=start)
    rng = random.Random(f"faults:{dept.id}:{seed}")
    counts: Counter = Counter()
    text_faults: dict[int, str] = {}
    if fault_rate > 0:
        data, counts, text_faults = inject_faults(data, dept, rng, fault_rate, faults)
    tag = f"{start.astimezone(timezone.utc):%Y%m%dT%H%M%S}_s{seed}"
    det_source = dept.sources["detections"]
    extra = fault_rate > 0 and "extra_column" in faults
    drop = det_source.fields["vehicle_color"].source if fault_rate > 0 and "missing_column" in faults else None
    counts.update({k: 1 for k, on in (("extra_column", extra), ("missing_column", bool(drop))) if on})
    paths = {
        "cameras": write(data.cameras, dept.sources["cameras"], dept, out / dept.sources["cameras"].pattern.replace("*", tag)),
        "detections": write(
            data.detections, det_source, dept, out / det_source.pattern.replace("*", tag),
            text_faults=text_faults, extra_column=extra, drop_column=drop, rng=rng,
        ),
    }
    if "events" in dept.sources:
        src = dept.sources["events"]
        paths["events"] = write(data.events, src, dept, out / src.pattern.replace("*", tag))
    return Feed(paths, data, counts)
