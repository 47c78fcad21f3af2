"""`govlake up|down|status`: the local services (Trino with its audit receiver, the console, and the supervisor
that restarts them and measures their availability)."""
from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

from govlake.cli import options
from govlake.cli._output import emit_json, info
from govlake.core import times


def register(sub) -> None:
    p = sub.add_parser("up", help="start the local services and wait until they are healthy")
    _profile(p)
    options.add_json(p)
    p.set_defaults(func=up)
    p = sub.add_parser("down", help="stop the local services")
    _profile(p)
    options.add_json(p)
    p.set_defaults(func=down)
    p = sub.add_parser("status", help="report the local services, their availability and the ingest's accounting")
    p.add_argument("--window", default="24h", help="availability over this span up to now: 30m, 1h, 24h, 7d (default 24h)")
    _profile(p)
    options.add_json(p)
    p.set_defaults(func=status)
    register_fetch(sub)


def _profile(p) -> None:
    # also accepted after the command (`govlake up --profile cluster`); the value lands in the same place
    p.add_argument("--profile", default=argparse.SUPPRESS, help="settings profile (embedded, cluster); same as GOVLAKE_PROFILE")


def _show(statuses, as_json: bool, window: str = "") -> None:
    if as_json:
        emit_json({"services": [s.as_dict() for s in statuses]})
        return
    for s in statuses:
        mem = f"{s.memory_mb:.0f} MiB RSS" if s.memory_mb else ""
        pid = f"pid {s.pid}" if s.pid else ""
        print(f"{s.name:10} {s.state:10} {', '.join(x for x in (s.url, pid, mem) if x)}{' — ' + s.detail if s.detail else ''}")
        if s.availability:
            for line in _availability(s.availability, window):
                print(f"{'':10} {line}")


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _availability(a: dict, window: str) -> list[str]:
    """The supervisor's measurement for people: the outage under way first and loudly."""
    lines = []
    if a["down_since"]:
        lines.append(f"DOWN for {time.time() - a['down_since']:.0f} s, since {_clock(a['down_since'])}")
    pct = "no time observed" if a["percent"] is None else f"{a['percent']:.3f} % available over {_span(a['observed_s'])} observed"
    outages = len(a["outages"])
    lines.append(f"last {window}: {pct} ({_span(a['not_observed_s'])} not observed: the supervisor was not running), "
                 f"{outages} outage{'s' if outages != 1 else ''}, {a['restarts']} restart{'s' if a['restarts'] != 1 else ''}")
    if a["last_restart"]:
        r = a["last_restart"]
        lines.append(f"last restart {_clock(r['at'])}: {r['detail'] if r['ok'] else 'FAILED: ' + r['detail']}")
    return lines


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

    report = Context().services(times.parse_duration(args.window, "--window"))
    health, contracts = report.ingest, report.contracts
    if args.json:
        emit_json({"services": [s.as_dict() for s in report.services], "window_s": report.window_s, "ingest": health, "contracts": contracts})
    else:
        _show(report.services, False, args.window)
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
        print(f"jar        {path}")
    print(f"trino      {trino}")
    return 0
