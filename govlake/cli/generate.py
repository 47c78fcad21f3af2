"""`govlake generate`: realistic landing files in a department's own format, optionally with
faults, or `--departments N` synthetic departments (registry files plus feeds) for scale tests."""
from __future__ import annotations

from pathlib import Path

from govlake.cli import options
from govlake.cli._output import emit_json
from govlake.core import times

DEFAULT_START = "2026-11-20T00:00:00+00:00"


def register(sub) -> None:
    p = sub.add_parser("generate", help="write realistic landing files in a department's own format")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--department", help="a registered department")
    who.add_argument("--departments", type=int, metavar="N", help="create N synthetic departments (registry files + feeds)")
    p.add_argument("--out", required=True, type=Path, help="landing folder (with --departments: a root with registry/ and landing/)")
    p.add_argument("--rows", type=int, default=1000, help="detections per department")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fault-rate", type=float, default=0.0, help="share of detection rows carrying a fault (0-1)")
    p.add_argument("--faults", help="comma-separated fault kinds to inject (default: every kind the generator knows)")
    p.add_argument("--start", default=DEFAULT_START, help="start of the 24 h window (ISO 8601 with offset)")
    options.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.context import Context

    start = times.parse(args.start, "--start")
    faults = None if args.faults is None else tuple(f.strip() for f in args.faults.split(",") if f.strip())
    feeds = Context().generate_feeds(args.out, department=args.department, synthetic_departments=args.departments or 0, rows=args.rows,
                                     seed=args.seed, start=start, fault_rate=args.fault_rate, faults=faults)
    out = {d: {"files": {k: str(v) for k, v in f.paths.items()}, "faults": dict(f.faults)} for d, f in feeds.items()}
    if args.json:
        emit_json(out)
    else:
        for d, f in out.items():
            print(f"{d:12} {' '.join(f['files'].values())}" + (f"  faults: {f['faults']}" if f["faults"] else ""))
    return 0
