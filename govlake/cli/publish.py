"""`govlake publish [--json]`: Trino rules from the active contracts, then their application
tables (granted columns, masked, row-filtered), retraction of the others, and Trino's catalog."""
from __future__ import annotations

from govlake.cli import options
from govlake.cli._output import emit_json, info


def register(sub) -> None:
    p = sub.add_parser("publish", help="materialise the application tier for every active contract; compile Trino's rules")
    options.add_time(p, "--at", help="logical time, ISO 8601 with offset (default: now)")
    p.add_argument("--no-serve", action="store_true", help="do not register the tables in Trino (the rules are still written)")
    options.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.context import Context

    ctx = Context()
    when = options.when(args)
    info("publishing the application tier (Spark + Delta)")
    published, catalog = ctx.publish(when, serve=not args.no_serve)
    if args.json:
        emit_json({"published": [p.__dict__ for p in published], "catalog": catalog})
    else:
        for p in published:
            print(f"{p.schema}.{p.table:<32} {p.rows:>8} rows  contract {p.contract} (spec {p.spec_hash[:12]})")
        if catalog:
            print(f"registered {catalog.get('registered', [])}; retracted {catalog.get('unregistered', [])}")
    return 0
