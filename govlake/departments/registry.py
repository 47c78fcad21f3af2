"""The department registry: one YAML file per department under `catalog/departments/`.

A file says who the department is (id, stewards, timezone, coordinate system, schedule) and how
its feeds look (format, encoding, field names, units, code values) relative to the unified base
schema. Adding a department is adding a file; the ingest, the generator and the DAG factory all
read it through these models.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from govlake.core import config
from govlake.core.coordinates import CRS
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings

# Spark datetime pattern -> Python strftime pattern, for the patterns departments use.
TIME_FORMATS = {
    "yyyy-MM-dd HH:mm:ss": "%Y-%m-%d %H:%M:%S",
    "yyyy/MM/dd HH:mm:ss": "%Y/%m/%d %H:%M:%S",
    "yyyyMMddHHmmss": "%Y%m%d%H%M%S",
    "yyyy-MM-dd'T'HH:mm:ss": "%Y-%m-%dT%H:%M:%S",
}


class FieldMap(BaseModel):
    """How one unified column is read from a department's record."""

    model_config = ConfigDict(extra="forbid")

    source: str
    index: int | None = Field(None, ge=0, description="element of an array-valued source field")
    values: dict[str, str] | None = Field(None, description="department code -> unified value")
    scale: float | None = Field(None, description="multiply numeric values (e.g. percent -> 0.01)")
    time_format: str | None = Field(None, description="local-time string in the department's timezone")
    epoch: Literal["s", "ms"] | None = None
    timezone: str | None = Field(None, description="timezone of a native timestamp; default the department's")

    @field_validator("time_format")
    @classmethod
    def _known_format(cls, v: str | None) -> str | None:
        if v is not None and v not in TIME_FORMATS:
            raise ValueError(f"time_format `{v}` is not supported; use one of {', '.join(TIME_FORMATS)}")
        return v

    @model_validator(mode="after")
    def _one_time_kind(self) -> "FieldMap":
        if self.time_format and self.epoch:
            raise ValueError("give either time_format or epoch, not both")
        return self


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "jsonl", "parquet"]
    pattern: str
    encoding: str = "UTF-8"
    delimiter: str = ","
    fields: dict[str, FieldMap]

    @field_validator("fields", mode="before")
    @classmethod
    def _short_form(cls, v: object) -> object:
        if not isinstance(v, dict):
            return v  # not a mapping: the type check names it
        return {k: ({"source": m} if isinstance(m, str) else m) for k, m in v.items()}

    @field_validator("encoding")
    @classmethod
    def _codec(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError as exc:
            raise ValueError(f"encoding `{v}` is unknown") from exc
        return v


class Department(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    name: str
    stewards: list[str] = Field(min_length=1)
    timezone: str
    coordinate_system: str
    region_code: str = Field(pattern=r"^\d{6}$")
    schedule: str = "*/5 * * * *"
    sources: dict[Literal["cameras", "detections", "events"], Source]

    @field_validator("sources")
    @classmethod
    def _required_sources(cls, v: dict) -> dict:
        missing = [e for e in ("cameras", "detections") if e not in v]
        if missing:
            raise ValueError(f"needs a source for {', '.join(missing)} (events is optional)")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"timezone `{v}` is not an IANA timezone name (e.g. Asia/Shanghai)") from exc
        return v

    @field_validator("coordinate_system")
    @classmethod
    def _crs(cls, v: str) -> str:
        if v not in CRS:
            raise ValueError(f"coordinate_system `{v}` is not one of {', '.join(CRS)}")
        return v


def load_department(path: Path) -> Department:
    dept = config.load_model(path, Department, "department registry file")
    if dept.id != path.stem:
        raise ConfigError(f"department registry file `{path}`: field `id` is `{dept.id}` but the file is named `{path.stem}.yaml`; make them equal")
    return dept


def registry_dir(settings: Settings) -> Path:
    return settings.departments_dir or settings.path("catalog", "departments")


def load_all(settings: Settings, directory: Path | None = None) -> list[Department]:
    directory = directory or registry_dir(settings)
    return [load_department(p) for p in sorted(directory.glob("*.yaml"))]


def get(settings: Settings, department_id: str, directory: Path | None = None) -> Department:
    path = (directory or registry_dir(settings)) / f"{department_id}.yaml"
    if not path.is_file():
        known = ", ".join(d.id for d in load_all(settings, directory))
        raise ConfigError(f"unknown department `{department_id}`; registered: {known}")
    return load_department(path)
