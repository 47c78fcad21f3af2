"""`govlake generate`: realistic landing files in a department's own format, optionally with
faults, or `--departments N` synthetic departments (registry files plus feeds) for scale tests."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from govlake.cli import options
from govlake.cli._output import emit_json
from govlake.core.settings import load_settings
from govlake.departments import generator, registry, synthetic

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
    p.add_argument("--faults", default=",".join(generator.ROW_FAULTS + generator.FILE_FAULTS),
                   help="comma-separated fault kinds to inject")
    p.add_argument("--start", default=DEFAULT_START, help="start of the 24 h window (ISO 8601 with offset)")
    options.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    settings = load_settings()
    start = datetime.fromisoformat(args.start)
    if start.tzinfo is None:
        raise SystemExit("--start needs a UTC offset, e.g. 2026-11-20T00:00:00+08:00")
    faults = tuple(f.strip() for f in args.faults.split(",") if f.strip())
    unknown = set(faults) - set(generator.ROW_FAULTS + generator.FILE_FAULTS)
    if unknown:
        raise SystemExit(f"unknown fault kind(s) {sorted(unknown)}; known: {', '.join(generator.ROW_FAULTS + generator.FILE_FAULTS)}")
    if args.departments:
        depts = synthetic.write_departments(args.out / "registry", args.departments, seed=args.seed)
        feeds = {d.id: generator.generate(d, args.out / "landing" / d.id, rows=args.rows, seed=args.seed, start=start,
                                          fault_rate=args.fault_rate, faults=faults) for d in depts}
    else:
        dept = registry.get(settings, args.department)
        feeds = {dept.id: generator.generate(dept, args.out, rows=args.rows, seed=args.seed, start=start,
                                             fault_rate=args.fault_rate, faults=faults)}
    out = {d: {"files": {k: str(v) for k, v in f.paths.items()}, "faults": dict(f.faults)} for d, f in feeds.items()}
    if args.json:
        emit_json(out)
    else:
        for d, f in out.items():
            print(f"{d:12} {' '.join(f['files'].values())}" + (f"  faults: {f['faults']}" if f["faults"] else ""))
    return 0
