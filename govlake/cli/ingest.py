"""`govlake ingest --department ID [--landing DIR] [--json]`: one department's new files into base."""
from __future__ import annotations

from pathlib import Path

from govlake.cli import options
from govlake.cli._output import emit_json, info
from govlake.cli.run import print_batch


def register(sub) -> None:
    p = sub.add_parser("ingest", help="ingest a department's new landing files into the base tier")
    p.add_argument("--department", required=True)
    p.add_argument("--landing", type=Path, help="landing folder (default <state>/landing/<department>)")
    options.add_time(p, "--run-time", help="logical time, ISO 8601 with offset (default: now)")
    options.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.context import Context

    ctx = Context()
    landing = args.landing or ctx.landing_of(args.department)
    run_time = options.when(args)
    info("starting Spark")
    result = ctx.ingest(args.department, run_time, landing)
    if result is None:
        dept = args.department
        out = {"batch_id": None, "department": dept, "files": [], "read": 0, "accepted": 0, "quarantined": 0, "duplicates": 0}
        emit_json(out) if args.json else print(f"ingest {dept}: no new files in {landing}")
        return 0
    if args.json:
        emit_json(result.as_dict())
    else:
        print_batch(result)
    return 0
