"""Options several commands share, declared once: `--json`, `--as`, and the times `--run-time`
and `--at` (ISO 8601 with an offset, one rule for all: govlake/core/times.py)."""
from __future__ import annotations

from datetime import datetime

from govlake.core import times


def add_json(p, help: str = "machine-readable output on stdout") -> None:
    p.add_argument("--json", action="store_true", help=help)


def add_as(p, help: str = "acting identity (catalog/identities.yaml)", required: bool = False, default: str | None = None) -> None:
    p.add_argument("--as", dest="user", required=required, default=default, help=help)


def add_time(p, flag: str = "--run-time", help: str = "logical time, ISO 8601 with offset (default: now)") -> None:
    p.add_argument(flag, dest="when_text", metavar="ISO", help=help)
    p.set_defaults(when_flag=flag)


def when(args) -> datetime:
    """The time given with `add_time`'s flag, as UTC; now when it was not given."""
    return times.parse(args.when_text, args.when_flag) if args.when_text else times.now()
