"""Coordinate harmonisation: GCJ-02 and BD-09 to WGS-84.

Many Chinese systems store GCJ-02 (the national obfuscated datum) or BD-09 (Baidu's offset on
top of it). The base tier stores WGS-84 and records the source system. The formulas are written
once over a small math backend so the same code runs on Python floats (generator, tests) and as
Spark SQL expressions (ingest, native functions only, no UDF). GCJ-02 to WGS-84 has no closed form; two
fixed-point iterations bring the error well below a metre.
"""
from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

A = 6378245.0
EE = 0.00669342162296594323
X_PI = math.pi * 3000.0 / 180.0
CRS = ("WGS-84", "GCJ-02", "BD-09")

PY = SimpleNamespace(sin=math.sin, cos=math.cos, sqrt=math.sqrt, atan2=math.atan2, abs=abs)


class SqlTerm:
    """A Spark SQL expression as text, with the arithmetic the formulas use: the staged conversion
    is planned by parsing one expression per step instead of a JVM call per operator."""

    def __init__(self, text: str):
        self.text = text

    @staticmethod
    def of(x: Any) -> str:
        if isinstance(x, SqlTerm):
            return x.text
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError(f"no SQL term for {type(x).__name__}")
        return f"({float(x)!r}D)"  # a double literal: `1.5` alone would be parsed as a decimal

    def _op(self, op: str, other: Any, right: bool = False) -> "SqlTerm":
        a, b = (SqlTerm.of(other), self.text) if right else (self.text, SqlTerm.of(other))
        return SqlTerm(f"({a} {op} {b})")

    def __add__(self, o): return self._op("+", o)
    def __radd__(self, o): return self._op("+", o, True)
    def __sub__(self, o): return self._op("-", o)
    def __rsub__(self, o): return self._op("-", o, True)
    def __mul__(self, o): return self._op("*", o)
    def __rmul__(self, o): return self._op("*", o, True)
    def __truediv__(self, o): return self._op("/", o)
    def __rtruediv__(self, o): return self._op("/", o, True)
    def __neg__(self): return SqlTerm(f"(- {self.text})")


def _sql_function(name: str):
    return lambda *args: SqlTerm(f"{name}({', '.join(SqlTerm.of(a) for a in args)})")


SQL = SimpleNamespace(**{n: _sql_function(n) for n in ("sin", "cos", "sqrt", "atan2", "abs")})


def _t_lat(m, x, y):
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * m.sqrt(m.abs(x))
    r = r + (20.0 * m.sin(6.0 * x * math.pi) + 20.0 * m.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r = r + (20.0 * m.sin(y * math.pi) + 40.0 * m.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    return r + (160.0 * m.sin(y / 12.0 * math.pi) + 320.0 * m.sin(y * math.pi / 30.0)) * 2.0 / 3.0


def _t_lon(m, x, y):
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * m.sqrt(m.abs(x))
    r = r + (20.0 * m.sin(6.0 * x * math.pi) + 20.0 * m.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r = r + (20.0 * m.sin(x * math.pi) + 40.0 * m.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    return r + (150.0 * m.sin(x / 12.0 * math.pi) + 300.0 * m.sin(x / 30.0 * math.pi)) * 2.0 / 3.0


def _gcj_offset(m, lon, lat):
    dlat = _t_lat(m, lon - 105.0, lat - 35.0)
    dlon = _t_lon(m, lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - EE * m.sin(radlat) * m.sin(radlat)
    sqrtmagic = m.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (A / sqrtmagic * m.cos(radlat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: Any, lat: Any, m=PY):
    dlon, dlat = _gcj_offset(m, lon, lat)
    return lon + dlon, lat + dlat


def _same(lon: Any, lat: Any) -> tuple[Any, Any]:
    return lon, lat


def gcj02_to_wgs84(lon: Any, lat: Any, m=PY, keep=_same):
    """`keep` receives each intermediate result and returns what the next step uses (see
    `to_wgs84_staged`)."""
    wlon, wlat = lon, lat
    for _ in range(2):
        dlon, dlat = _gcj_offset(m, wlon, wlat)
        wlon, wlat = keep(lon - dlon, lat - dlat)
    return wlon, wlat


def gcj02_to_bd09(lon: Any, lat: Any, m=PY):
    z = m.sqrt(lon * lon + lat * lat) + 0.00002 * m.sin(lat * X_PI)
    theta = m.atan2(lat, lon) + 0.000003 * m.cos(lon * X_PI)
    return z * m.cos(theta) + 0.0065, z * m.sin(theta) + 0.006


def bd09_to_gcj02(lon: Any, lat: Any, m=PY):
    x, y = lon - 0.0065, lat - 0.006
    z = m.sqrt(x * x + y * y) - 0.00002 * m.sin(y * X_PI)
    theta = m.atan2(y, x) - 0.000003 * m.cos(x * X_PI)
    return z * m.cos(theta), z * m.sin(theta)


def to_wgs84(crs: str, lon: Any, lat: Any, m=PY, keep=_same):
    if crs == "WGS-84":
        return lon, lat
    if crs == "GCJ-02":
        return gcj02_to_wgs84(lon, lat, m, keep)
    if crs == "BD-09":
        return gcj02_to_wgs84(*keep(*bd09_to_gcj02(lon, lat, m)), m, keep)
    raise ValueError(f"unknown coordinate system `{crs}`; use one of {', '.join(CRS)}")


def to_wgs84_staged(df: Any, crs: str, lon: Any, lat: Any, prefix: str = "_crs") -> tuple[Any, Any, Any]:
    """Spark: (frame, WGS-84 longitude, latitude) for the columns `lon`, `lat` of `df` in `crs`.

    `to_wgs84` with each intermediate result kept as columns of the frame: a step refers to the
    previous one by column name instead of repeating its expression, which would otherwise grow
    many-fold per step (slow to build, to analyse and to run). Helper columns start with `prefix`."""
    from pyspark.sql import functions as F

    frame = [df.withColumns({f"{prefix}_lon": lon.cast("double"), f"{prefix}_lat": lat.cast("double")})]

    def keep(x: SqlTerm, y: SqlTerm) -> tuple[SqlTerm, SqlTerm]:
        i = len(frame)
        frame.append(frame[-1].withColumns({f"{prefix}_{i}lon": F.expr(x.text), f"{prefix}_{i}lat": F.expr(y.text)}))
        return SqlTerm(f"`{prefix}_{i}lon`"), SqlTerm(f"`{prefix}_{i}lat`")

    wlon, wlat = to_wgs84(crs, SqlTerm(f"`{prefix}_lon`"), SqlTerm(f"`{prefix}_lat`"), SQL, keep)
    return frame[-1], F.expr(wlon.text), F.expr(wlat.text)


def from_wgs84(crs: str, lon: float, lat: float) -> tuple[float, float]:
    if crs == "WGS-84":
        return lon, lat
    gcj = wgs84_to_gcj02(lon, lat)
    return gcj if crs == "GCJ-02" else gcj02_to_bd09(*gcj)
