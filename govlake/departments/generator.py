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
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from govlake.coordinates import from_wgs84
from govlake.departments.registry import TIME_FORMATS, Department, FieldMap, Source

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # GA 36 excludes I and O
PLATE_CHARS = PLATE_LETTERS + "0123456789"
OBJECT_TYPES = [("motor_vehicle", 55), ("person", 15), ("non_motor_vehicle", 14), ("face", 10), ("thing", 4), ("scene", 2)]
COLOURS = ["white", "black", "silver", "red", "blue", "yellow", "green"]
STATUSES = [("online", 85), ("offline", 10), ("fault", 5)]
# Region centres (WGS-84) for the sample districts; other codes get a point near the city centre.
CENTRES = {"110105": (116.486, 39.948), "110108": (116.298, 39.959), "110101": (116.416, 39.928)}


@dataclass
class Canonical:
    cameras: list[dict] = field(default_factory=list)
    detections: list[dict] = field(default_factory=list)


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights)[0]


def plate(rng: random.Random) -> str:
    """A GA 36 plate: province + letter + 5 characters, or a new-energy plate with 6."""
    head = rng.choice(PROVINCES) + rng.choice(PLATE_LETTERS)
    if rng.random() < 0.2:
        return head + rng.choice("DF") + "".join(rng.choice(PLATE_CHARS) for _ in range(5))
    return head + "".join(rng.choice(PLATE_CHARS) for _ in range(5))


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
                "plate_no": plate(rng) if vehicle and rng.random() < 0.9 else None,
                "vehicle_color": rng.choice(COLOURS) if kind in ("motor_vehicle", "non_motor_vehicle") else None,
                "model_version": rng.choice(["v3.1", "v3.2"]),
                "image_ref": f"imgstore://{dept.id}/{observed:%Y%m%d}/{det_id}.jpg",
            }
        )
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


def write(records: list[dict], source: Source, dept: Department, path: Path) -> Path:
    rows = [encode(r, source, dept) for r in records]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    if source.format == "csv":
        cols = list(dict.fromkeys(fm.source for fm in source.fields.values()))
        with tmp.open("w", encoding=source.encoding, newline="") as f:
            w = csv.writer(f, delimiter=source.delimiter)
            w.writerow(cols)
            for r in rows:
                w.writerow(["" if r.get(c) is None else r[c] for c in cols])
    elif source.format == "jsonl":
        with tmp.open("w", encoding=source.encoding) as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), tmp)
    tmp.replace(path)  # a landing file appears whole or not at all
    return path


def generate(dept: Department, out: Path, *, rows: int, seed: int, start: datetime) -> dict[str, Path]:
    """Write one cameras file and one detections file for `dept` into `out`; return their paths."""
    data = canonical(dept, rows=rows, seed=seed, start=start)
    tag = f"{start.astimezone(timezone.utc):%Y%m%dT%H%M%S}_s{seed}"
    paths = {}
    for entity, records in (("cameras", data.cameras), ("detections", data.detections)):
        source = dept.sources[entity]
        paths[entity] = write(records, source, dept, out / source.pattern.replace("*", tag))
    return paths
