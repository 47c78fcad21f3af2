"""`govlake keys status|rotate|retire`: the token keys (ids and overlap ends, never a key)."""
from __future__ import annotations

from govlake.cli import options
from govlake.cli._output import emit_json, info


def register(sub) -> None:
    p = sub.add_parser("keys", help="token keys: status, rotate (re-tokenises the tiers), retire earlier keys after their overlap")
    p.add_argument("action", choices=("status", "rotate", "retire"))
    p.add_argument("--overlap", default="7d", help="rotate: how long the earlier key stays held (erasure by its tokens works), e.g. 7d (default)")
    p.add_argument("--no-serve", action="store_true", help="rotate: do not register the re-published tables in Trino")
    options.add_time(p, "--at", help="logical time, ISO 8601 with offset (default: now)")
    options.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.context import Context
    from govlake.core import times

    ctx = Context()
    when = options.when(args)
    if args.action == "status":
        keys = ctx.key_status()
        if args.json:
            emit_json({"keys": keys})
        for k in [] if args.json else keys:
            print(f"{k['key_id']:6} {'active' if k['active'] else 'held until ' + str(k['retire_after'])}  ({k['source']})")
        return 0
    if args.action == "retire":
        gone = ctx.retire_keys(when)
        emit_json({"retired": gone}) if args.json else print(f"retired: {', '.join(gone) or 'none due'}")
        return 0
    overlap = times.parse_duration(args.overlap, "--overlap")
    info("rotating the token key and re-tokenising the analytic and application tiers (Spark + Delta)")
    result = ctx.rotate_keys(when, overlap, serve=not args.no_serve)
    if args.json:
        emit_json(result)
    else:
        print(f"token key {result['from']} -> {result['to']}; {result['from']} held until {result['retire_after']}")
        for table, n in {**{f'analytic.{t}': n for t, n in result['analytic_rows'].items()}, **result['application_tables']}.items():
            print(f"  re-tokenised {table}: {n} rows")
    return 0
