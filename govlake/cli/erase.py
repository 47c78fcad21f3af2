"""`govlake erase (--subject-token T | --identifier-stdin) [--request REF] [--dry-run] [--json]`:
remove one data subject's rows from every tier lineage says holds them, purge the bytes and time
travel, check that no table still holds the subject's values, and record it in the audit
(`erasure.run`). The identifier itself is only ever read from standard input (never a command-line
argument, which shell history and process listings keep) and never printed; the token can be
read from standard input too (`--subject-token -`). Exits 1 when a table
failed or a value is still found."""
from __future__ import annotations

import sys

from govlake.cli import options
from govlake.cli._output import emit_json, info
from govlake.core.errors import ConfigError


def register(sub) -> None:
    p = sub.add_parser("erase", help="erase a data subject from every tier (lineage-guided), purge time travel, audit it")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--subject-token", metavar="T", help="the subject's platform token, e.g. an analytic plate_token value; `-` reads it from standard input")
    who.add_argument("--identifier-stdin", action="store_true", help="read the raw identifier (e.g. a plate) from standard input")
    p.add_argument("--request", metavar="REF", help="the erasure request's reference (ticket), recorded in the audit")
    p.add_argument("--dry-run", action="store_true", help="count the rows that would change; change nothing")
    options.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.cli.retention import _stdout_to_stderr
    from govlake.context import Context

    ctx = Context()
    identifier = None
    if args.identifier_stdin:
        identifier = sys.stdin.readline().strip()
        if not identifier:
            raise ConfigError("--identifier-stdin read an empty line; pipe the identifier in, e.g. `govlake erase --identifier-stdin < request.txt`")
        token = ctx.subject_token(identifier=identifier)
    elif args.subject_token == "-":  # kept out of process listings and shell history
        token = ctx.subject_token(token=sys.stdin.readline())
    else:
        token = ctx.subject_token(token=args.subject_token)
    info(f"erasure {'dry run ' if args.dry_run else ''}of subject {ctx.subject_fingerprint(token)} (Spark + Delta)")
    with _stdout_to_stderr():  # Delta's VACUUM prints to the JVM's stdout
        report = ctx.erase(token, identifier=identifier, dry_run=args.dry_run, request=args.request)
    if args.json:
        emit_json(report.as_dict())
    else:
        print(f"subject {report.subject}: identifier {'found' if report.identifier_found else 'not found'} in base")
        for name, t in report.tables.items():
            what = ", ".join(t["columns"] + [f"{c} (text)" for c in t["free_text"]])
            if args.dry_run:
                print(f"  {name:<56} {what:<32} would change {t['would_change']:>6}")
            else:
                print(f"  {name:<56} {what:<32} deleted {t['rows_deleted']:>6}  redacted {t['rows_redacted']:>4}  files purged {t['files_removed']:>3}")
        for column, why in report.not_erased.items():
            print(f"  not erased: {column}: {why}")
        for column in report.from_contracts:
            print(f"  found from its contract, not lineage (check the lineage of that table): {column}")
        for name, error in report.failed.items():
            print(f"  FAILED: {name}: {error}")
        for name, n in report.residue.items():
            print(f"  STILL HOLDS the subject's values: {name}: {n} row(s)")
        for path, n in report.log_mentions.items():
            print(f"  transaction log of {path}: {n} file(s) still name a value (dropped with the log's retention)")
        if report.landing_files:
            print(f"  landing files holding the identifier (the departments' deliveries, kept whole): {len(report.landing_files)}")
            for f in report.landing_files:
                print(f"    {f}")
        if report.audit_entries_quoting:
            print(f"  audit entries quoting the identifier (append-only evidence, compliance officers only): {report.audit_entries_quoting}")
        if not args.dry_run:
            verdict = ("complete: no table holds the subject's values; time travel purged" if report.complete else
                       "INCOMPLETE: see the FAILED, STILL HOLDS and `not searched` lines above; the run can be repeated")
            print(f"erasure {verdict}; audit entry `erasure.run` recorded ({report.seconds} s)")
        else:
            print(f"dry run: nothing removed; audit entry `erasure.plan` recorded ({report.seconds} s)")
    return 0 if report.complete or args.dry_run else 1
