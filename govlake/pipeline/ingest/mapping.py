"""Mapping raw records to the unified schema through the department's registry entry
(names, code values, units, UTC, WGS-84); schema drift; the mapping's lineage."""
from __future__ import annotations

import json
from dataclasses import dataclass

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, functions as F

from govlake.core import coordinates
from govlake.core.errors import ConfigError
from govlake.departments.registry import Department, FieldMap, Source
from govlake.domain import schemas
from govlake.pipeline.ingest.landing import LandingFile
from govlake.pipeline.ingest.literals import literal_map, sql_ident
from govlake.pipeline.ingest.read import CORRUPT, HELPERS, RAW_LINE
from govlake.platform import lake

RAW_FIELD = "_raw:"  # prefix of the source fields carried past mapping until `with_raw`


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


def feed_shape(dept: Department, entity: str) -> str:
    """Departments with the same shape (source mapping, timezone, coordinate system) are read and
    mapped together as one frame."""
    return json.dumps([dept.sources[entity].model_dump(mode="json"), dept.timezone, dept.coordinate_system], sort_keys=True)


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
