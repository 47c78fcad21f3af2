from __future__ import annotations

import pytest
import yaml

from govlake.core.errors import ConfigError
from govlake.departments import registry


def _write(tmp_path, settings, **changes):
    data = yaml.safe_load(settings.path("catalog", "departments", "traffic.yaml").read_text())
    data.update(changes)
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_bad_timezone_names_file_field_and_problem(tmp_path, settings):
    path = _write(tmp_path, settings, timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match=r"traffic.yaml.*field `timezone`.*Mars/Olympus"):
        registry.load_department(path)


def test_unknown_format_and_coordinate_system_are_named(tmp_path, settings):
    path = _write(tmp_path, settings, coordinate_system="EPSG:9999")
    with pytest.raises(ConfigError, match=r"field `coordinate_system`"):
        registry.load_department(path)
    data = yaml.safe_load(settings.path("catalog", "departments", "traffic.yaml").read_text())
    data["sources"]["detections"]["format"] = "xlsx"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(ConfigError, match=r"field `sources.detections.format`"):
        registry.load_department(path)


def test_id_must_match_file_name(tmp_path, settings):
    path = _write(tmp_path, settings)
    renamed = path.rename(tmp_path / "other.yaml")
    with pytest.raises(ConfigError, match=r"`id` is `traffic` but the file is named `other.yaml`"):
        registry.load_department(renamed)


def test_unknown_department_lists_registered_ones(settings):
    with pytest.raises(ConfigError, match=r"unknown department `nope`; registered: police, traffic, transport"):
        registry.get(settings, "nope")
