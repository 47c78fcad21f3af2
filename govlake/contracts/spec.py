"""Sharing contract specifications (`policies/contracts/*.yaml`).

This module reads and checks a contract's shape; `validate.py` checks it against the catalog
and the policies, and `workflow.py` decides (in the governance store) which contracts are active.
A file here is a working copy: only the version a steward approved, bound by its content hash,
is ever published.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from govlake.core import config
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings


class GrantedColumn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    masking: str | None = None


class ContractSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{2,63}$")
    provider: str
    consumer: str
    purpose: str
    legal_basis: str = Field(min_length=3)
    requester: str
    dataset: str = Field(pattern=r"^analytic\.[a-z][a-z0-9_]*$")
    table: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    columns: list[GrantedColumn] = Field(min_length=1)
    row_filter: str | None = None
    valid_from: datetime
    valid_to: datetime
    retention_days: int = Field(gt=0)

    @model_validator(mode="after")
    def _window(self) -> "ContractSpec":
        if self.valid_from.tzinfo is None or self.valid_to.tzinfo is None:
            raise ValueError("valid_from and valid_to need a timezone offset")
        return self  # an empty window is rule `window-empty` in validate.py

    @property
    def consumer_schema(self) -> str:
        return f"app_{self.consumer}"

    def content_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()

    def active_at(self, when: datetime) -> bool:
        return self.valid_from <= when < self.valid_to


def parse(text: str, origin: str) -> ContractSpec:
    """A specification from YAML text; errors name `origin` and each bad field."""
    data = config.parse_yaml(text, f"contract `{origin}`")
    name = data.get("id", origin) if isinstance(data, dict) else origin
    return config.validate(ContractSpec, data, f"contract `{name}` ({origin})")


@lru_cache(maxsize=8192)
def parse_stored(text: str, origin: str) -> ContractSpec:
    """`parse` for a specification the governance store keeps (its text is immutable per content
    hash, and a store holds thousands): parsed once per process. The object is shared: read it,
    never change it (`ContractRecord.spec` hands out a copy)."""
    return parse(text, origin)


def load_contract(path: Path) -> ContractSpec:
    if not path.is_file():
        raise ConfigError(f"no contract file `{path}`")
    spec = parse(config.read_text(path, "contract file"), str(path))
    if spec.id != path.stem:
        raise ConfigError(f"contract file `{path}`: `id` is `{spec.id}` but the file is `{path.stem}.yaml`")
    return spec


def load_all(settings: Settings) -> list[ContractSpec]:
    return [load_contract(p) for p in sorted(settings.path("policies", "contracts").glob("*.yaml"))]
