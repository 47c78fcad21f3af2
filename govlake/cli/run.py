"""`govlake run`: the main job (landing -> base -> analytic -> application -> Trino)."""
from __future__ import annotations

from pathlib import Path

from govlake.cli import options
from govlake.cli._output import emit_json, info


def register(sub) -> None:
    p = sub.add_parser("run", help="run the main job end to end")
    p.add_argument("--landing", type=Path, help="landing root with one folder per department (default <state>/landing)")
    options.add_time(p, "--run-time", help="logical time of the run, ISO 8601 with offset (default: now)")
    p.add_argument("--no-serve", action="store_true", help="do not register tables in Trino")
    options.add_json(p)
    p.set_defaults(func=run)


def print_batch(b) -> None:
    t = b.totals
    gate = "failed" if any(e.quality_status == "failed" for e in b.entities) else "passed"
    print(f"ingest {b.department:10} batch {b.batch_id}: read {t['read']}, accepted {t['accepted']}, "
          f"quarantined {t['quarantined']}, duplicates {t['duplicates']}, quality gate {gate}")
    for e in b.entities:
        if e.quality_status == "failed":
            print(f"  quality gate FAILED for {e.entity}: {', '.join(e.quality_failures)} (batch kept in base, not promoted)")
        for name, reason in e.rejected_files.items():
            print(f"  rejected file {name}: {reason} (kept in _rejected/)")
        if e.missing_fields or e.extra_fields:
            print(f"  schema drift in {e.entity}: missing {e.missing_fields or '-'}, new {e.extra_fields or '-'}")


def print_report(report) -> None:
    for b in report.batches:
        print_batch(b)
    if not report.batches and not report.failures:
        print("ingest: no new landing files")
    for dept, err in report.failures.items():
        print(f"ingest {dept:10} FAILED: {err}")
    for table, n in report.analytic_rows.items():
        print(f"analytic.{table}: {n} rows")
    for p in report.published:
        print(f"published {p.schema}.{p.table} ({p.rows} rows) for contract {p.contract}")
    if report.catalog:
        print(f"Trino catalog: {len(report.catalog['registered'])} registered, {len(report.catalog['unregistered'])} "
              f"retracted, {len(report.catalog['kept'])} unchanged")


def run(args) -> int:
    from govlake.context import Context

    ctx = Context()
    run_time = options.when(args)
    info("starting Spark")
    ctx.spark  # started here, after saying so
    report = ctx.run(run_time, landing_root=args.landing, serve=not args.no_serve)
    if args.json:
        emit_json(report.as_dict())
    else:
        print_report(report)
    return 1 if report.failures else 0
