"""`govlake up|down|status`: the local services (Trino with its audit receiver, and the console)."""
from __future__ import annotations

from govlake.cli import options
from govlake.cli._output import emit_json, info


def register(sub) -> None:
    p = sub.add_parser("up", help="start the local services and wait until they are healthy")
    options.add_json(p)
    p.set_defaults(func=up)
    p = sub.add_parser("down", help="stop the local services")
    options.add_json(p)
    p.set_defaults(func=down)
    p = sub.add_parser("status", help="report the local services")
    options.add_json(p)
    p.set_defaults(func=status)
    register_fetch(sub)


def _show(statuses, as_json: bool) -> None:
    if as_json:
        emit_json({"services": [s.as_dict() for s in statuses]})
        return
    for s in statuses:
        mem = f", {s.memory_mb:.0f} MiB RSS" if s.memory_mb else ""
        pid = f", pid {s.pid}" if s.pid else ""
        print(f"{s.name:8} {s.state:10} {s.url}{pid}{mem}{' — ' + s.detail if s.detail else ''}")


def up(args) -> int:
    from govlake.context import Context

    statuses = Context().start_services(log=info)
    _show(statuses, args.json)
    return 0 if all(s.state in ("running", "external") for s in statuses) else 1


def down(args) -> int:
    from govlake.context import Context

    _show(Context().stop_services(), args.json)
    return 0


def status(args) -> int:
    from govlake.context import Context

    report = Context().services()
    health, contracts = report.ingest, report.contracts
    if args.json:
        emit_json({"services": [s.as_dict() for s in report.services], "ingest": health, "contracts": contracts})
    else:
        _show(report.services, False)
        if contracts:
            print("contracts " + ", ".join(f"{n} {state}" for state, n in sorted(contracts.items())))
        if health:
            print(f"ingest   {health['batches']} batches, {health['quarantined_rows']} rows quarantined, "
                  f"{health['quality_failed_batches']} batches failed the quality gate, {health['unbalanced_batches']} unbalanced")
            for f in health["quality_failures"]:
                print(f"  quality gate failed: {f['department']} {f['entity']} batch {f['batch_id']}")
            if health["classification_flagged_columns"] is not None:
                print(f"  {health['classification_flagged_columns']} columns flagged: detected personal information above their classification")
            for f in health["classification_flags"]:
                print(f"  classification flag: {f['entity']}.{f['column_name']} declared {f['declared_level']}, "
                      f"detected {f['proposed_level']} ({f['department']}); review with `govlake classify base.{f['entity']} --propose`")
    return 0 if report.healthy else 1


def register_fetch(sub) -> None:
    p = sub.add_parser("fetch", help="download and verify the Java artifacts (Delta jars, Trino server) into the cache")
    p.set_defaults(func=fetch)


def fetch(args) -> int:
    from govlake.context import Context

    jars, trino = Context().fetch_artifacts(log=info)
    for path in jars:
        print(f"spark jar  {path}")
    print(f"trino      {trino}")
    return 0
