from __future__ import annotations

import csv
import json
import re

import pyarrow.parquet as pq

from govlake.departments import generator, registry
from tests.conftest import SAMPLE_START

PLATE = re.compile(r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]([A-HJ-NP-Z0-9]{5}|[DF][A-HJ-NP-Z0-9]{5})$")


def test_canonical_records_are_deterministic_and_valid(settings):
    dept = registry.get(settings, "police")
    a = generator.canonical(dept, rows=300, seed=7, start=SAMPLE_START)
    b = generator.canonical(dept, rows=300, seed=7, start=SAMPLE_START)
    assert a == b
    assert all(re.fullmatch(r"\d{20}", c["camera_id"]) and c["camera_id"][10:13] == "132" for c in a.cameras)
    plates = [d["plate_no"] for d in a.detections if d["plate_no"]]
    assert plates and all(PLATE.match(p) for p in plates)
    assert {d["object_type"] for d in a.detections} <= {"person", "face", "motor_vehicle", "non_motor_vehicle", "thing", "scene"}


def test_each_department_gets_its_own_format(tmp_path, settings):
    out = {}
    for dept_id in ("police", "traffic", "transport"):
        dept = registry.get(settings, dept_id)
        out[dept_id] = generator.generate(dept, tmp_path / dept_id, rows=20, seed=1, start=SAMPLE_START)
    police = out["police"].paths["detections"].read_bytes()
    header = next(csv.reader(police.decode("gbk").splitlines()))
    assert header[:3] == ["抓拍编号", "设备编码", "抓拍时间"]
    assert "抓拍编号".encode("utf-8") not in police  # really GBK, not UTF-8
    first = json.loads(out["traffic"].paths["detections"].read_text().splitlines()[0])
    assert isinstance(first["captureTime"], int) and len(first["box"]) == 4
    table = pq.read_table(out["transport"].paths["detections"])
    assert "event_time_utc" in table.column_names and str(table.schema.field("event_time_utc").type).startswith("timestamp")
