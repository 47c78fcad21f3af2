"""Table schemas per tier (`schemas/<tier>/<table>.yaml`) and the warehouse layout.

Every column declares a description and a classification level (and a PII type where it holds
personal information); a column without a level is a configuration error. Tables are Delta
tables at `<warehouse>/<tier>/<table>`; Trino sees them as `<catalog>.<tier>.<table>`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from govlake.core import config
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings
from govlake.domain import levels
from govlake.platform import lake

if TYPE_CHECKING:
    from pyspark.sql.types import StructType



class Column(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: Literal["string", "double", "int", "long", "timestamp", "date"]
    description: str = Field(min_length=3)
    level: Literal["L1", "L2", "L3", "L4"]
    pii_type: str | None = None
    important: bool = False
    nullable: bool = True
    category: str | None = None  # data category (policies/purposes.yaml); default: the table's
    # the value is a platform token (keyed with the platform key): joinable across every consumer
    # and equal to the erasure subject's token, so a contract must re-key it (`token`) or drop it
    platform_token: bool = False
    # the values a row may hold, stated once here: the ingest's row rules reject others where they
    # check the column (pipeline/ingest/rules.CHECKED: UNKNOWN_CODE / OUT_OF_RANGE_* / INVALID_*),
    # and the quality suites expect the same (critical, or `mostly` for a soft check); tests compare.
    # `pattern` is run by Spark (Java regular expressions): keep to the syntax both share.
    allowed: list[str] | None = None                    # code list
    range: tuple[float, float] | None = None            # inclusive [min, max]
    pattern: str | None = None                          # regular expression the whole value matches

    @model_validator(mode="after")
    def _constraints_fit(self) -> "Column":
        numeric = self.type in ("double", "int", "long")
        if self.allowed is not None and (self.type != "string" or not self.allowed):
            raise ValueError(f"column `{self.name}`: `allowed` is a non-empty list of codes for a string column")
        if self.range is not None and (not numeric or self.range[0] > self.range[1]):
            raise ValueError(f"column `{self.name}`: `range` is [min, max] with min <= max, for a numeric column")
        if self.range is not None and self.type != "double" and not all(float(b).is_integer() for b in self.range):
            raise ValueError(f"column `{self.name}`: `range` of an integer column has whole-number bounds")
        if self.pattern is not None:
            if self.type != "string" or not (self.pattern.startswith("^") and self.pattern.endswith("$")):
                raise ValueError(f"column `{self.name}`: `pattern` is an anchored regular expression (^...$) for a string column")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"column `{self.name}`: `pattern` is not a regular expression: {exc}") from exc
        return self


CATEGORIES = ("camera_metadata", "aggregate_flows", "detection_records", "incident_reports", "pseudonymous_tracks", "identity", "images")


class TableSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str
    tier: Literal["base", "analytic", "application"]
    description: str
    key: list[str] = Field(default_factory=list)
    category: str | None = None  # data category of its columns for sharing purposes
    # partition columns: `[department]` keeps each department's rows in files of their own, so
    # a steward reading their department's rows never scans or estimates another's
    partitioned_by: list[str] = Field(default_factory=list)
    columns: list[Column]

    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise ConfigError(f"table `{self.tier}.{self.table}` has no column `{name}`")

    @property
    def level(self) -> str:
        """The table's level: the highest of its columns' (就高从严)."""
        return levels.highest(c.level for c in self.columns) or levels.LEVELS[0]

    def spark_schema(self) -> "StructType":
        from pyspark.sql.types import StructType

        return StructType.fromDDL(", ".join(f"{c.name} {lake.SPARK_TYPES[c.type]}" for c in self.columns))


_parsed: dict[tuple[str, int, int], TableSchema] = {}


def load_schema(settings: Settings, tier: str, table: str) -> TableSchema:
    path = settings.path("schemas", tier, f"{table}.yaml")
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key not in _parsed:  # a job loads the same few schemas hundreds of times
            _parsed[key] = config.validate(TableSchema, config.parse_yaml(config.read_text(path, "schema file"), f"schema file `{path}`"), f"schema file `{path}`")
        schema = _parsed[key].model_copy(deep=True)
    except FileNotFoundError as exc:
        raise ConfigError(f"no schema for `{tier}.{table}`: expected {path}") from exc
    for cat in [schema.category] + [c.category for c in schema.columns]:
        if cat is not None and cat not in CATEGORIES:
            raise ConfigError(f"schema file `{path}`: unknown data category `{cat}`; known: {', '.join(CATEGORIES)}")
    missing = [k for k in schema.key + schema.partitioned_by if k not in schema.names()]
    if missing:
        raise ConfigError(f"schema file `{path}`: key or partition column(s) {missing} are not columns of the table")
    return schema


def all_schema_files(settings: Settings) -> list[Path]:
    return sorted(settings.path("schemas").glob("*/*.yaml"))


def declared_levels(settings: Settings) -> dict[tuple[str, str], str]:
    out = {}
    for path in all_schema_files(settings):
        tier, table = path.parent.name, path.stem
        for c in load_schema(settings, tier, table).columns:
            out[(f"{tier}.{table}", c.name)] = c.level
    return out
