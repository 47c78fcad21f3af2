"""Landing files -> harmonised base tier (the first stage of the main job).

A department's files are read in its own format, mapped through its registry entry to the
unified schema (names, code values, units, UTC, WGS-84), validated, and MERGEd into the base
Delta tables by natural key. Rows that fail validation go whole to `base.quarantine` with a
reason code. Every step but the orchestration (`ingest_departments`) is a pure DataFrame
function.

Many departments are ingested in one pass: each keeps its own batch (its own batch id, counts,
quality result and batch-log rows), but their mapped frames are unioned so that one run makes a
fixed number of Delta commits (cameras, detections, quarantine, quality results, batch log,
manifest) however many departments sent files. A department whose mapping cannot be built is
reported and left out; if the shared pass fails at run time, each department is retried on its
own, so one broken feed never blocks the others.
"""
from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import shutil
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from functools import reduce
from pathlib import Path

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession, functions as F
from pyspark.sql.types import StructType

from govlake.core import coordinates, times
from govlake.core.errors import ConfigError, GovlakeError
from govlake.core.settings import Settings
from govlake.departments.registry import Department, FieldMap, Source
from govlake.domain import policies, quality, schemas
from govlake.pii import classify, proposals
from govlake.pipeline import lineage_capture, lines
from govlake.platform import lake

OBJECT_TYPES = ("person", "face", "motor_vehicle", "non_motor_vehicle", "thing", "scene")
CAMERA_STATUSES = ("online", "offline", "fault")
# China's bounding box (WGS-84), generous: positions outside are not plausible camera sites.
LON_RANGE, LAT_RANGE = (73.0, 136.0), (3.0, 54.0)
CORRUPT = "_corrupt_record"
HELPERS = {CORRUPT, "_source_file", "_source_uri", "_department", "_batch", "_row_index"}  # columns added by the reader, not sent by departments
MAX_SHAPES_PER_PASS = 8  # distinct feed shapes mapped in one Spark plan (plan analysis grows with it)
REPLACEMENT_CHAR = "\ufffd"
RAW_FIELD = "_raw:"  # prefix of the source fields carried past mapping until `with_raw`
RAW_LINE = "_raw_line"  # the text of a line that could not be parsed
ENTITIES = ("cameras", "detections", "events")  # cameras first: the others are checked against known cameras
EVENT_TYPES = ("alarm", "report")

log = logging.getLogger("govlake.ingest")


@dataclass
class EntityResult:
    entity: str
    files: list[str]
    read: int
    accepted: int
    quarantined: int
    duplicates: int
    missing_fields: list[str] = field(default_factory=list)
    extra_fields: list[str] = field(default_factory=list)
    rejected_files: dict[str, str] = field(default_factory=dict)
    quality_status: str = "not_run"
    quality_failures: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.read == self.accepted + self.quarantined + self.duplicates and self.duplicates >= 0


@dataclass
class BatchResult:
    batch_id: str
    department: str
    entities: list[EntityResult]

    @property
    def totals(self) -> dict:
        keys = ("read", "accepted", "quarantined", "duplicates")
        return {k: sum(getattr(e, k) for e in self.entities) for k in keys}

    def as_dict(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "department": self.department,
            "files": sorted(f for e in self.entities for f in e.files),
            **self.totals,
            "rejected_files": {k: v for e in self.entities for k, v in e.rejected_files.items()},
            "schema_drift": {e.entity: {"missing": e.missing_fields, "extra": e.extra_fields} for e in self.entities if e.missing_fields or e.extra_fields},
            "balanced": all(e.balanced for e in self.entities),
            "entities": [asdict(e) | {"balanced": e.balanced} for e in self.entities],
        }


def sql_literal(value: str | int | float) -> str:
    """`value` as a Spark SQL literal (strings quoted, backslashes and quotes escaped)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(f"no SQL literal for {type(value).__name__}")
    if isinstance(value, str):
        quote = lambda t: "'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'"  # noqa: E731
        if "${" in value:  # the SQL text would substitute a variable there: `$` and `{` go in separate pieces
            return "concat(" + ", ".join(quote(t) for t in re.split(r"(?<=\$)(?=\{)", value)) + ")"
        return quote(value)
    return repr(value)


def sql_ident(name: str) -> str:
    """`name` as a quoted Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def literal_map(pairs: dict) -> Column:
    """A map literal, built by one expression parse instead of a JVM call per element (large maps
    of file paths or batches would otherwise cost thousands of round trips to plan)."""
    return F.expr("map(" + ", ".join(f"{sql_literal(k)}, {sql_literal(v)}" for k, v in pairs.items()) + ")")


def literal_array(values: list) -> Column:
    return F.expr("array(" + ", ".join(map(sql_literal, values)) + ")")


def in_literals(column: str, values) -> Column:
    """`column IN (values)` as one parsed expression (Spark turns a long list into a hash set)."""
    return F.expr(f"{sql_ident(column)} IN (" + ", ".join(map(sql_literal, values)) + ")")


def landing_files(source: Source, landing: Path) -> list[Path]:
    return sorted(p for p in landing.glob(source.pattern) if p.is_file() and not p.name.startswith("."))


def _csv_header(path: Path, source: Source) -> list[str]:
    with path.open("rb") as f:
        first = f.readline().decode(source.encoding).lstrip("\ufeff")
    return next(csv.reader([first], delimiter=source.delimiter)) if first.strip() else []


def digest_and_clean(path: Path, source: Source) -> tuple[str, bool]:
    """(hex SHA-256 of the file, whether its text is clean), in one read. Clean: a CSV or JSON
    lines file that decodes strictly in the source's encoding and holds no U+FFFD, so none of its
    rows can be INVALID_ENCODING and the per-row byte checks are skipped for it. A Parquet file
    is never called clean (its strings are checked row by row)."""
    import codecs

    h = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(source.encoding)("strict") if source.format in ("csv", "jsonl") else None
    clean = decoder is not None
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            if clean:
                try:
                    clean = REPLACEMENT_CHAR not in decoder.decode(chunk)
                except UnicodeDecodeError:
                    clean = False
    if clean:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            clean = False
    return h.hexdigest(), clean


@dataclass(frozen=True)
class LandingFile:
    """One landing file, as planning found it: read once for these facts (content hash and clean
    text in one pass, then the header, Parquet footer or JSON sample) and passed down, so no later
    step opens the file again to learn them."""

    path: Path
    entity: str
    content_hash: str
    size: int
    clean: bool = False                   # text that decodes strictly and holds no U+FFFD
    fields: tuple[str, ...] = ()          # source fields present: CSV header, Parquet schema, keys of the first JSON records
    arrays: frozenset[str] = frozenset()  # JSON lines: sampled fields that held an array
    reject: str | None = None             # why the whole file cannot be ingested (kept aside, reported), or None

    @property
    def name(self) -> str:
        return self.path.name


def inspect(path: Path, entity: str, source: Source, content_hash: str, clean: bool, sample_lines: int = 50) -> LandingFile:
    """The `LandingFile` of a file whose hash and cleanliness `digest_and_clean` found."""
    seen = LandingFile(path, entity, content_hash, path.stat().st_size, clean)
    if seen.size == 0:
        return replace(seen, reject="EMPTY_FILE")
    if source.format == "parquet":
        import pyarrow.parquet as pq

        try:
            names = pq.ParquetFile(path).schema_arrow.names
        except Exception as exc:  # pyarrow raises several types for a corrupt footer
            return replace(seen, reject=f"UNREADABLE_PARQUET: {str(exc)[:200]}")
        return replace(seen, fields=tuple(names))
    if source.format == "csv":
        try:
            header = _csv_header(path, source)
        except UnicodeDecodeError:
            return replace(seen, reject=f"HEADER_NOT_{source.encoding.upper()}")
        mapped = {fm.source for fm in source.fields.values()}
        if not mapped & set(header):
            return replace(seen, fields=tuple(header), reject="HEADER_MISMATCH: none of the mapped fields is in the header")
        return replace(seen, fields=tuple(header))
    sampled = _json_sample([path], source, sample_lines)
    return replace(seen, fields=tuple(sampled), arrays=frozenset(k for k, is_array in sampled.items() if is_array))


def read_source(spark: SparkSession, source: Source, files: list[LandingFile]) -> DataFrame:
    """Raw records as the department sent them, plus the file each came from and, for a line
    that could not be parsed, its text in `_corrupt_record`."""
    paths = [str(f.path) for f in files]
    if source.format == "csv":
        from pyspark.sql.types import StringType, StructField

        by_header: dict[tuple[str, ...], list[str]] = {}
        for f in files:
            by_header.setdefault(f.fields, []).append(str(f.path))
        frames = []
        for header, group in by_header.items():
            schema = StructType([StructField(c, StringType()) for c in header] + [StructField(CORRUPT, StringType())])
            frames.append(
                spark.read.option("header", True)
                .option("encoding", source.encoding)
                .option("sep", source.delimiter)
                .option("mode", "PERMISSIVE")
                .option("columnNameOfCorruptRecord", CORRUPT)
                .option("enforceSchema", False)
                .schema(schema)
                .csv(group)
                .withColumn("_source_file", F.col("_metadata.file_name"))
                .withColumn("_source_uri", F.col("_metadata.file_path"))
            )
        df = frames[0]
        for other in frames[1:]:
            df = df.unionByName(other, allowMissingColumns=True)
        return df
    if source.format == "jsonl":
        df = (
            spark.read.option("encoding", source.encoding)
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT)
            .schema(json_schema(files, source))
            .json(paths)
        )
    else:
        df = (
            spark.read.option("mergeSchema", True).parquet(*paths).withColumn(CORRUPT, F.lit(None).cast("string"))
            .withColumn("_row_index", F.col("_metadata.row_index"))
        )
    return df.withColumn("_source_file", F.col("_metadata.file_name")).withColumn("_source_uri", F.col("_metadata.file_path"))


def json_schema(files: list[LandingFile], source: Source) -> StructType:
    """The read schema of JSON lines files, without a pass over the data: every field is text
    (a nested value keeps its JSON text) except arrays. Fields are the mapped ones plus those in
    the first records of each file sampled by `inspect` (as in the schema-drift report), so unmapped
    fields still reach quarantined rows' `_raw`. A field is an array if the sample shows one, or
    if the mapping indexes into it and the sample does not show it at all; a mapping that indexes
    into a field the sample shows as a plain value fails as a mapping error, as it should."""
    from pyspark.sql.types import ArrayType, StringType, StructField

    sampled: dict[str, bool] = {}
    for f in files:
        for name in f.fields:
            sampled[name] = sampled.get(name, False) or name in f.arrays
    indexed = {fm.source for fm in source.fields.values() if fm.index is not None}
    names = dict.fromkeys([fm.source for fm in source.fields.values()] + list(sampled))
    names.pop(CORRUPT, None)
    array = lambda n: sampled[n] if n in sampled else n in indexed  # noqa: E731
    return StructType([StructField(n, ArrayType(StringType()) if array(n) else StringType()) for n in names]
                      + [StructField(CORRUPT, StringType())])


def _json_sample(paths: list[Path], source: Source, sample_lines: int) -> dict[str, bool]:
    """Field -> whether it held an array, over the first `sample_lines` records of each file."""
    fields: dict[str, bool] = {}
    for p in paths:
        with p.open("rb") as f:
            for _, line in zip(range(sample_lines), f):
                try:
                    record = json.loads(line.decode(source.encoding, errors="replace"))
                except ValueError:
                    continue
                if isinstance(record, dict):
                    for k, v in record.items():
                        fields[k] = fields.get(k, False) or isinstance(v, list)
    return fields


def _plain_path() -> Column:
    """The scanned file's absolute local path from `_source_uri` (Spark gives a URI: `file:`
    prefix, %-escapes; a literal `+` stays `+`, so it is protected from form decoding)."""
    uri = F.regexp_replace(F.regexp_replace(F.col("_source_uri"), "^file:", ""), r"\+", "%2B")
    return F.url_decode(uri)


def file_uris(spark: SparkSession, paths: list[str]) -> dict[str, str]:
    """Local path -> the URI Spark reports for it in `_metadata.file_path` (Hadoop's qualified
    path), so a row's file is found without decoding its URI row by row."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    out = {}
    for p in paths:
        hp = jvm.org.apache.hadoop.fs.Path(p)
        out[p] = hp.getFileSystem(conf).makeQualified(hp).toUri().toString()
    return out


def _field_expr(raw: DataFrame, name: str, fm: FieldMap, dept: Department) -> tuple[Column, Column | None]:
    """(unified value, raw value) for one mapped field; the raw value is kept for code checks."""
    c = F.col(f"`{fm.source}`")
    if fm.index is not None:
        c = c.getItem(fm.index)
    raw_value = c
    if fm.values:
        mapping = literal_map(fm.values)
        c = F.element_at(mapping, c.cast("string"))
    if fm.scale is not None:
        c = F.round(c.cast("double") * F.lit(fm.scale), 6)
    if fm.time_format:
        c = F.to_utc_timestamp(F.try_to_timestamp(c.cast("string"), F.lit(fm.time_format)), dept.timezone)
    elif fm.epoch:
        n = c.cast("long")
        c = F.timestamp_millis(n) if fm.epoch == "ms" else F.timestamp_seconds(n)
    elif name in ("observed_at", "occurred_at"):
        tz = fm.timezone or dept.timezone
        ts = c if dict(raw.dtypes).get(fm.source, "").startswith("timestamp") else F.try_to_timestamp(c.cast("string"))
        c = ts if tz == "UTC" else F.to_utc_timestamp(ts, tz)
    return c, (raw_value if fm.values else None)


@dataclass
class Drift:
    """Source fields the mapping expects but the files lack, and fields the mapping does not know."""

    missing: list[str]
    extra: list[str]


def drift_of(columns: list[str], source: Source) -> Drift:
    present = set(columns) - HELPERS
    mapped = {fm.source for fm in source.fields.values()}
    return Drift(sorted(mapped - present), sorted(present - mapped))


def drift_of_files(files: list[LandingFile], source: Source) -> Drift:
    """The schema drift of a batch's readable files of one entity (none without files)."""
    if not files:
        return Drift([], [])
    return drift_of(list(dict.fromkeys(c for f in files for c in f.fields)), source)


def to_unified(
    raw: DataFrame, source: Source, dept: Department, schema: schemas.TableSchema, check_encoding: bool = True
) -> DataFrame:
    """Map raw records to the unified schema, with `_pre_reason` / `_code_reason` for validation
    and the record as read (each field as `RAW_FIELD` + its name, a malformed line as `RAW_LINE`)
    for `with_raw`.

    `raw` may hold several departments that share this feed shape (same source mapping, timezone
    and coordinate system): their rows then carry `_department` and `_batch` columns, which become
    `department` and `batch_id`; otherwise the department is `dept` and the batch is unset.
    `check_encoding=False`: the files are known to be clean text (`digest_and_clean`), so the
    per-row byte checks are left out."""
    present = set(raw.columns) - HELPERS
    exprs: dict[str, Column] = {}
    unknown_code: list[Column] = []
    for name, fm in source.fields.items():
        if fm.source not in present:
            exprs[name] = F.lit(None)
            continue
        value, raw_value = _field_expr(raw, name, fm, dept)
        exprs[name] = value
        if raw_value is not None:
            unknown_code.append(F.when(raw_value.isNotNull() & value.isNull(), F.lit(f"UNKNOWN_CODE:{name}")))
    exprs["department"] = F.col("_department") if "_department" in raw.columns else F.lit(dept.id)
    exprs["batch_id"] = F.col("_batch") if "_batch" in raw.columns else F.lit(None)
    raw_cols = [c for c in raw.columns if c not in HELPERS]
    raw_schema = raw.schema
    if "longitude" in exprs:
        raw, wlon, wlat = coordinates.to_wgs84_staged(raw, dept.coordinate_system, exprs["longitude"], exprs["latitude"], "_crs")
        exprs["longitude"], exprs["latitude"] = F.round(wlon, 7), F.round(wlat, 7)
        exprs["source_crs"] = F.lit(dept.coordinate_system)
    types = {c.name: lake.SPARK_TYPES[c.type] for c in schema.columns}
    # Bytes invalid in the declared encoding either decode to U+FFFD (CSV) or stay as invalid
    # UTF-8 in the malformed line's text (JSON); either way the row is INVALID_ENCODING. Checked
    # field by field: the whole record is turned into text only for rejected rows (`with_raw`).
    texts = [sql_ident(CORRUPT)] + [sql_ident(f.name) for f in raw_schema.fields if f.name in raw_cols and f.dataType.simpleString() == "string"]
    texts += [f"concat_ws('\\u0001', {sql_ident(f.name)})" for f in raw_schema.fields
              if f.name in raw_cols and f.dataType.simpleString() == "array<string>"]
    bad_bytes = " OR ".join(f"coalesce((NOT is_valid_utf8({t})) OR instr({t}, '\\uFFFD') > 0, false)" for t in texts)
    pre_reason = F.coalesce(
        F.expr(f"CASE WHEN {bad_bytes} THEN 'INVALID_ENCODING' END") if check_encoding else F.lit(None).cast("string"),
        F.when(F.col(CORRUPT).isNotNull(), F.lit("MALFORMED_LINE")),
    )
    columns = [
        *[(exprs.get(n, F.lit(None))).cast(types[n]).alias(n) for n in schema.names() if n != "source_file"],
        F.col("_source_file").alias("source_file"),
        # Parquet: the 1-based row; CSV / JSON lines: looked up for rejected rows only (lines.py)
        ((F.col("_row_index") + 1) if "_row_index" in raw.columns else F.lit(None)).cast("long").alias("_line"),
        pre_reason.alias("_pre_reason"),
        F.coalesce(*unknown_code, F.lit(None).cast("string")).alias("_code_reason"),
        F.col(CORRUPT).alias(RAW_LINE),
        *[F.col(f"`{c}`").alias(RAW_FIELD + c) for c in raw_cols],
    ]
    try:
        out = raw.select(*columns)
    except AnalysisException as exc:
        raise _mapping_error(raw, exprs, source, dept, exc) from exc
    return out


def _mapping_error(raw: DataFrame, exprs: dict[str, Column], source: Source, dept: Department, exc: Exception) -> ConfigError:
    """Name the first mapped field whose expression does not fit the data (analysis only, no job)."""
    for name, expr in exprs.items():
        try:
            raw.select(expr)
        except AnalysisException as field_exc:
            fm = source.fields.get(name)
            where = f"the mapping of `{name}`" + (f" (source field `{fm.source}`)" if fm else "")
            return ConfigError(f"department `{dept.id}`: {where} does not fit its files: "
                               f"{str(field_exc).splitlines()[0][:300]}; fix catalog/departments/{dept.id}.yaml")
    return ConfigError(f"department `{dept.id}`: its mapping does not fit its files: {str(exc).splitlines()[0][:300]}")


def camera_reasons(df: DataFrame) -> Column:
    return F.coalesce(
        F.col("_pre_reason"),
        F.when(F.col("camera_id").isNull(), F.lit("MISSING_KEY")),
        F.when(~F.col("camera_id").rlike(r"^\d{20}$"), F.lit("INVALID_DEVICE_ID")),
        F.when(~F.coalesce(F.col("region_code"), F.lit("")).rlike(r"^\d{6}$"), F.lit("INVALID_REGION_CODE")),
        F.col("_code_reason"),
        F.when(
            ~F.col("longitude").between(*LON_RANGE) | ~F.col("latitude").between(*LAT_RANGE)
            | F.col("longitude").isNull() | F.col("latitude").isNull(),
            F.lit("OUT_OF_RANGE_POSITION"),
        ),
        F.when(~F.col("status").isin(*CAMERA_STATUSES), F.lit("UNKNOWN_CODE:status")),
    )


def detection_reasons(df: DataFrame, run_time: datetime) -> Column:
    return F.coalesce(
        F.col("_pre_reason"),
        F.when(F.col("detection_id").isNull() | (F.trim(F.col("detection_id")) == ""), F.lit("MISSING_KEY")),
        F.when(F.col("camera_id").isNull(), F.lit("MISSING_KEY")),
        F.when(~F.col("camera_id").rlike(r"^\d{20}$"), F.lit("INVALID_DEVICE_ID")),
        F.when(F.col("observed_at").isNull(), F.lit("INVALID_TIME")),
        F.when(F.col("observed_at") > F.lit(run_time).cast("timestamp") + F.expr("INTERVAL 5 MINUTES"), F.lit("FUTURE_TIME")),
        F.col("_code_reason"),
        F.when(~F.col("object_type").isin(*OBJECT_TYPES), F.lit("UNKNOWN_CODE:object_type")),
        F.when(~F.coalesce(F.col("confidence"), F.lit(-1.0)).between(0.0, 1.0), F.lit("OUT_OF_RANGE_CONFIDENCE")),
    )


def event_reasons(df: DataFrame, run_time: datetime) -> Column:
    camera = F.col("camera_id")
    return F.coalesce(
        F.col("_pre_reason"),
        F.when(F.col("event_id").isNull() | (F.trim(F.col("event_id")) == ""), F.lit("MISSING_KEY")),
        F.when(camera.isNotNull() & ~camera.rlike(r"^\d{20}$"), F.lit("INVALID_DEVICE_ID")),
        F.when(F.col("occurred_at").isNull(), F.lit("INVALID_TIME")),
        F.when(F.col("occurred_at") > F.lit(run_time).cast("timestamp") + F.expr("INTERVAL 5 MINUTES"), F.lit("FUTURE_TIME")),
        F.col("_code_reason"),
        F.when(~F.col("event_type").isin(*EVENT_TYPES), F.lit("UNKNOWN_CODE:event_type")),
        F.when(F.col("severity").isNotNull() & ~F.col("severity").between(1, 4), F.lit("OUT_OF_RANGE_SEVERITY")),
    )


def known_cameras_only(rows: DataFrame, cameras: "DataFrame | frozenset[str]") -> DataFrame:
    """Flag rows naming a camera the base tier does not know (`UNKNOWN_CAMERA`); rows that
    name no camera (events reported by phone) pass. `cameras`: the known ids as a set (checked
    in the row's own projection, a hash-set lookup) or, past CAMERA_SET_LIMIT, as a frame
    (checked by a broadcast join)."""
    if isinstance(cameras, frozenset):
        unknown = F.col("camera_id").isNotNull() & ~in_literals("camera_id", sorted(cameras)) if cameras else F.col("camera_id").isNotNull()
        return rows.withColumn("_reason", F.coalesce(F.col("_reason"), F.when(unknown, F.lit("UNKNOWN_CAMERA"))))
    known = cameras.select(F.col("camera_id").alias("_known_camera")).distinct()
    joined = rows.join(F.broadcast(known), rows["camera_id"] == known["_known_camera"], "left")
    unknown = F.col("camera_id").isNotNull() & F.col("_known_camera").isNull()
    reason = F.coalesce(F.col("_reason"), F.when(unknown, F.lit("UNKNOWN_CAMERA")))
    return joined.withColumn("_reason", reason).drop("_known_camera")


def first_of_each_key(rows: DataFrame, key: list[str]) -> tuple[DataFrame, list[DataFrame]]:
    """`rows` with one row per key (the repeats are the batch's duplicates), and the frames
    cached for it. Only the key columns are shuffled to find repeated keys; rows whose key is
    unique pass through untouched, and one row of each repeated key is kept and cached, so
    every later use sees the same choice."""
    repeated = rows.groupBy(*key).count().where(F.col("count") > 1).select(*key).persist()
    if repeated.isEmpty():
        repeated.unpersist()
        return rows, []
    kept = rows.join(repeated, key, "left_semi").dropDuplicates(key).persist()
    return rows.join(repeated, key, "left_anti").unionByName(kept), [repeated, kept]


CAMERA_SET_LIMIT = 20_000  # known cameras checked as a set in the plan up to this many; a join beyond


def _cameras(spark: SparkSession, settings: Settings) -> "DataFrame | frozenset[str]":
    """The cameras the base tier knows: their ids, or the table itself if there are very many."""
    path = lake.ensure_table(spark, settings, schemas.load_schema(settings, "base", "cameras"))
    table = spark.read.format("delta").load(path)
    ids = table.select("camera_id").distinct().limit(CAMERA_SET_LIMIT + 1).collect()
    return table if len(ids) > CAMERA_SET_LIMIT else frozenset(r.camera_id for r in ids)


def validate(df: DataFrame, entity: str, run_time: datetime, cameras: "DataFrame | frozenset[str] | None" = None) -> DataFrame:
    """`_reason` for each row (None: accepted); with `cameras`, a row naming a camera the base tier
    does not know is rejected too."""
    reasons = {"cameras": lambda: camera_reasons(df), "detections": lambda: detection_reasons(df, run_time),
               "events": lambda: event_reasons(df, run_time)}
    checked = df.withColumn("_reason", reasons[entity]())
    return checked if cameras is None else known_cameras_only(checked, cameras)


def with_raw(df: DataFrame) -> DataFrame:
    """Replace the carried source fields by `_raw`, the record as read (JSON, or the malformed
    line), made only for rejected rows: accepted rows never need it."""
    fields = [c for c in df.columns if c.startswith(RAW_FIELD)]
    record = F.to_json(F.struct(*[F.col(f"`{c}`").alias(c[len(RAW_FIELD):]) for c in fields])) if fields else F.lit("{}")
    raw = F.when(F.col("_reason").isNotNull(), F.make_valid_utf8(F.coalesce(F.col(RAW_LINE), record)))
    return df.withColumn("_raw", raw).drop(RAW_LINE, *fields)


def _quality_rows(result: "quality.QualityResult", batch_id: str, dept_id: str, entity: str, run_time: datetime, scope: str | None) -> list[tuple]:
    rows = []
    for o in result.outcomes:
        detail = o.detail if scope is None else json.dumps({**json.loads(o.detail or "{}"), "scope": scope}, ensure_ascii=False)
        rows.append((batch_id, dept_id, entity, result.suite, o.expectation, o.column or "", str(o.critical).lower(),
                     str(o.success).lower(), o.unexpected_count, detail, run_time))
    return rows


def run_quality_gates(
    spark: SparkSession, settings: Settings, accepted: DataFrame, entity: str, batches: dict[str, str], run_time: datetime
) -> tuple[dict[str, "quality.QualityResult"], list[tuple]]:
    """Run the entity's expectation suite on the accepted rows of every batch (`batches`: batch id
    -> department): each batch's result, and its outcomes as `base.quality_results` rows.

    The suite runs once over all batches of the run together. Every critical expectation is
    row-level (each row passes or fails on its own), so when the union passes, each batch passes
    too and its critical outcomes (0 unexpected) are exact; the non-critical aggregate outcomes
    then describe the run and are stored with a `scope` note saying so. When the union fails a
    critical expectation, the suite runs again on each batch alone to find the failing batches.
    """
    suite = quality.load_suite(settings, "base", entity)
    results: dict[str, quality.QualityResult] = {}
    rows: list[tuple] = []
    # GX's passes read only the columns the suite names (every pass scans the batch again)
    accepted = accepted.select(*dict.fromkeys(["batch_id", *quality.suite_columns(suite, accepted.columns)]))
    whole = quality.validate(accepted, suite)
    if len(batches) == 1 or whole.status == "failed" and len(batches) > 1:
        for batch_id, dept_id in batches.items():
            one = whole if len(batches) == 1 else quality.validate(accepted.where(F.col("batch_id") == batch_id), suite)
            results[batch_id] = one
            rows += _quality_rows(one, batch_id, dept_id, entity, run_time, None)
    else:
        scope = f"run of {len(batches)} batches: aggregate outcomes describe the run"
        for batch_id, dept_id in batches.items():
            results[batch_id] = whole
            rows += _quality_rows(whole, batch_id, dept_id, entity, run_time, scope)
    return results, rows


def store_quality_rows(spark: SparkSession, settings: Settings, rows: list[tuple]) -> None:
    q_schema = schemas.load_schema(settings, "base", "quality_results")
    df = spark.createDataFrame(rows, q_schema.spark_schema()).dropDuplicates(q_schema.key)
    lake.merge_into(spark, lake.ensure_table(spark, settings, q_schema), df, q_schema.key, q_schema.names())


FLAG_SAMPLE = 30  # rows per batch and table sampled for the classification check


def classification_flags(
    settings: Settings, accepted: DataFrame, entity: str, batches: dict[str, str], run_time: datetime,
    sizes: dict[str, int] | None = None, key: list[str] | None = None,
) -> list[tuple]:
    """Sample each batch's accepted rows (one Spark job), detect personal information in their
    string columns, and return a `base.classification_flags` row for every column whose detected
    level exceeds its effective classification. Never the values themselves.

    The sample is the FLAG_SAMPLE rows of lowest hash in each batch. With `sizes` (accepted rows
    per batch), rows are first cut to a few times that many by the same hash, so only those are
    sorted; the sample is the same unless fewer than FLAG_SAMPLE rows pass the cut. The hash is
    of the `key` columns if given (unique in `accepted`), else of every string column."""
    from pyspark.sql import Window

    strings = [f.name for f in accepted.schema.fields if f.dataType.simpleString() == "string" and f.name not in ("batch_id", "source_file")]
    if not strings:
        return []
    spread = 1 << 20
    hashed = F.xxhash64(*(key or strings))
    rows = accepted.select("batch_id", *strings, hashed.alias("_x")).withColumn("_h", F.pmod("_x", F.lit(spread)))
    if sizes:
        cut = {b: min(spread, spread * FLAG_SAMPLE * 4 // n) for b, n in sizes.items() if n}
        # the widest cut first (a comparison), then each batch's own (a map lookup) on what is left
        rows = rows.where(F.col("_h") < max(cut.values(), default=0)).where(
            F.col("_h") < F.element_at(literal_map(cut), F.col("batch_id")))
    w = Window.partitionBy("batch_id").orderBy("_h", "_x")
    sample = rows.withColumn("_n", F.row_number().over(w)).where(F.col("_n") <= FLAG_SAMPLE).collect()
    pol = policies.classification(settings)
    declared = proposals.effective(settings, "base", entity)
    by_batch: dict[str, list] = {}
    for r in sample:
        by_batch.setdefault(r.batch_id, []).append(r)
    rows = []
    for batch_id in batches:
        mine = by_batch.get(batch_id, [])
        for col in strings:
            report = classify.classify_values(col, [r[col] for r in mine], pol)
            if col in declared and proposals.disagrees(report, declared[col]):
                rows.append((batch_id, batches[batch_id], entity, col, declared[col]["level"], json.dumps(report.entities),
                             report.level, report.sampled, run_time))
    return rows


def _processed_hashes(spark: SparkSession, settings: Settings) -> dict[str, set[str]]:
    """Content hashes of the files already ingested, by department (from the manifest)."""
    path = lake.table_path(settings, "base", "ingest_manifest")
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return {}
    done: dict[str, set[str]] = {}
    for r in spark.read.format("delta").load(path).select("department", "sha256").collect():
        done.setdefault(r.department, set()).add(r.sha256)
    return done


def _set_aside(path: Path, landing: Path, reason: str) -> None:
    """Keep an unreadable file, with its reason, in `<landing>/_rejected/`."""
    target = landing / "_rejected"
    target.mkdir(exist_ok=True)
    shutil.move(str(path), target / path.name)
    (target / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")


def _archive(paths: list[Path], landing: Path, batch_id: str) -> None:
    target = landing / "_ingested" / batch_id
    target.mkdir(parents=True, exist_ok=True)
    for p in paths:
        if p.exists():
            shutil.move(str(p), target / p.name)


@dataclass
class _Plan:
    """One department's batch: its new landing files by entity, as planning found them."""

    dept: Department
    landing: Path
    batch_id: str
    files: dict[str, list[LandingFile]]

    def readable(self, entity: str) -> list[LandingFile]:
        return [f for f in self.files.get(entity, []) if f.reject is None]

    @property
    def rejected(self) -> dict[str, dict[str, str]]:
        return {entity: {f.name: f.reject for f in files if f.reject} for entity, files in self.files.items()}

    def drift(self, entity: str) -> Drift:
        return drift_of_files(self.readable(entity), self.dept.sources[entity])

    @property
    def manifest_rows(self) -> list[tuple]:
        return [(self.dept.id, f.content_hash, f.name, entity, f.size, self.batch_id, "rejected" if f.reject else "ingested")
                for entity, files in self.files.items() for f in files]


def _plan(dept: Department, landing: Path, done: set[str]) -> _Plan | None:
    """Find `dept`'s new files (by content hash); archive re-dropped ones; None if nothing is new.
    Each new file is read here, once, for everything the run needs to know of it (`inspect`)."""
    found: dict[str, list[tuple[Path, str, bool]]] = {}
    already: list[Path] = []
    for entity, source in dept.sources.items():
        for p in landing_files(source, landing):
            digest, is_clean = digest_and_clean(p, source)
            if digest in done:
                already.append(p)
            else:
                found.setdefault(entity, []).append((p, digest, is_clean))
    if already:
        _archive(already, landing, "already-ingested")
    if not found:
        return None
    batch_id = hashlib.sha256("".join(sorted(d for seen in found.values() for _, d, _ in seen)).encode()).hexdigest()[:16]
    files = {entity: [inspect(p, entity, dept.sources[entity], d, c) for p, d, c in seen] for entity, seen in found.items()}
    return _Plan(dept, landing, batch_id, files)


def describe_failure(exc: Exception) -> str:
    if isinstance(exc, GovlakeError):
        return str(exc)
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:500]}"


def feed_shape(dept: Department, entity: str) -> str:
    """Departments with the same shape (source mapping, timezone, coordinate system) are read and
    mapped together as one frame."""
    return json.dumps([dept.sources[entity].model_dump(mode="json"), dept.timezone, dept.coordinate_system], sort_keys=True)


def _shape_frame(
    spark: SparkSession, group: list[_Plan], entity: str, schema: schemas.TableSchema, run_time: datetime,
    cameras: "DataFrame | frozenset[str] | None" = None,
) -> DataFrame:
    """The validated rows of every batch in `group` (one feed shape): one read over all their
    files and one mapping expression (two if some files are not clean text: only their rows get
    the per-row byte checks); each row's batch and department come from its file.
    `cameras`: the known cameras, for entities that name one."""
    source = group[0].dept.sources[entity]
    by_clean: dict[bool, list[LandingFile]] = {}
    batches: list[str] = []
    depts: list[str] = []
    index: dict[str, int] = {}
    for plan in group:
        for f in plan.readable(entity):
            by_clean.setdefault(f.clean, []).append(f)
            index[str(f.path.resolve())] = len(batches)
            batches.append(plan.batch_id)
            depts.append(plan.dept.id)
    # each row's file -> its position in `batches` / `depts`: one map lookup by the URI Spark
    # reports (the decoded path is the fallback, evaluated only if the URI is not found)
    uris = file_uris(spark, list(index))
    by_uri = literal_map({uris[p]: i for p, i in index.items()})
    by_path = literal_map(index)
    position = F.coalesce(F.element_at(by_uri, F.col("_source_uri")), F.element_at(by_path, _plain_path())) + 1
    frames = []
    for clean, files in sorted(by_clean.items()):
        raw = read_source(spark, source, files).withColumn("_position", position)
        raw = raw.withColumn("_batch", F.element_at(literal_array(batches), F.col("_position"))).withColumn(
            "_department", F.element_at(literal_array(depts), F.col("_position"))).drop("_position")
        unified = to_unified(raw, source, group[0].dept, schema, check_encoding=not clean)
        frames.append(with_raw(validate(unified, entity, run_time, cameras)))
    return reduce(lambda a, b: a.unionByName(b), frames)


def with_lines(spark: SparkSession, bad: DataFrame, entity: str, plans: list[_Plan]) -> DataFrame:
    """Rejected rows with `_line` filled in for CSV and JSON lines files (see lines.py)."""

    by_batch = {p.batch_id: p for p in plans}
    wanted: dict[tuple[str, str], set[str]] = {}
    for r in bad.where(F.col("_line").isNull()).select("batch_id", "source_file", "_raw").distinct().collect():
        plan = by_batch.get(r.batch_id)
        if plan is not None and plan.dept.sources[entity].format in ("csv", "jsonl"):
            wanted.setdefault((r.batch_id, r.source_file), set()).add(r["_raw"])
    found = []
    for (batch_id, name), raws in wanted.items():
        plan = by_batch[batch_id]
        path = plan.landing / name
        if path.is_file():
            found += [(batch_id, name, raw, no) for raw, no in lines.locate(path, plan.dept.sources[entity], raws).items()]
    if not found:
        return bad
    located = spark.createDataFrame(found, "_lb string, _lf string, _lr string, _ln long")
    cond = (bad["batch_id"] == located["_lb"]) & (bad["source_file"] == located["_lf"]) & (bad["_raw"] == located["_lr"])
    joined = bad.join(F.broadcast(located), cond, "left")
    return joined.withColumn("_line", F.coalesce(F.col("_line"), F.col("_ln"))).drop("_lb", "_lf", "_lr", "_ln")


def _passes(plans: list[_Plan]) -> list[list[_Plan]]:
    """Split plans into passes of at most MAX_SHAPES_PER_PASS distinct feed shapes."""
    passes: list[tuple[set, list[_Plan]]] = []
    for plan in plans:
        shape = tuple(feed_shape(plan.dept, e) for e in sorted(plan.files))
        for shapes, members in passes:
            if shape in shapes or len(shapes) < MAX_SHAPES_PER_PASS:
                shapes.add(shape)
                members.append(plan)
                break
        else:
            passes.append(({shape}, [plan]))
    return [members for _, members in passes]


def _ingest_plans(
    spark: SparkSession, settings: Settings, plans: list[_Plan], run_time: datetime, failures: dict[str, str] | None = None
) -> list[BatchResult]:
    """Ingest the batches of `plans` together (`_ingest_cached`); the frames it caches are released
    however it ends, so a failed shared pass does not hold its rows while each department is retried."""
    persisted: list[DataFrame] = []
    try:
        return _ingest_cached(spark, settings, plans, run_time, failures, persisted)
    finally:
        for df in persisted:
            df.unpersist()


def _ingest_cached(
    spark: SparkSession, settings: Settings, plans: list[_Plan], run_time: datetime, failures: dict[str, str] | None,
    persisted: list[DataFrame],
) -> list[BatchResult]:
    """Ingest the batches of `plans` together (see the module docstring); every frame it caches
    is added to `persisted`.

    Order of commits: quarantine and base MERGEs (the quarantine, quality results,
    classification flags and batch log commits run side by side), then the file manifest, then
    the files move to `_ingested/`. A crash before the manifest commit leaves the files in
    place and the rerun repeats the (idempotent) MERGEs; after it, the rerun only archives.
    Each entity's quality gates and classification sampling run in a background thread while
    its rows are MERGEd and the next entity is read; they read the same cached rows.
    With `failures`, a department whose frames cannot be built is recorded there and left out;
    without it, the error propagates.
    """
    from concurrent.futures import ThreadPoolExecutor

    quality.warm_up()
    q_schema = schemas.load_schema(settings, "base", "quarantine")
    q_path = lake.ensure_table(spark, settings, q_schema)
    quarantine: list[DataFrame] = []
    known: DataFrame | frozenset[str] | None = None  # the cameras base knows
    done: list[tuple] = []  # (entity, counts, accepted, future of (gates, quality rows, flag rows))
    checks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-checks")
    try:
        for entity in ENTITIES:
            schema = schemas.load_schema(settings, "base", entity)
            path = lake.ensure_table(spark, settings, schema)
            if entity != "cameras" and known is None:  # read once, after this run's cameras are in base
                known = _cameras(spark, settings)
            frames = _entity_frames(spark, plans, entity, schema, run_time, failures, None if entity == "cameras" else known)
            counts: dict[str, tuple[int, int]] = {}
            accepted: dict[str, int] = {}
            future = None
            if frames:
                checked = reduce(lambda a, b: a.unionByName(b), frames).persist()
                persisted.append(checked)
                bad = checked.where(F.col("_reason").isNotNull())
                for r in checked.groupBy("batch_id").agg(F.count(F.lit(1)).alias("n"), F.count("_reason").alias("bad")).collect():
                    counts[r.batch_id] = (r.n, r.bad)
                if None in counts:
                    raise GovlakeError(f"{counts[None][0]} {entity} rows could not be traced to their landing file's batch; "
                                       "check that landing paths are plain local paths")
                deduped, extra = first_of_each_key(checked.where(F.col("_reason").isNull()).select(*schema.names()), schema.key)
                persisted += extra
                accepted = {r.batch_id: r["count"] for r in deduped.groupBy("batch_id").count().collect()}
                in_run = {p.batch_id: p.dept.id for p in plans if p.batch_id in counts}

                def run_checks(deduped=deduped, entity=entity, in_run=in_run, accepted=accepted, key=schema.key):
                    gates, rows = run_quality_gates(spark, settings, deduped, entity, in_run, run_time)
                    return gates, rows, classification_flags(settings, deduped, entity, in_run, run_time, accepted, key)

                future = checks.submit(run_checks)
                if any(bad_n for _, bad_n in counts.values()):
                    bad = with_lines(spark, bad, entity, plans)
                    quarantine.append(bad.select(
                        "batch_id", "department", F.lit(entity).alias("entity"),
                        "source_file", F.col("_line").alias("line"), F.col("_reason").alias("reason"), F.col("_raw").alias("raw"),
                        F.sha2(F.concat_ws("\u0001", "source_file", "_raw"), 256).alias("row_hash"),
                        F.lit(run_time).cast("timestamp").alias("quarantined_at"),
                    ))
                lake.merge_into(spark, path, deduped, schema.key, schema.names(), rows=sum(accepted.values()))
            done.append((entity, counts, accepted, future))
        outcomes = {entity: future.result() if future else ({}, [], []) for entity, *_, future in done}
    finally:
        checks.shutdown(wait=True)
    entity_results: dict[str, list[EntityResult]] = {p.batch_id: [] for p in plans}
    quality_rows = [r for _, rows, _ in outcomes.values() for r in rows]
    flag_rows = [r for _, _, flags in outcomes.values() for r in flags]
    for entity, counts, accepted, _ in done:
        gates = outcomes[entity][0]
        for plan in plans:
            if entity not in plan.files:
                continue
            read, quarantined = counts.get(plan.batch_id, (0, 0))
            ok = accepted.get(plan.batch_id, 0)
            d = plan.drift(entity)
            gate = gates.get(plan.batch_id)
            entity_results[plan.batch_id].append(EntityResult(
                entity, [p.name for p in plan.readable(entity)], read, ok, quarantined, read - ok - quarantined,
                d.missing, d.extra, plan.rejected.get(entity, {}), gate.status if gate else "not_run",
                gate.failed_critical if gate else [],
            ))
    batches = [BatchResult(p.batch_id, p.dept.id, entity_results[p.batch_id]) for p in plans]
    f_schema = schemas.load_schema(settings, "base", "classification_flags")
    f_path = lake.ensure_table(spark, settings, f_schema)  # exists (empty) so status can always query it

    # the data is in base: its lineage is recorded, and the bookkeeping tables written, side by side
    def store_quarantine() -> None:
        q = reduce(lambda a, b: a.unionByName(b), quarantine).dropDuplicates(q_schema.key)
        lake.merge_into(spark, q_path, q, q_schema.key, q_schema.names())

    def store_flags() -> None:
        lake.merge_into(spark, f_path, spark.createDataFrame(flag_rows, f_schema.spark_schema()), f_schema.key, f_schema.names(), rows=len(flag_rows))

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="ingest-bookkeeping") as pool:
        jobs = [pool.submit(lambda: [_emit_lineage(settings, p) for p in list(plans)])]
        if quarantine:  # one commit for the rejected rows of every entity
            jobs.append(pool.submit(store_quarantine))
        if quality_rows:
            jobs.append(pool.submit(store_quality_rows, spark, settings, quality_rows))
        if flag_rows:
            jobs.append(pool.submit(store_flags))
        jobs.append(pool.submit(_record_batches, spark, settings, batches, run_time))
        for job in jobs:
            job.result()  # the first failure is raised, after every job has finished
    _record_manifest(spark, settings, [r for p in plans for r in p.manifest_rows], run_time)
    for plan in plans:
        for entity, rejected in plan.rejected.items():
            for name, reason in rejected.items():
                _set_aside(plan.landing / name, plan.landing, reason)
        _archive([f.path for fs in plan.files.values() for f in fs], plan.landing, plan.batch_id)
    return batches


def _entity_frames(
    spark: SparkSession, plans: list[_Plan], entity: str, schema: schemas.TableSchema,
    run_time: datetime, failures: dict[str, str] | None,
    cameras: "DataFrame | frozenset[str] | None",
) -> list[DataFrame]:
    """The validated frames of `entity`, one per feed shape. With `failures`, a department whose
    frame cannot be built is recorded there and removed from `plans`; without it, the error
    propagates."""
    frames: list[DataFrame] = []
    groups: dict[str, list[_Plan]] = {}
    for plan in plans:
        if plan.readable(entity):
            groups.setdefault(feed_shape(plan.dept, entity), []).append(plan)
    for group in groups.values():
        try:
            frames.append(_shape_frame(spark, group, entity, schema, run_time, cameras))
            continue
        except Exception as exc:
            if len(group) == 1 and failures is None:
                raise
            if len(group) > 1:
                log.warning("departments %s share a feed shape but not a readable union (%s); mapping them one by one",
                            [p.dept.id for p in group], describe_failure(exc))
        for plan in group:
            try:
                frames.append(_shape_frame(spark, [plan], entity, schema, run_time, cameras))
            except Exception as exc:
                if failures is None:
                    raise
                failures[plan.dept.id] = describe_failure(exc)
                log.error("ingest of department `%s` left out of this run: %s", plan.dept.id, failures[plan.dept.id])
                plans.remove(plan)
    return frames


def ingest_department(
    spark: SparkSession, settings: Settings, dept: Department, landing: Path, run_time: datetime
) -> BatchResult | None:
    """Ingest the new landing files of `dept` exactly once; None when there is nothing new.
    Errors propagate (the caller is one department's task)."""
    run_time = times.as_utc(run_time)
    plan = _plan(dept, landing, _processed_hashes(spark, settings).get(dept.id, set()))
    return None if plan is None else _ingest_plans(spark, settings, [plan], run_time)[0]


def ingest_departments(
    spark: SparkSession, settings: Settings, work: list[tuple[Department, Path]], run_time: datetime
) -> tuple[list[BatchResult], dict[str, str]]:
    """Ingest the new files of many departments in one pass: (batches, failures by department).

    A department whose files or mapping fail is reported in `failures` and the others go on; if
    the shared pass fails while running, every department is retried on its own.
    """
    run_time = times.as_utc(run_time)
    failures: dict[str, str] = {}
    done = _processed_hashes(spark, settings)
    plans = []
    for dept, landing in work:
        try:
            plan = _plan(dept, landing, done.get(dept.id, set()))
        except Exception as exc:
            failures[dept.id] = describe_failure(exc)
            log.error("ingest of department `%s` failed: %s", dept.id, failures[dept.id])
            continue
        if plan is not None:
            plans.append(plan)
    if not plans:
        return [], failures
    batches: list[BatchResult] = []
    retry: list[_Plan] = []
    for members in _passes(plans):
        if len(members) == 1:
            retry += members
            continue
        try:
            batches += _ingest_plans(spark, settings, list(members), run_time, failures)
        except Exception:
            log.exception("the shared ingest pass over %d departments failed; retrying each department on its own", len(members))
            retry += members
    for plan in retry:
        if plan.dept.id in failures:
            continue
        try:
            batches += _ingest_plans(spark, settings, [plan], run_time)
        except Exception as exc:
            failures[plan.dept.id] = describe_failure(exc)
            log.error("ingest of department `%s` failed: %s", plan.dept.id, failures[plan.dept.id])
    return batches, failures


def mapping_step(entity: str, column: str, m: FieldMap, dept: Department, time_columns: frozenset[str] = frozenset()) -> str:
    """The transformation the ingest applies to one mapped field, its steps '+'-joined (lineage)."""
    steps = ["element"] if m.index is not None else []
    if m.values:
        steps.append("code_map")
    if m.scale is not None:
        steps.append("scale")
    if m.time_format or m.epoch or m.timezone or column in time_columns:
        steps.append("time_to_utc")  # every time is read in the department's timezone unless stated
    if entity == "cameras" and column in ("longitude", "latitude"):
        steps.append("coordinate_conversion" if dept.coordinate_system != "WGS-84" else "round")
    return "+".join(steps) or "identity"


def mapping_lineage(dept: Department, entity: str, time_columns: frozenset[str] = frozenset()) -> dict[str, list[tuple[str, str, str]]]:
    """Unified column -> [(landing dataset, department field, transformation)] for `dept`'s source;
    `time_columns`: the unified timestamp columns."""
    name = f"landing_{dept.id}.{entity}"
    fields = dept.sources[entity].fields
    out = {c: [(name, m.source, mapping_step(entity, c, m, dept, time_columns))] for c, m in fields.items()}
    if entity == "cameras" and dept.coordinate_system != "WGS-84" and {"longitude", "latitude"} <= set(fields):
        both = [(name, fields[c].source, mapping_step(entity, c, fields[c], dept)) for c in ("longitude", "latitude")]
        out["longitude"], out["latitude"] = both, list(both)  # each converted coordinate depends on both inputs
    return out


def _emit_lineage(settings: Settings, plan) -> None:
    """One OpenLineage event per ingested entity: the department's landing fields -> base columns.
    Lineage is evidence, not the data: a failure to record it is logged, not raised."""

    for entity in plan.files:
        try:
            event = lineage_capture.mapping_event(
                settings, f"ingest.{plan.dept.id}.{entity}", {f"landing_{plan.dept.id}.{entity}": str(plan.landing)},
                lake.table_path(settings, "base", entity), mapping_lineage(plan.dept, entity, frozenset(
                    c.name for c in schemas.load_schema(settings, "base", entity).columns if c.type == "timestamp")))
            lineage_capture.emit(settings, event)
        except Exception as exc:  # noqa: BLE001
            log.warning("lineage of the %s ingest of %s not recorded: %s", entity, plan.dept.id, exc)


def _record_batches(spark: SparkSession, settings: Settings, batches: list[BatchResult], run_time: datetime) -> None:
    """Write the batch log (after the data: see _ingest_plans)."""
    log_schema = schemas.load_schema(settings, "base", "batch_log")
    rows = [
        (
            batch.batch_id, batch.department, e.entity, json.dumps(e.files, ensure_ascii=False),
            json.dumps(e.rejected_files, ensure_ascii=False), e.read, e.accepted, e.quarantined, e.duplicates,
            str(e.balanced).lower(), json.dumps(e.missing_fields, ensure_ascii=False), json.dumps(e.extra_fields, ensure_ascii=False),
            e.quality_status, run_time,
        )
        for batch in batches
        for e in batch.entities
    ]
    log_df = spark.createDataFrame(rows, log_schema.spark_schema())
    lake.merge_into(spark, lake.ensure_table(spark, settings, log_schema), log_df, log_schema.key, log_schema.names(), rows=len(rows))


def _record_manifest(spark: SparkSession, settings: Settings, manifest_rows: list[tuple], run_time: datetime) -> None:
    """Write the file manifest: the last commit of a batch (see _ingest_plans)."""
    m_schema = schemas.load_schema(settings, "base", "ingest_manifest")
    m_df = spark.createDataFrame([(*r, run_time) for r in manifest_rows], m_schema.spark_schema()).dropDuplicates(m_schema.key)
    lake.merge_into(spark, lake.ensure_table(spark, settings, m_schema), m_df, m_schema.key, m_schema.names())
