"""`govlake demo`: the whole product on embedded defaults, as `make demo` runs it.

Starts Trino, writes sample feeds for the registered departments (once; reused afterwards), runs
the main job, and shows what analysts of two departments and the platform operator see.
"""
from __future__ import annotations

import time

from govlake.cli._output import info
from govlake.cli.generate import DEFAULT_START
from govlake.cli.run import print_report
from govlake.core import times
from govlake.core.errors import QueryError

DEMO_ROWS = 2000
DEMO_FAULT_RATE = 0.01  # the demo feeds carry realistic faults; they end in base.quarantine
DEMO_RUN_TIME = "2026-11-21T00:05:00+00:00"

EXAMPLES = [
    (
        "li_transport_analyst",
        "Transport analyst: traffic-police vehicle flows granted by contract traffic-to-transport-flows",
        "SELECT region_code, object_type, sum(detections) AS detections, count(*) AS hours "
        "FROM app_transport.traffic_flows_hourly GROUP BY region_code, object_type ORDER BY detections DESC",
    ),
    (
        "zhou_traffic_analyst",
        "Traffic analyst: vehicles (pseudonymous plate tokens) seen most often by police cameras",
        "SELECT substr(plate_token, 1, 19) || '…' AS plate_token, count(*) AS sightings, "
        "count(DISTINCT grid_cell) AS cells, min(observed_hour) AS first_hour "
        "FROM app_traffic.police_vehicle_sightings GROUP BY plate_token ORDER BY sightings DESC, plate_token LIMIT 5",
    ),
    (
        "ops_admin",
        "Platform operator: why rows were quarantined (nothing a department sends is lost)",
        "SELECT department, reason, count(*) AS row_count, min_by(source_file || ':' || coalesce(cast(line AS varchar), '?'), line) AS first_at "
        "FROM base.quarantine GROUP BY department, reason ORDER BY department, reason",
    ),
    (
        "ops_admin",
        "Platform operator: the tiers behind them",
        "SELECT 'base.detections' AS table_name, count(*) AS row_count FROM base.detections UNION ALL "
        "SELECT 'base.quarantine', count(*) FROM base.quarantine UNION ALL "
        "SELECT 'analytic.detections_deidentified', count(*) FROM analytic.detections_deidentified UNION ALL "
        "SELECT 'analytic.flow_hourly', count(*) FROM analytic.flow_hourly UNION ALL "
        "SELECT 'base.events', count(*) FROM base.events UNION ALL "
        "SELECT 'analytic.events_deidentified', count(*) FROM analytic.events_deidentified ORDER BY 1",
    ),
    (
        "zhao_compliance",
        "Compliance officer: incident notes in the analytic tier, personal information scrubbed",
        "SELECT department, category, count(*) AS reports, min(note_scrubbed) AS example_note "
        "FROM analytic.events_deidentified WHERE event_type = 'report' GROUP BY department, category ORDER BY department, category",
    ),
    ("li_transport_analyst", "Who Trino thinks the analyst is", "SELECT current_user AS user_name, current_groups() AS user_groups"),
]

# What the access rules refuse (each must fail; the demo says so if one does not).
DENIED = [
    ("li_transport_analyst", "Transport analyst tries the base tier, which no contract grants", "SELECT plate_no FROM base.detections LIMIT 1"),
    ("li_transport_analyst", "...and another department's application table", "SELECT * FROM app_traffic.police_vehicle_sightings LIMIT 1"),
    ("zhou_traffic_analyst", "Traffic analyst tries a metadata table of its own granted table (per-column min/max)",
     'SELECT * FROM app_traffic."police_vehicle_sightings$partitions"'),
    ("zhou_traffic_analyst", "...and the change feed", "SELECT * FROM TABLE(lake.system.table_changes('app_traffic', 'police_vehicle_sightings', 0))"),
]


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the main job end to end on sample data and show results")
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.context import Context

    t0 = time.monotonic()
    ctx = Context()
    settings = ctx.settings
    info("== starting services")
    statuses = ctx.start_services(log=info)
    info("   " + "; ".join(f"{s.name} {s.state}{' at ' + s.url if s.url else ''}" for s in statuses))
    start = times.parse(DEFAULT_START)
    for dept in ctx.departments():
        landing = ctx.landing_of(dept.id)
        if not landing.exists():
            feed = ctx.generate_feeds(landing, department=dept.id, rows=DEMO_ROWS, seed=1, start=start, fault_rate=DEMO_FAULT_RATE)[dept.id]
            faults = ", ".join(f"{k} {v}" for k, v in sorted(feed.faults.items()))
            info(f"== sample feed for {dept.id} ({dept.sources['detections'].format}): "
                 f"{', '.join(p.name for p in feed.paths.values())}; injected faults: {faults}")
    run_time = times.parse(DEMO_RUN_TIME)
    ctx.bootstrap_sample_contracts(run_time, log=lambda m: info(f"== {m}"))
    for rec in ctx.contracts():
        info(f"   contract {rec.id}: {rec.status}, {rec.provider} -> {rec.consumer}, approved by "
             f"{', '.join(a['actor'] for a in rec.approvals) or 'nobody yet'}")
    info("== running the main job (Spark + Delta)")
    report = ctx.run(run_time)
    print_report(report)
    for user, title, query in EXAMPLES:
        print(f"\n-- {title}\n-- govlake sql --as {user} \"{query}\"")
        print(ctx.sql(user, query).to_table())
    refused_all = True
    for user, title, query in DENIED:
        print(f"\n-- {title}\n-- govlake sql --as {user} \"{query}\"")
        try:
            ctx.sql(user, query)
        except QueryError as exc:
            print(f"refused: {str(exc).split(': ', 1)[-1]}")
        else:
            refused_all = False
            print("NOT REFUSED: the access rules did not hold")
    print(f"\ndemo finished in {time.monotonic() - t0:.0f}s; Trino keeps running at {settings.trino_endpoint} "
          f"(`govlake sql --as USER \"...\"`, `make down` to stop)")
    console_url = next(s.url for s in statuses if s.name == "console")
    print(f"console: {console_url} (its certificate is govlake's own, self-signed for loopback); sign in as "
          "liu_traffic_steward (steward), li_transport_analyst (analyst) or zhao_compliance (compliance officer) "
          "with the password `govlake identity connect USER --show-password` prints")
    return 1 if report.failures or not refused_all else 0
