"""The policy files under `policies/`, each read into its typed model (unknown fields refused,
errors naming the file and the field) once per change of the file (cached by mtime).

classification.yaml -> ClassificationPolicy, masking.yaml -> MaskingPolicy, purposes.yaml ->
PurposesPolicy, fairness.yaml -> FairnessPolicy. Retention and erasure policies have their own
models beside the operations that use them (compliance/retention.py, compliance/erasure.py).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from govlake.core import config
from govlake.core.settings import Settings
from govlake.domain import levels

Level = Literal["L1", "L2", "L3", "L4"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelEntry(_Strict):
    id: Level
    rank: int
    grade: str
    name: str
    description: str


class ClassificationPolicy(_Strict):
    levels: list[LevelEntry]
    flags: dict[str, str] = Field(default_factory=dict)
    pii_types: dict[str, Level]
    deidentification: dict[str, Level] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ladder(self) -> "ClassificationPolicy":
        found = [lv.id for lv in sorted(self.levels, key=lambda lv: lv.rank)]
        if tuple(found) != levels.LEVELS:
            raise ValueError(f"`levels` ranked {found}; govlake's ladder is {list(levels.LEVELS)} (domain/levels.py)")
        return self


class MaskingMethod(_Strict):
    description: str
    result_level: Level | None = None  # the highest level a column can have after the method
    applies_to: str = "any"            # column types it accepts, `|`-separated, or `any`
    cell_size_deg: float | None = Field(None, gt=0)  # grid
    width: int | None = Field(None, gt=0)            # age_band
    k: int | None = Field(None, ge=1)                # small_group_suppression


class MaskingPolicy(_Strict):
    methods: dict[str, MaskingMethod]

    @model_validator(mode="after")
    def _parameters(self) -> "MaskingPolicy":
        for name, fld in (("grid", "cell_size_deg"), ("small_group_suppression", "k")):
            if name in self.methods and getattr(self.methods[name], fld) is None:
                raise ValueError(f"method `{name}` needs `{fld}`")
        return self


class Purpose(_Strict):
    description: str
    categories: list[str]
    max_level: Level


class PurposesPolicy(_Strict):
    purposes: dict[str, Purpose]


class FairnessPolicy(_Strict):
    low_confidence_threshold: float = Field(gt=0, le=1)
    gap_threshold_pp: float = Field(ge=0)
    metrics: list[str]
    dimensions: list[str]


FILES: dict[str, type[BaseModel]] = {
    "classification.yaml": ClassificationPolicy, "masking.yaml": MaskingPolicy,
    "purposes.yaml": PurposesPolicy, "fairness.yaml": FairnessPolicy,
}


@lru_cache(maxsize=16)
def _read(path: Path, mtime_ns: int, model: type[BaseModel]) -> BaseModel:
    return config.load_model(path, model, "policy file")


def load(settings: Settings, name: str):
    """`policies/<name>` as its typed model."""
    path = settings.path("policies", name)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        mtime = -1  # load_model names the missing file
    return _read(path, mtime, FILES[name])


def classification(settings: Settings) -> ClassificationPolicy:
    return load(settings, "classification.yaml")


def masking_methods(settings: Settings) -> dict[str, MaskingMethod]:
    """`policies/masking.yaml`: method -> parameters, result level, applicable types."""
    return load(settings, "masking.yaml").methods


def purposes(settings: Settings) -> dict[str, Purpose]:
    """`policies/purposes.yaml`: purpose -> data categories and highest level."""
    return load(settings, "purposes.yaml").purposes


def fairness(settings: Settings) -> FairnessPolicy:
    """`policies/fairness.yaml`: low-confidence threshold, gap threshold (percentage points),
    metrics and dimensions compared by the algorithm-bias monitor."""
    return load(settings, "fairness.yaml")


def deidentifications(settings: Settings) -> dict[str, str]:
    """Transformation -> the level it lowers a column to at most."""
    out = {m: spec.result_level for m, spec in masking_methods(settings).items() if spec.result_level}
    out.update(classification(settings).deidentification)
    return out
