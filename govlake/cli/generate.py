"""`govlake generate --department ID --out DIR [--rows N] [--seed S]`: sample landing files."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from govlake.cli._output import emit_json
from govlake.departments import generator, registry
from govlake.settings import load_settings

DEFAULT_START = "2026-11-20T00:00:00+00:00"


def register(sub) -> None:
    p = sub.add_parser("generate", help="write realistic landing files in a department's own format")
    p.add_argument("--department", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", default=DEFAULT_START, help="start of the 24 h window (ISO 8601 with offset)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    settings = load_settings()
    dept = registry.get(settings, args.department)
    start = datetime.fromisoformat(args.start)
    if start.tzinfo is None:
        raise SystemExit("--start needs a UTC offset, e.g. 2026-11-20T00:00:00+08:00")
    paths = generator.generate(dept, args.out, rows=args.rows, seed=args.seed, start=start)
    if args.json:
        emit_json({k: str(v) for k, v in paths.items()})
    else:
        for k, v in paths.items():
            print(f"{k:11} {v}")
    return 0
