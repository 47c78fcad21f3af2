"""The peer: the ingest a competent data team would write by hand instead of using govlake.

Benchmark reference for `bench/ingest.py` (see `bench/ingest_check.py`, which checks that this
job and govlake's ingest produce the same base rows and the same quarantine counts). It is
written plainly and imports nothing of govlake: the three feed shapes govlake's departments use
are hard-coded below (field names, code maps, units, time formats, timezones, coordinate
systems, as in catalog/departments/{police,traffic,transport}.yaml), as are the validity rules
and the base tables (schemas/base/*.yaml). The Great Expectations suites are read from the
project's JSON files, as a team would reuse its configs.

Per entity (cameras, then detections, then events) there is one job per feed shape:

1. read every department's files of that shape in one Spark read (CSV: GBK, header, malformed
   lines kept in `_corrupt_record`; JSON lines: a fixed schema, malformed lines kept; Parquet);
2. map to the unified columns with built-in Spark functions (code maps, scale, local time or
   epoch to UTC, GCJ-02 / BD-09 to WGS-84 rounded to 7 places);
3. give each row its rejection reason (first failing rule wins), and for detections and events
   flag cameras that are not in the cameras table (which already holds this run's cameras);
4. cache that frame; count; MERGE the rejected rows into the quarantine table (with their
   reason and the record as JSON text, or the malformed line), once per distinct record;
5. keep one row per natural key of the accepted rows, MERGE them into the base table;
6. run a Great Expectations checkpoint on the accepted rows.
"""
from __future__ import annotations

import csv
import json
import math
import time
from datetime import datetime
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession, functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

ENTITIES = ("cameras", "detections", "events")
SHANGHAI = "Asia/Shanghai"

# ---------------------------------------------------------------------------------------------
# Base tables (schemas/base/*.yaml): columns (name, Spark type, nullable), natural key. All are
# partitioned by department.

TABLES: dict[str, tuple[list[str], list[tuple[str, str, bool]]]] = {
    "cameras": (["camera_id"], [
        ("camera_id", "STRING", False), ("department", "STRING", False), ("name", "STRING", True),
        ("region_code", "STRING", False), ("longitude", "DOUBLE", True), ("latitude", "DOUBLE", True),
        ("source_crs", "STRING", True), ("status", "STRING", True), ("source_file", "STRING", True),
        ("batch_id", "STRING", True),
    ]),
    "detections": (["department", "detection_id"], [
        ("detection_id", "STRING", False), ("department", "STRING", False), ("camera_id", "STRING", False),
        ("observed_at", "TIMESTAMP", False), ("object_type", "STRING", False), ("confidence", "DOUBLE", True),
        ("bbox_x", "INT", True), ("bbox_y", "INT", True), ("bbox_w", "INT", True), ("bbox_h", "INT", True),
        ("plate_no", "STRING", True), ("vehicle_color", "STRING", True), ("model_version", "STRING", True),
        ("image_ref", "STRING", True), ("source_file", "STRING", True), ("batch_id", "STRING", True),
    ]),
    "events": (["department", "event_id"], [
        ("event_id", "STRING", False), ("department", "STRING", False), ("camera_id", "STRING", True),
        ("occurred_at", "TIMESTAMP", False), ("event_type", "STRING", False), ("category", "STRING", True),
        ("severity", "INT", True), ("note", "STRING", True), ("source_file", "STRING", True),
        ("batch_id", "STRING", True),
    ]),
}
QUARANTINE_KEY = ["department", "entity", "source_file", "row_hash"]
QUARANTINE = [
    ("batch_id", "STRING", False), ("department", "STRING", False), ("entity", "STRING", False),
    ("source_file", "STRING", False), ("reason", "STRING", False), ("raw", "STRING", True),
    ("row_hash", "STRING", False), ("quarantined_at", "TIMESTAMP", False),
]

# Validity rules' constants (schemas/base/*.yaml)
DEVICE_ID = "^[0-9]{20}$"
REGION_CODE = "^[0-9]{6}$"
STATUSES = ["online", "offline", "fault"]
OBJECT_TYPES = ["person", "face", "motor_vehicle", "non_motor_vehicle", "thing", "scene"]
EVENT_TYPES = ["alarm", "report"]
FUTURE_SLACK = "INTERVAL 5 MINUTES"

# ---------------------------------------------------------------------------------------------
# The three feed shapes: how each entity's files look and how each field maps.

SHAPES = {
    "police": {  # GBK CSV with Chinese headers, local time, GCJ-02
        "format": "csv", "encoding": "GBK", "crs": "GCJ-02",
        "cameras": "cameras_*.csv", "detections": "detections_*.csv", "events": "events_*.csv",
    },
    "traffic": {  # JSON lines, epoch milliseconds, WGS-84, boxes as arrays
        "format": "jsonl", "encoding": "UTF-8", "crs": "WGS-84",
        "cameras": "cameras_*.jsonl", "detections": "detections_*.jsonl", "events": "events_*.jsonl",
    },
    "transport": {  # Parquet, UTC timestamps, BD-09, confidence in percent; no events feed
        "format": "parquet", "encoding": None, "crs": "BD-09",
        "cameras": "cameras_*.parquet", "detections": "detections_*.parquet",
    },
}

# JSON lines read schema (traffic): every field as text, `box` as an array.
JSON_FIELDS = {
    "cameras": ["deviceId", "deviceName", "civilCode", "lon", "lat", "state"],
    "detections": ["recordId", "deviceId", "captureTime", "objType", "score", "box", "plateNo", "color", "algoVersion", "picUrl"],
    "events": ["eventId", "deviceId", "happenTime", "kind", "category", "level", "memo"],
}
JSON_ARRAYS = {"box"}

POLICE_STATUS = {"在线": "online", "离线": "offline", "故障": "fault"}
POLICE_OBJECT = {"行人": "person", "人脸": "face", "机动车": "motor_vehicle", "非机动车": "non_motor_vehicle", "物品": "thing", "场景": "scene"}
POLICE_COLOUR = {"白": "white", "黑": "black", "银": "silver", "红": "red", "蓝": "blue", "黄": "yellow", "绿": "green"}
POLICE_EVENT = {"告警": "alarm", "报警": "report"}
TRAFFIC_STATUS = {"1": "online", "0": "offline", "2": "fault"}
TRAFFIC_OBJECT = {"1": "person", "2": "face", "3": "motor_vehicle", "4": "non_motor_vehicle", "5": "thing", "6": "scene"}
TRAFFIC_EVENT = {"A": "alarm", "R": "report"}
TRANSPORT_OBJECT = {"PED": "person", "FACE": "face", "VEH": "motor_vehicle", "NMV": "non_motor_vehicle", "OBJ": "thing", "SCN": "scene"}


def code(raw: Column, values: dict[str, str]) -> Column:
    """A department code looked up in its map (None if unknown)."""
    pairs = [F.lit(x) for kv in values.items() for x in kv]
    return F.create_map(*pairs)[raw.cast("string")]


def local_time(raw: Column, fmt: str = "yyyy-MM-dd HH:mm:ss") -> Column:
    """Local Shanghai wall-clock text -> UTC timestamp (None if it does not parse)."""
    return F.to_utc_timestamp(F.try_to_timestamp(raw.cast("string"), F.lit(fmt)), SHANGHAI)


def mapping(shape: str, entity: str, col) -> tuple[dict[str, Column], dict[str, tuple[Column, Column]]]:
    """(unified column -> expression, coded column -> (raw value, mapped value)) of one entity of
    one feed shape. `col(name)` is the source field (a null literal if the files lack it)."""
    if shape == "police":
        if entity == "cameras":
            status = code(col("状态"), POLICE_STATUS)
            return ({"camera_id": col("设备编码"), "name": col("设备名称"), "region_code": col("行政区划代码"),
                     "longitude": col("经度"), "latitude": col("纬度"), "status": status},
                    {"status": (col("状态"), status)})
        if entity == "detections":
            kind, colour = code(col("目标类型"), POLICE_OBJECT), code(col("车身颜色"), POLICE_COLOUR)
            return ({"detection_id": col("抓拍编号"), "camera_id": col("设备编码"), "observed_at": local_time(col("抓拍时间")),
                     "object_type": kind, "confidence": col("置信度"), "bbox_x": col("框左"), "bbox_y": col("框上"),
                     "bbox_w": col("框宽"), "bbox_h": col("框高"), "plate_no": col("车牌号码"), "vehicle_color": colour,
                     "model_version": col("算法版本"), "image_ref": col("图片地址")},
                    {"object_type": (col("目标类型"), kind), "vehicle_color": (col("车身颜色"), colour)})
        kind = code(col("类型"), POLICE_EVENT)
        return ({"event_id": col("警情编号"), "camera_id": col("设备编码"), "occurred_at": local_time(col("发生时间")),
                 "event_type": kind, "category": col("类别"), "severity": col("等级"), "note": col("简要情况")},
                {"event_type": (col("类型"), kind)})
    if shape == "traffic":
        if entity == "cameras":
            status = code(col("state"), TRAFFIC_STATUS)
            return ({"camera_id": col("deviceId"), "name": col("deviceName"), "region_code": col("civilCode"),
                     "longitude": col("lon"), "latitude": col("lat"), "status": status},
                    {"status": (col("state"), status)})
        if entity == "detections":
            kind = code(col("objType"), TRAFFIC_OBJECT)
            box = col("box")
            return ({"detection_id": col("recordId"), "camera_id": col("deviceId"),
                     "observed_at": F.timestamp_millis(col("captureTime").cast("long")), "object_type": kind,
                     "confidence": col("score"), "bbox_x": box[0], "bbox_y": box[1], "bbox_w": box[2], "bbox_h": box[3],
                     "plate_no": col("plateNo"), "vehicle_color": col("color"), "model_version": col("algoVersion"),
                     "image_ref": col("picUrl")},
                    {"object_type": (col("objType"), kind)})
        kind = code(col("kind"), TRAFFIC_EVENT)
        return ({"event_id": col("eventId"), "camera_id": col("deviceId"),
                 "occurred_at": F.timestamp_millis(col("happenTime").cast("long")), "event_type": kind,
                 "category": col("category"), "severity": col("level"), "note": col("memo")},
                {"event_type": (col("kind"), kind)})
    if shape == "transport":
        if entity == "cameras":
            return ({"camera_id": col("cam_code"), "name": col("cam_name"), "region_code": col("district"),
                     "longitude": col("bd_lng"), "latitude": col("bd_lat"), "status": col("cam_status")}, {})
        if entity == "detections":
            kind = code(col("category"), TRANSPORT_OBJECT)
            return ({"detection_id": col("event_uuid"), "camera_id": col("cam_code"),
                     "observed_at": col("event_time_utc"),  # a UTC timestamp already
                     "object_type": kind, "confidence": F.round(col("conf_pct").cast("double") * F.lit(0.01), 6),
                     "bbox_x": col("box_left"), "bbox_y": col("box_top"), "bbox_w": col("box_width"),
                     "bbox_h": col("box_height"), "plate_no": col("plate"), "vehicle_color": col("colour"),
                     "model_version": col("model"), "image_ref": col("snapshot_uri")},
                    {"object_type": (col("category"), kind)})
    raise ValueError(f"no {entity} feed in the {shape} shape")


# ---------------------------------------------------------------------------------------------
# GCJ-02 / BD-09 -> WGS-84 (the usual published formulas; GCJ-02 has no closed inverse: two
# fixed-point iterations). Each step is materialised as a column so the next one refers to it by
# name instead of repeating its whole expression.

A = 6378245.0
EE = 0.00669342162296594323
X_PI = math.pi * 3000.0 / 180.0


def _t_lat(x: Column, y: Column) -> Column:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * F.sqrt(F.abs(x))
    r = r + (20.0 * F.sin(6.0 * x * math.pi) + 20.0 * F.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r = r + (20.0 * F.sin(y * math.pi) + 40.0 * F.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    return r + (160.0 * F.sin(y / 12.0 * math.pi) + 320.0 * F.sin(y * math.pi / 30.0)) * 2.0 / 3.0


def _t_lon(x: Column, y: Column) -> Column:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * F.sqrt(F.abs(x))
    r = r + (20.0 * F.sin(6.0 * x * math.pi) + 20.0 * F.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r = r + (20.0 * F.sin(x * math.pi) + 40.0 * F.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    return r + (150.0 * F.sin(x / 12.0 * math.pi) + 300.0 * F.sin(x / 30.0 * math.pi)) * 2.0 / 3.0


def _gcj_to_wgs(df: DataFrame, lon: str, lat: str, step: str) -> tuple[DataFrame, str, str]:
    g_lon, g_lat = F.col(lon), F.col(lat)
    w_lon, w_lat = lon, lat
    for i in range(2):
        x, y = F.col(w_lon), F.col(w_lat)
        dlat = _t_lat(x - 105.0, y - 35.0)
        dlon = _t_lon(x - 105.0, y - 35.0)
        radlat = y / 180.0 * math.pi
        magic = 1 - EE * F.sin(radlat) * F.sin(radlat)
        df = df.withColumn(f"_{step}{i}_magic", magic)
        magic = F.col(f"_{step}{i}_magic")
        sqrtmagic = F.sqrt(magic)
        dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sqrtmagic) * math.pi)
        dlon = (dlon * 180.0) / (A / sqrtmagic * F.cos(radlat) * math.pi)
        w_lon, w_lat = f"_{step}{i}_lon", f"_{step}{i}_lat"
        df = df.withColumns({w_lon: g_lon - dlon, w_lat: g_lat - dlat})
    return df, w_lon, w_lat


def to_wgs84(df: DataFrame, crs: str) -> DataFrame:
    """`longitude`, `latitude` (doubles in `crs`) replaced by WGS-84 rounded to 7 places."""
    if crs == "BD-09":
        x, y = F.col("longitude") - 0.0065, F.col("latitude") - 0.006
        z = F.sqrt(x * x + y * y) - 0.00002 * F.sin(y * X_PI)
        theta = F.atan2(y, x) - 0.000003 * F.cos(x * X_PI)
        df = df.withColumns({"_bd_z": z, "_bd_theta": theta})
        df = df.withColumns({"_gcj_lon": F.col("_bd_z") * F.cos("_bd_theta"), "_gcj_lat": F.col("_bd_z") * F.sin("_bd_theta")})
        df, lon, lat = _gcj_to_wgs(df, "_gcj_lon", "_gcj_lat", "w")
    elif crs == "GCJ-02":
        df, lon, lat = _gcj_to_wgs(df, "longitude", "latitude", "w")
    else:
        lon, lat = "longitude", "latitude"
    df = df.withColumns({"longitude": F.round(F.col(lon), 7), "latitude": F.round(F.col(lat), 7)})
    return df.drop(*[c for c in df.columns if c.startswith(("_bd_", "_gcj_", "_w"))])


# ---------------------------------------------------------------------------------------------
# Reading

def files_of(departments: list[tuple[str, str, Path]], shape: str, entity: str) -> list[Path]:
    pattern = SHAPES[shape][entity]
    return [p for _, s, landing in departments if s == shape
            for p in sorted(Path(landing).glob(pattern)) if p.is_file() and not p.name.startswith(".")]


def csv_header(path: Path, encoding: str) -> tuple[str, ...]:
    with path.open("rb") as f:
        first = f.readline().decode(encoding).lstrip("\ufeff")
    return tuple(next(csv.reader([first]))) if first.strip() else ()


def read_shape(spark: SparkSession, shape: str, entity: str, paths: list[Path]) -> DataFrame:
    """The raw records of one feed shape's files, all departments together; a line that cannot be
    parsed keeps its text in `_corrupt_record`; `_path` is the file each row came from."""
    fmt, encoding = SHAPES[shape]["format"], SHAPES[shape]["encoding"]
    if fmt == "csv":
        # every column as text; files are grouped by header so a column a file lacks (or adds) is
        # read by name, not by position (one read per distinct header: normally one)
        groups: dict[tuple[str, ...], list[str]] = {}
        for p in paths:
            groups.setdefault(csv_header(p, encoding), []).append(str(p))
        frames = []
        for header, group in groups.items():
            schema = StructType([StructField(c, StringType()) for c in header] + [StructField("_corrupt_record", StringType())])
            frames.append(spark.read.schema(schema).option("header", True).option("encoding", encoding)
                          .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "_corrupt_record")
                          .option("enforceSchema", False).csv(group)
                          .withColumn("_path", F.col("_metadata.file_path")).withColumn("source_file", F.col("_metadata.file_name")))
        df = frames[0]
        for other in frames[1:]:
            df = df.unionByName(other, allowMissingColumns=True)
        return df
    if fmt == "jsonl":
        schema = StructType([StructField(n, ArrayType(StringType()) if n in JSON_ARRAYS else StringType()) for n in JSON_FIELDS[entity]]
                            + [StructField("_corrupt_record", StringType())])
        df = (spark.read.schema(schema).option("encoding", encoding).option("mode", "PERMISSIVE")
              .option("columnNameOfCorruptRecord", "_corrupt_record").json([str(p) for p in paths]))
    else:
        df = spark.read.option("mergeSchema", True).parquet(*[str(p) for p in paths]).withColumn("_corrupt_record", F.lit(None).cast("string"))
    return df.withColumn("_path", F.col("_metadata.file_path")).withColumn("source_file", F.col("_metadata.file_name"))


def department_of(departments: list[tuple[str, str, Path]]) -> Column:
    """Each row's department, from the folder its file is in."""
    folders = {str(Path(landing).resolve()): dept for dept, _, landing in departments}
    path = F.url_decode(F.regexp_replace(F.regexp_replace(F.col("_path"), "^file:(//)?", ""), r"\+", "%2B"))
    folder = F.regexp_replace(path, "/[^/]*$", "")
    return F.create_map(*[F.lit(x) for kv in folders.items() for x in kv])[folder]


# ---------------------------------------------------------------------------------------------
# Validity rules: the first failing rule gives the row's reason (None: accepted)

def reason(entity: str, run_time: datetime) -> Column:
    pre = F.col("_pre_reason")
    code_reason = F.col("_code_reason")
    future = F.lit(run_time).cast("timestamp") + F.expr(FUTURE_SLACK)
    if entity == "cameras":
        lon, lat = F.col("longitude"), F.col("latitude")
        return F.coalesce(
            pre,
            F.when(F.col("camera_id").isNull(), F.lit("MISSING_KEY")),
            F.when(~F.col("camera_id").rlike(DEVICE_ID), F.lit("INVALID_DEVICE_ID")),
            F.when(~F.coalesce(F.col("region_code"), F.lit("")).rlike(REGION_CODE), F.lit("INVALID_REGION_CODE")),
            code_reason,
            F.when(~lon.between(73.0, 136.0) | ~lat.between(3.0, 54.0) | lon.isNull() | lat.isNull(), F.lit("OUT_OF_RANGE_POSITION")),
            F.when(~F.col("status").isin(*STATUSES), F.lit("UNKNOWN_CODE:status")),
        )
    if entity == "detections":
        return F.coalesce(
            pre,
            F.when(F.col("detection_id").isNull() | (F.trim("detection_id") == ""), F.lit("MISSING_KEY")),
            F.when(F.col("camera_id").isNull(), F.lit("MISSING_KEY")),
            F.when(~F.col("camera_id").rlike(DEVICE_ID), F.lit("INVALID_DEVICE_ID")),
            F.when(F.col("observed_at").isNull(), F.lit("INVALID_TIME")),
            F.when(F.col("observed_at") > future, F.lit("FUTURE_TIME")),
            code_reason,
            F.when(~F.col("object_type").isin(*OBJECT_TYPES), F.lit("UNKNOWN_CODE:object_type")),
            F.when(~F.coalesce(F.col("confidence"), F.lit(-1.0)).between(0.0, 1.0), F.lit("OUT_OF_RANGE_CONFIDENCE")),
        )
    camera = F.col("camera_id")
    return F.coalesce(
        pre,
        F.when(F.col("event_id").isNull() | (F.trim("event_id") == ""), F.lit("MISSING_KEY")),
        F.when(camera.isNotNull() & ~camera.rlike(DEVICE_ID), F.lit("INVALID_DEVICE_ID")),
        F.when(F.col("occurred_at").isNull(), F.lit("INVALID_TIME")),
        F.when(F.col("occurred_at") > future, F.lit("FUTURE_TIME")),
        code_reason,
        F.when(~F.col("event_type").isin(*EVENT_TYPES), F.lit("UNKNOWN_CODE:event_type")),
        F.when(F.col("severity").isNotNull() & ~F.col("severity").between(1, 4), F.lit("OUT_OF_RANGE_SEVERITY")),
    )


def checked_rows(spark: SparkSession, departments, shape: str, entity: str, paths: list[Path], run_time: datetime,
                 known_cameras: DataFrame | None) -> DataFrame:
    """Every row of one feed shape's files: the unified columns, `_reason` and, for rejected
    rows, `_raw` (the record as JSON text, or the malformed line)."""
    raw = read_shape(spark, shape, entity, paths)
    source_cols = [f for f in raw.schema.fields if f.name not in ("_corrupt_record", "_path", "source_file")]
    present = {f.name for f in source_cols}
    col = lambda name: F.col(f"`{name}`") if name in present else F.lit(None).cast("string")  # noqa: E731
    exprs, coded = mapping(shape, entity, col)
    key, columns = TABLES[entity]
    types = dict((n, t) for n, t, _ in columns)
    # text a department's encoding could not decode (U+FFFD) or that is not valid UTF-8
    texts = [F.col("_corrupt_record")] + [F.col(f"`{f.name}`") for f in source_cols if f.dataType == StringType()]
    texts += [F.concat_ws("\u0001", F.col(f"`{f.name}`")) for f in source_cols if f.dataType == ArrayType(StringType())]
    bad_text = [F.coalesce(~F.is_valid_utf8(t) | (F.instr(t, "\ufffd") > 0), F.lit(False)) for t in texts]
    any_bad = bad_text[0]
    for b in bad_text[1:]:
        any_bad = any_bad | b
    unknown = [F.when(r.isNotNull() & m.isNull(), F.lit(f"UNKNOWN_CODE:{name}")) for name, (r, m) in coded.items()]
    df = raw.select(
        *[exprs[n].alias(n) if n in exprs else F.lit(None).alias(n) for n, _, _ in columns if n not in ("department", "source_file", "batch_id", "source_crs")],
        department_of(departments).alias("department"),
        F.col("source_file"),
        F.coalesce(F.when(any_bad, F.lit("INVALID_ENCODING")), F.when(F.col("_corrupt_record").isNotNull(), F.lit("MALFORMED_LINE"))).alias("_pre_reason"),
        F.coalesce(*unknown, F.lit(None).cast("string")).alias("_code_reason"),
        F.coalesce(F.col("_corrupt_record"), F.to_json(F.struct(*[F.col(f"`{f.name}`") for f in source_cols]))).alias("_record"),
    )
    if entity == "cameras":
        df = to_wgs84(df.withColumns({"longitude": F.col("longitude").cast("double"), "latitude": F.col("latitude").cast("double")}),
                      SHAPES[shape]["crs"]).withColumn("source_crs", F.lit(SHAPES[shape]["crs"]))
    df = df.withColumns({n: F.col(n).cast(t) for n, t in types.items() if n in df.columns})
    df = df.withColumn("batch_id", F.concat(F.lit("peer-"), F.col("department")))
    df = df.withColumn("_reason", reason(entity, run_time))
    if known_cameras is not None:  # a camera the cameras table does not know (rows naming none pass)
        known = known_cameras.select(F.col("camera_id").alias("_known")).distinct()
        df = df.join(F.broadcast(known), F.col("camera_id") == F.col("_known"), "left")
        unknown_camera = F.when(F.col("camera_id").isNotNull() & F.col("_known").isNull(), F.lit("UNKNOWN_CAMERA"))
        df = df.withColumn("_reason", F.coalesce(F.col("_reason"), unknown_camera)).drop("_known")
    raw_text = F.when(F.col("_reason").isNotNull(), F.make_valid_utf8(F.col("_record")))
    return df.withColumn("_raw", raw_text).drop("_record", "_pre_reason", "_code_reason")


# ---------------------------------------------------------------------------------------------
# Tables and quality checks

def create_table(spark: SparkSession, path: Path, columns: list[tuple[str, str, bool]]) -> None:
    from delta.tables import DeltaTable

    builder = DeltaTable.createIfNotExists(spark).location(str(path))
    for name, kind, nullable in columns:
        builder = builder.addColumn(name, kind, nullable=nullable)
    builder.partitionedBy("department").execute()


def merge(spark: SparkSession, path: Path, rows: DataFrame, key: list[str], update: bool = True) -> None:
    from delta.tables import DeltaTable

    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in key)
    m = DeltaTable.forPath(spark, str(path)).alias("t").merge(rows.alias("s"), on)
    if update:
        m = m.whenMatchedUpdateAll()
    m.whenNotMatchedInsertAll().execute()


class Checkpoints:
    """One Great Expectations checkpoint per entity and job, on the job's accepted rows."""

    def __init__(self, expectations_dir: Path):
        import great_expectations as gx

        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        asset = self.context.data_sources.add_spark(name="peer", persist=False).add_dataframe_asset(name="accepted")
        self.batch = asset.add_batch_definition_whole_dataframe("whole")
        self.dir = Path(expectations_dir)
        self.suites: dict[str, object] = {}

    def _suite(self, entity: str):
        if entity not in self.suites:
            from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

            spec = json.loads((self.dir / f"base.{entity}.json").read_text())
            suite = self.gx.ExpectationSuite(name=spec["name"])
            for e in spec["expectations"]:
                suite.add_expectation_configuration(ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta", {})))
            self.suites[entity] = self.context.suites.add(suite)
        return self.suites[entity]

    def run(self, entity: str, shape: str, rows: DataFrame) -> dict:
        name = f"peer-{entity}-{shape}"
        validation = self.context.validation_definitions.add(self.gx.ValidationDefinition(name=name, data=self.batch, suite=self._suite(entity)))
        checkpoint = self.context.checkpoints.add(self.gx.Checkpoint(
            name=name, validation_definitions=[validation], result_format={"result_format": "BASIC", "partial_unexpected_count": 0}))
        result = checkpoint.run(batch_parameters={"dataframe": rows})
        outcomes = [r for v in result.run_results.values() for r in v.results]
        failed = [r.expectation_config for r in outcomes if not r.success]
        critical = [c for c in failed if (c.meta or {}).get("critical")]
        return {"success": bool(result.success), "critical_success": not critical,
                "failed": [f"{c.type}({c.kwargs.get('column')})" for c in failed]}


# ---------------------------------------------------------------------------------------------

def run(spark: SparkSession, departments: list[tuple[str, str, Path]], warehouse: Path, run_time: datetime,
        expectations_dir: Path) -> dict:
    """Ingest every department's landing files (read only, never moved) into the Delta tables
    under `warehouse`: cameras of every shape first, then detections, then events."""
    warehouse = Path(warehouse)
    for entity in ENTITIES:
        create_table(spark, warehouse / entity, TABLES[entity][1])
    create_table(spark, warehouse / "quarantine", QUARANTINE)
    t = time.perf_counter()
    checkpoints = Checkpoints(expectations_dir)
    out_setup = time.perf_counter() - t
    out: dict = {"entities": {}, "gx": {}, "seconds": {"gx_context": round(out_setup, 2)}}
    known_cameras = None
    for entity in ENTITIES:
        key, columns = TABLES[entity]
        names = [n for n, _, _ in columns]
        if entity != "cameras" and known_cameras is None:  # read once, after this run's cameras are in
            known_cameras = spark.read.format("delta").load(str(warehouse / "cameras")).select("camera_id").localCheckpoint()
        totals = out["entities"].setdefault(entity, {"read": 0, "accepted": 0, "quarantined": 0, "duplicates": 0, "reasons": {}})
        for shape in SHAPES:
            if entity not in SHAPES[shape]:
                continue
            paths = files_of(departments, shape, entity)
            if not paths:
                continue
            steps: dict[str, float] = {}
            t = time.perf_counter()
            checked = checked_rows(spark, departments, shape, entity, paths, run_time, known_cameras).persist()
            try:
                by_reason = {r["_reason"]: r["count"] for r in checked.groupBy("_reason").count().collect()}
                steps["read_check"] = time.perf_counter() - t
                read = sum(by_reason.values())
                bad = checked.where(F.col("_reason").isNotNull()).select(
                    "batch_id", "department", F.lit(entity).alias("entity"), "source_file", F.col("_reason").alias("reason"),
                    F.col("_raw").alias("raw"), F.sha2(F.concat_ws("\u0001", "source_file", "_raw"), 256).alias("row_hash"),
                    F.lit(run_time).cast("timestamp").alias("quarantined_at"),
                ).dropDuplicates(QUARANTINE_KEY)
                quarantined = read - by_reason.get(None, 0)
                t = time.perf_counter()
                if quarantined:
                    merge(spark, warehouse / "quarantine", bad, QUARANTINE_KEY, update=False)
                steps["quarantine"] = time.perf_counter() - t
                t = time.perf_counter()
                accepted = checked.where(F.col("_reason").isNull()).select(*names).dropDuplicates(key).persist()
                try:
                    n_accepted = accepted.count()
                    merge(spark, warehouse / entity, accepted, key)
                    steps["merge"] = time.perf_counter() - t
                    t = time.perf_counter()
                    out["gx"][f"{entity}/{shape}"] = checkpoints.run(entity, shape, accepted)
                    steps["gx"] = time.perf_counter() - t
                finally:
                    accepted.unpersist()
            finally:
                checked.unpersist()
            out["seconds"][f"{entity}/{shape}"] = {k: round(v, 2) for k, v in steps.items()}
            totals["read"] += read
            totals["accepted"] += n_accepted
            totals["quarantined"] += quarantined
            totals["duplicates"] += read - quarantined - n_accepted
            for r, n in by_reason.items():
                if r is not None:
                    totals["reasons"][r] = totals["reasons"].get(r, 0) + n
    return out
