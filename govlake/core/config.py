"""The one way a YAML file becomes a typed object: read, parse, validate, and on any problem a
ConfigError that names the file and each bad field.

    policy = config.load_model(path, RetentionPolicy, "retention policy")
    # ConfigError: retention policy `policies/retention.yaml` is invalid: field `periods.L5`: ...
"""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from govlake.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def fields(exc: ValidationError) -> str:
    """`field `a.b`: problem; field `c`: problem` from a pydantic error."""
    return "; ".join(f"field `{'.'.join(map(str, e['loc'])) or '(file)'}`: {e['msg']}" for e in exc.errors())


def parse_yaml(text: str, what: str) -> object:
    """YAML text -> data; `what` names the source in the error (e.g. "contract `x.yaml`")."""
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} is not valid YAML: {exc}") from exc


MAX_FILE_BYTES = 1 << 20  # a registry, policy, schema or contract file is a few kilobytes


def read_text(path: Path, what: str, *, hint: str = "") -> str:
    """A file a person edits, as text: missing, too large or not UTF-8 is a named error."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(f"{what} `{path}` is {size} bytes; at most {MAX_FILE_BYTES} are read (is it the right file?)")
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"no {what}: expected `{path}`{hint}") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{what} `{path}` is a directory, not a file") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} `{path}` is not UTF-8 text (byte {exc.start} cannot be decoded); save it as UTF-8") from None


def read_yaml(path: Path, what: str, *, hint: str = "") -> object:
    return parse_yaml(read_text(path, what, hint=hint), f"{what} `{path}`")


def validate(model: type[M], data: object, what: str) -> M:
    """Data -> `model`; `what` names the source (e.g. "retention policy `policies/retention.yaml`")."""
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must be a mapping of fields, found {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{what} is invalid: {fields(exc)}") from exc


def load_model(path: Path, model: type[M], what: str, *, hint: str = "") -> M:
    """Read `path` into `model`: a missing file, bad YAML and each invalid field are named."""
    return validate(model, read_yaml(path, what, hint=hint), f"{what} `{path}`")
