"""Shared output helpers for CLI modules."""
from __future__ import annotations

import json
import sys


def emit_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def info(msg: str) -> None:
    """Progress for people: stderr, so stdout stays clean for results."""
    print(msg, file=sys.stderr, flush=True)
