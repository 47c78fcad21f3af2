"""The policy files under `policies/`, read once per change of the file (cached by mtime)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from govlake.core.errors import ConfigError
from govlake.core.settings import Settings


@lru_cache(maxsize=16)
def _read(path: Path, mtime: float) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load(settings: Settings, name: str) -> dict:
    path = settings.path("policies", name)
    return _read(path, path.stat().st_mtime)


def masking_methods(settings: Settings) -> dict:
    """`policies/masking.yaml`: method -> parameters, result level, applicable types."""
    return load(settings, "masking.yaml")["methods"]


def purposes(settings: Settings) -> dict:
    """`policies/purposes.yaml`: purpose -> data categories and highest level."""
    return load(settings, "purposes.yaml")["purposes"]


def fairness(settings: Settings) -> dict:
    """`policies/fairness.yaml`: low-confidence threshold, gap threshold (percentage points),
    metrics and dimensions compared by the algorithm-bias monitor."""

    data = load(settings, "fairness.yaml") or {}
    missing = [k for k in ("low_confidence_threshold", "gap_threshold_pp", "metrics", "dimensions") if k not in data]
    if missing:
        raise ConfigError(f"policy file `policies/fairness.yaml` lacks {', '.join(f'`{m}`' for m in missing)}")
    if not 0 < float(data["low_confidence_threshold"]) <= 1 or float(data["gap_threshold_pp"]) < 0:
        raise ConfigError("policy file `policies/fairness.yaml`: `low_confidence_threshold` must be in (0, 1] and `gap_threshold_pp` >= 0")
    return data


def deidentifications(settings: Settings) -> dict[str, str]:
    """Transformation -> the level it lowers a column to at most."""
    out = {m: spec["result_level"] for m, spec in masking_methods(settings).items() if spec.get("result_level")}
    out.update(load(settings, "classification.yaml").get("deidentification") or {})
    return out
