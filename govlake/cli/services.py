"""`govlake up|down|status`: the local services (Trino now; the console and Airflow later)."""
from __future__ import annotations

from govlake.cli import options
from govlake.cli._output import emit_json, info
from govlake.core.settings import load_settings


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
    from govlake.services import trino

    settings = load_settings()
    st = trino.start(settings, log=info)
    _show([st], args.json)
    return 0 if st.state in ("running", "external") else 1


def down(args) -> int:
    from govlake.services import trino

    settings = load_settings()
    _show([trino.stop(settings)], args.json)
    return 0


def status(args) -> int:
    from govlake.services import trino

    settings = load_settings()
    st = trino.status(settings)
    health = ingest_health(settings) if st.state in ("running", "external") else None
    contracts = contract_counts(settings)
    if args.json:
        emit_json({"services": [st.as_dict()], "ingest": health, "contracts": contracts})
    else:
        _show([st], False)
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
    return 0 if st.state in ("running", "external", "stopped") else 1


def contract_counts(settings) -> dict[str, int]:
    """Sharing contracts by state, from the governance store (no services needed)."""
    from collections import Counter

    from govlake.contracts import workflow

    return dict(Counter(r.status for r in workflow.list_all(settings)))


def ingest_health(settings) -> dict | None:
    """Batch accounting and quality-gate failures from base.batch_log, through Trino."""
    from govlake.core.errors import GovlakeError
    from govlake.services import sql

    try:
        totals = sql.query(
            settings, "etl_service",
            "SELECT count(DISTINCT batch_id), coalesce(sum(quarantined), 0), "
            "count(DISTINCT CASE WHEN quality_status = 'failed' THEN batch_id END), "
            "count(DISTINCT CASE WHEN balanced <> 'true' THEN batch_id END) FROM base.batch_log",
        ).rows[0]
        failed = sql.query(
            settings, "etl_service",
            "SELECT department, entity, batch_id FROM base.batch_log WHERE quality_status = 'failed' ORDER BY ingested_at DESC LIMIT 10",
        ).as_dicts()
    except GovlakeError:
        return None  # nothing ingested yet (no batch log table)
    try:
        flags = sql.query(settings, "etl_service",
                          "SELECT department, entity, column_name, declared_level, proposed_level FROM base.classification_flags "
                          "ORDER BY flagged_at DESC LIMIT 10").as_dicts()
        flagged = sql.query(settings, "etl_service", "SELECT count(DISTINCT entity || '.' || column_name) FROM base.classification_flags").rows[0][0]
    except GovlakeError:
        flags, flagged = [], None  # not registered yet (the next run registers it)
    return {"batches": totals[0], "quarantined_rows": totals[1], "quality_failed_batches": totals[2],
            "unbalanced_batches": totals[3], "quality_failures": failed,
            "classification_flagged_columns": flagged, "classification_flags": flags}


def register_fetch(sub) -> None:
    p = sub.add_parser("fetch", help="download and verify the Java artifacts (Delta jars, Trino server) into the cache")
    p.set_defaults(func=fetch)


def fetch(args) -> int:
    from govlake.platform import artifacts

    settings = load_settings()
    for path in artifacts.spark_jars(settings, log=info):
        print(f"spark jar  {path}")
    print(f"trino      {artifacts.trino_install(settings, log=info)}")
    return 0
