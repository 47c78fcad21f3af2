"""`govlake retention run [--at ISO] [--dry-run] [--json]`: delete the rows past their retention
period (policies/retention.yaml; application tables: the contract's `retention_days`), rewrite
their files and vacuum; `--dry-run` only counts the rows that would go. Exits 1 if any table failed."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from govlake.cli import options
from govlake.cli._output import emit_json, info


def register(sub) -> None:
    p = sub.add_parser("retention", help="enforce the retention policy: delete expired rows, purge their bytes, vacuum")
    p.add_argument("action", choices=("run",))
    options.add_time(p, "--at", help="run time, ISO 8601 with offset (default: now); rows older than it minus their period go")
    p.add_argument("--dry-run", action="store_true", help="count the rows that would be deleted; change nothing")
    options.add_json(p)
    p.set_defaults(func=run)


@contextmanager
def _stdout_to_stderr():
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def run(args) -> int:
    from govlake.context import Context

    ctx = Context()
    when = options.when(args)  # a time without offset fails here, before Spark starts
    info(f"retention {'dry run' if args.dry_run else 'run'} at {when.isoformat()} (Spark + Delta)")
    with _stdout_to_stderr():  # the JVM started here inherits it: Delta's VACUUM prints to its stdout
        report = ctx.enforce_retention(when, dry_run=args.dry_run)
    if args.json:
        emit_json(report.as_dict())
    else:
        for name, t in report.tables.items():
            rule = f"{t['level'] or 'contract'} {t['days']}d by {t['time_column']} < {t['cutoff'][:19]}"
            if args.dry_run:
                print(f"{name:<48} {rule:<52} would delete {t['would_delete']:>8}")
            else:
                print(f"{name:<48} {rule:<52} deleted {t['rows_deleted']!s:>8}  files vacuumed {t['files_removed']!s:>4}")
        for name, reason in report.skipped.items():
            print(f"{name:<48} skipped: {reason}")
        for name, error in report.failed.items():
            print(f"{name:<48} FAILED: {error}")
        if not args.dry_run:
            print(f"deleted files kept for time travel: {report.retain_hours} h; audit entry `retention.run` recorded")
    return 1 if report.failed else 0
