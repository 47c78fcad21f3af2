"""Reports for compliance officers (`govlake report compliance`) and for the public
(`govlake report transparency`, 信息公开).

The compliance report measures the operations indicators of the source document: the share of
key datasets shared through active contracts, data-security incidents per 10,000 accesses and the
share of compliant operations, contract turnaround, contracts about to expire, quality-gate
failures and algorithm-bias flags. The transparency report discloses what categories of data are
shared between which departments, for which purposes, and how often they were read, with every
count under 10 suppressed.

The indicators are pure functions over plain rows (dicts), so they are tested without Spark;
`gather` collects those rows from the governance store and, for the compliance report, from the
Delta tables through Spark. Both reports are plain dicts, rendered as text, JSON or one
self-contained HTML page.
"""
from __future__ import annotations

import html
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from govlake.contracts.spec import parse_stored
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings
from govlake.domain import identities, policies, schemas
from govlake.governance import store
from govlake.pii import residue
from govlake.platform import lake

SUPPRESS_BELOW = 10  # transparency report: every count under this is shown as "<10"
RESIDUE_SAMPLE = 20000  # compliance report: scrubbed notes checked for residue
# targets from the source document's operations KPIs
TARGETS = {"key_datasets_shared": 0.5, "incidents_per_10000": 0.5, "compliant_share": 0.95}
DECIDED_OPEN = ("approved", "active")


@dataclass
class Inputs:
    """Everything the reports read, as plain rows. `None` for a lakehouse table means "not read"
    (no Spark, or the table does not exist yet); an empty list means "read, nothing in it"."""

    start: datetime
    end: datetime
    catalog: str = "lake"
    contracts: list[dict] = field(default_factory=list)  # id provider consumer dataset table purpose categories valid_from valid_to
    events: list[dict] = field(default_factory=list)  # contract_id to_status at (every event, not only the window's)
    queries: list[dict] = field(default_factory=list)  # audit entries query.* in the window: actor action at tables
    analytic_tables: list[str] = field(default_factory=list)
    analysts: dict[str, str] = field(default_factory=dict)  # analyst user -> department
    batches: list[dict] | None = None  # base.batch_log
    quality: list[dict] | None = None  # base.quality_results
    fairness: list[dict] | None = None  # analytic.fairness_monitor
    notes: list[str | None] | None = None  # analytic.events_deidentified.note_scrubbed (up to RESIDUE_SAMPLE)


def window(start: str | None, end: str | None, now: datetime, days: int = 30) -> tuple[datetime, datetime]:
    """[start, end) in UTC from `--from`/`--to`: an ISO date means that whole day (UTC), so
    `--to 2026-11-30` includes the 30th; a date-time needs an offset. Default: the `days` days before `now`."""
    def parse(v: str, flag: str, day_end: bool) -> datetime:
        try:
            t = datetime.fromisoformat(v)
        except ValueError:
            raise ConfigError(f"{flag} `{v}` is not an ISO date; give e.g. 2026-11-01 or 2026-11-01T08:00:00+08:00") from None
        if len(v) == 10:
            return t.replace(tzinfo=timezone.utc) + (timedelta(days=1) if day_end else timedelta())
        if t.tzinfo is None:
            raise ConfigError(f"{flag} `{v}` needs a timezone offset, e.g. 2026-11-01T08:00:00+08:00")
        return t.astimezone(timezone.utc)

    stop = parse(end, "--to", True) if end else _utc(now)
    begin = parse(start, "--from", False) if start else stop - timedelta(days=days)
    if begin >= stop:
        raise ConfigError(f"the window is empty: --from {begin.isoformat()} is not before --to {stop.isoformat()}")
    return begin, stop


def _utc(v: datetime) -> datetime:
    return v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)


def _by_contract(events: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for e in sorted(events, key=lambda e: (_utc(e["at"]), e.get("id") or 0)):
        out[e["contract_id"]].append(e)
    return out


def active_periods(events: list[dict], valid_to: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) periods in which a contract was active, from its events in order; a period
    also ends at `valid_to` even if no expiry was recorded yet (the refresh had not run)."""
    periods, since = [], None
    for e in events:
        at = _utc(e["at"])
        if e["to_status"] == "active" and since is None:
            since = at
        elif e["to_status"] != "active" and since is not None:
            periods.append((since, min(at, _utc(valid_to))))
            since = None
    if since is not None:
        periods.append((since, _utc(valid_to)))
    return [(a, b) for a, b in periods if a < b]


def active_at(periods: list[tuple[datetime, datetime]], when: datetime) -> bool:
    return any(a <= when < b for a, b in periods)


def active_during(periods: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(a < end and start < b for a, b in periods)


def key_datasets_shared(analytic_tables: list[str], contracts: list[dict], events: dict[str, list[dict]], when: datetime) -> dict:
    """Key datasets are the analytic-tier tables; one is shared when at least one contract on it
    is active at `when`."""
    shared: dict[str, list[str]] = {t: [] for t in sorted(analytic_tables)}
    for c in contracts:
        table = c["dataset"].split(".", 1)[1]
        if table in shared and active_at(active_periods(events.get(c["id"], []), c["valid_to"]), when):
            shared[table].append(c["id"])
    n = sum(1 for ids in shared.values() if ids)
    share = n / len(shared) if shared else None
    return {"key_datasets": len(shared), "shared": n, "share": share, "target": TARGETS["key_datasets_shared"],
            "meets_target": share is not None and share >= TARGETS["key_datasets_shared"], "contracts_by_dataset": shared}


def ungranted_tables(query: dict, department: str, catalog: str) -> list[str]:
    """Tables of the lakehouse catalog an analyst of `department` read outside the application
    schema the contracts grant to that department."""
    out = []
    for t in query.get("tables") or []:
        parts = t.split(".")
        if len(parts) == 3 and parts[0] == catalog and parts[1] not in (f"app_{department}", "information_schema"):
            out.append(t)
    return out


def analyst_department(query: dict, analysts: dict[str, str]) -> str | None:
    """The department the query's user was an analyst of when it ran: from the groups Trino
    recorded with the query (a user moved since is judged by the groups they had), else, for
    entries recorded without groups, from the identity registry."""
    groups = query.get("groups")
    if groups:
        if "role_analyst" not in groups:
            return None
        return next((g.removeprefix("dept_") for g in groups if g.startswith("dept_")), None)
    return analysts.get(query["actor"])


def security(queries: list[dict], analysts: dict[str, str], catalog: str) -> dict:
    """Incidents per 10,000 accesses. Accesses: every Trino query recorded in the window
    (query.completed, query.failed, query.denied). Incidents: refused queries (query.denied) plus
    queries by an analyst that read a table outside their department's application schema (an
    enforcement gap: the access rules should have refused them)."""
    denied = sum(1 for q in queries if q["action"] == "query.denied")
    ungranted = sum(1 for q in queries if q["action"] != "query.denied" and (dept := analyst_department(q, analysts))
                    and ungranted_tables(q, dept, catalog))
    n, incidents = len(queries), denied + ungranted
    per = incidents / n * 10_000 if n else None
    compliant = 1 - incidents / n if n else None
    return {
        "accesses": n, "completed": sum(1 for q in queries if q["action"] == "query.completed"),
        "failed": sum(1 for q in queries if q["action"] == "query.failed"), "denied": denied, "ungranted_reads": ungranted,
        "incidents": incidents, "incidents_per_10000": per, "compliant_share": compliant,
        "targets": {"incidents_per_10000": TARGETS["incidents_per_10000"], "compliant_share": TARGETS["compliant_share"]},
        "meets_targets": per is not None and per < TARGETS["incidents_per_10000"] and compliant >= TARGETS["compliant_share"],
        "counts": "accesses = Trino queries recorded in the audit log in the window (completed + failed + denied); "
                  "incidents = denied queries + analysts' queries reading a table outside app_<their department>; "
                  "compliant share = 1 - incidents / accesses",
    }


def turnaround(events: dict[str, list[dict]], start: datetime, end: datetime) -> dict:
    """Hours from submission to approval, for approvals in the window. A cycle starts at the first
    submission after the previous decision (a resubmitted amendment does not restart it) and ends at
    approval; a rejection or revocation closes it uncounted. `pending`: cycles still open at `end`."""
    hours, pending = [], 0
    for evs in events.values():
        since = None
        for e in evs:
            at = _utc(e["at"])
            if at >= end:
                break
            if e["to_status"] == "submitted" and since is None:
                since = at
            elif e["to_status"] in DECIDED_OPEN and since is not None:
                if at >= start:
                    hours.append((at - since).total_seconds() / 3600)
                since = None
            elif e["to_status"] in ("rejected", "revoked", "expired", "draft"):
                since = None
        pending += since is not None
    return {"count": len(hours), "median_hours": round(statistics.median(hours), 2) if hours else None,
            "max_hours": round(max(hours), 2) if hours else None, "pending": pending}


def expiring(contracts: list[dict], events: dict[str, list[dict]], when: datetime, days: int) -> list[dict]:
    """Contracts active at `when` whose validity ends within `days` days."""
    horizon = when + timedelta(days=days)
    out = []
    for c in contracts:
        to = _utc(c["valid_to"])
        if active_at(active_periods(events.get(c["id"], []), to), when) and to < horizon:
            out.append({"contract": c["id"], "provider": c["provider"], "consumer": c["consumer"], "valid_to": to.isoformat(),
                        "days_left": round((to - when).total_seconds() / 86400, 1)})
    return sorted(out, key=lambda r: r["valid_to"])


def quality_gate(batches: list[dict] | None, results: list[dict] | None, start: datetime, end: datetime) -> dict:
    """Batches ingested in the window by quality status, the failed ones, and the failed
    expectations (critical ones keep a batch out of the analytic tier)."""
    if batches is None:
        return {"available": False}
    inside = [b for b in batches if start <= _utc(b["ingested_at"]) < end]
    status = Counter(b.get("quality_status") or "unknown" for b in inside)
    failed = Counter((r["expectation"], r["column_name"], r["critical"] == "true") for r in results or []
                     if r["success"] != "true" and start <= _utc(r["checked_at"]) < end)
    return {
        "available": True, "batches": len(inside), "by_status": dict(sorted(status.items())), "failed": status.get("failed", 0),
        "failed_batches": sorted(({"batch_id": b["batch_id"], "department": b["department"], "entity": b["entity"]}
                                  for b in inside if b.get("quality_status") == "failed"), key=lambda b: b["batch_id"]),
        "failed_expectations": [{"expectation": e, "column": c, "critical": crit, "count": n} for (e, c, crit), n in sorted(failed.items())],
    }


def group_values(rows: list[dict], dimension: str, metric: str) -> dict[str, float]:
    """`metric` per value of `dimension`, each row weighted by its detections (by its reviewed
    detections for false_positive_rate); rows where the metric is NULL do not count."""
    weight = "reviewed" if metric == "false_positive_rate" else "detections"
    acc: dict[str, list[float]] = {}
    for r in rows:
        v, w = r.get(metric), r.get(weight)
        if v is None or not w:
            continue
        s = acc.setdefault("(none)" if r.get(dimension) is None else str(r[dimension]), [0.0, 0.0])
        s[0] += v * w
        s[1] += w
    return {k: s / n for k, (s, n) in sorted(acc.items())}


def fairness_gaps(rows: list[dict] | None, threshold_pp: float, metrics: list[str], dimensions: list[str]) -> dict:
    """Every comparison of a metric between the groups of a dimension: the highest and lowest
    group and the gap in percentage points; `flagged` when the gap exceeds `threshold_pp`."""
    if rows is None:
        return {"available": False}
    comparisons, unmeasured = [], []
    for metric in metrics:
        if not any(r.get(metric) is not None for r in rows):
            unmeasured.append(metric)
            continue
        for dim in dimensions:
            values = group_values(rows, dim, metric)
            if len(values) < 2:
                continue
            hi, lo = max(values, key=values.get), min(values, key=values.get)
            gap = round((values[hi] - values[lo]) * 100, 2)
            comparisons.append({"dimension": dim, "metric": metric, "highest": hi, "highest_value": round(values[hi], 4),
                                "lowest": lo, "lowest_value": round(values[lo], 4), "gap_pp": gap, "flagged": gap > threshold_pp})
    return {"available": True, "groups": len(rows), "threshold_pp": threshold_pp, "comparisons": comparisons,
            "flags": [c for c in comparisons if c["flagged"]], "not_measurable": unmeasured}


def compliance(inputs: Inputs, *, expiring_days: int = 30, fairness_policy: policies.FairnessPolicy | None = None) -> dict:
    """The compliance report over [inputs.start, inputs.end); contract states are taken at the end."""
    policy = fairness_policy or policies.FairnessPolicy(low_confidence_threshold=0.6, gap_threshold_pp=5, metrics=["mean_confidence", "false_positive_rate"],
                                                        dimensions=["department", "region_code", "model_version"])
    events = _by_contract(inputs.events)
    return {
        "window": {"from": inputs.start.isoformat(), "to": inputs.end.isoformat()},
        "key_datasets": key_datasets_shared(inputs.analytic_tables, inputs.contracts, events, inputs.end),
        "security": security(inputs.queries, inputs.analysts, inputs.catalog),
        "contract_turnaround": turnaround(events, inputs.start, inputs.end),
        "expiring_contracts": {"within_days": expiring_days, "contracts": expiring(inputs.contracts, events, inputs.end, expiring_days)},
        "quality_gate": quality_gate(inputs.batches, inputs.quality, inputs.start, inputs.end),
        "fairness": fairness_gaps(inputs.fairness, policy.gap_threshold_pp, list(policy.metrics), list(policy.dimensions)),
        "free_text_residue": free_text_residue(inputs.notes),
    }


def free_text_residue(notes: list[str | None] | None) -> dict:
    """Share of the analytic tier's scrubbed notes in which personal information is still found
    (govlake.pii.residue: the classifier at its suspicion threshold, and an independent detector)."""
    if notes is None:
        return {"available": False}
    return {"available": True, "sample_limit": RESIDUE_SAMPLE, **residue.measure(notes)}


def suppress(n: int, k: int = SUPPRESS_BELOW) -> int | str:
    """A count as published: itself from k up, otherwise "<k" (zero included)."""
    return n if n >= k else f"<{k}"


def suppressed_total(values: list[int], k: int = SUPPRESS_BELOW) -> int | str:
    """The total of a column as published. Decision: when any cell of the column is suppressed,
    the exact total is never shown (total minus the visible cells would give the suppressed cell,
    or the sum of several, which may pin them down), and neither is a rounded one (it bounds the
    hidden cells). It is shown as a lower bound ">=S", S the sum of the visible cells alone, which
    tells nothing the visible cells do not; "suppressed" when every cell is. Without suppressed
    cells the total is exact (and itself suppressed under k)."""
    visible = [v for v in values if v >= k]
    if len(visible) == len(values):
        return suppress(sum(values), k)
    return f">={sum(visible)}" if visible else "suppressed"


def transparency(inputs: Inputs, departments: dict[str, str], purposes: dict[str, policies.Purpose], k: int = SUPPRESS_BELOW) -> dict:
    """The public disclosure: for contracts active at any time in the window, grouped by provider,
    consumer and purpose: the data categories shared and how often they were read (query.completed
    entries whose tables include the contract's application table). Department names, purposes and
    categories only: no user names, no contract requester, no personal data; every count under k
    is suppressed, and totals follow `suppressed_total`."""
    events = _by_contract(inputs.events)
    reads = Counter(t for q in inputs.queries if q["action"] == "query.completed" for t in set(q.get("tables") or []))
    groups: dict[tuple, dict] = {}
    for c in inputs.contracts:
        if not active_during(active_periods(events.get(c["id"], []), c["valid_to"]), inputs.start, inputs.end):
            continue
        key = (departments.get(c["provider"], c["provider"]), departments.get(c["consumer"], c["consumer"]), c["purpose"])
        g = groups.setdefault(key, {"categories": set(), "accesses": 0})
        g["categories"] |= set(c["categories"])
        g["accesses"] += reads[f"{inputs.catalog}.app_{c['consumer']}.{c['table']}"]
    rows = [{"provider": p, "consumer": cons, "purpose": pur, "purpose_description": purposes[pur].description if pur in purposes else pur,
             "categories": sorted(g["categories"]), "accesses": suppress(g["accesses"], k)} for (p, cons, pur), g in sorted(groups.items())]
    return {
        "period": {"from": inputs.start.isoformat(), "to": inputs.end.isoformat()}, "suppressed_below": k, "sharing": rows,
        "total_accesses": suppressed_total([g["accesses"] for g in groups.values()], k),
        "counts": f"accesses = completed queries reading the shared table in the period; counts under {k} are shown as <{k}; "
                  "when any is, the total is given only as a lower bound from the visible counts",
    }


# --- gathering the inputs ---------------------------------------------------------------------

def gather(settings: Settings, start: datetime, end: datetime, *, spark=None) -> Inputs:
    """Rows from the governance store (contracts, their events, the audit log's queries in the
    window), the schemas and the identity registry; with `spark`, also base.batch_log,
    base.quality_results and analytic.fairness_monitor (None for a table that does not exist yet)."""
    import sqlalchemy as sa

    C, E, T = store.contracts, store.contract_events, store.audit_log
    tables = [p.stem for p in sorted(settings.path("schemas", "analytic").glob("*.yaml"))]
    schema_of = {t: schemas.load_schema(settings, "analytic", t) for t in tables}
    iso = lambda t: t.astimezone(timezone.utc).isoformat(timespec="microseconds")  # noqa: E731 - as audit.append writes `at`
    with store.engine(settings).connect() as conn:
        contract_rows = conn.execute(sa.select(C.c.id, C.c.spec_yaml)).mappings().all()
        events = [dict(r) for r in conn.execute(sa.select(E.c.id, E.c.contract_id, E.c.to_status, E.c.at)).mappings()]
        audit_rows = conn.execute(sa.select(T.c.actor, T.c.action, T.c.at, T.c.detail).where(
            T.c.action.like("query.%"), T.c.at >= iso(start), T.c.at < iso(end))).all()
    contracts = []
    for r in contract_rows:
        spec = parse_stored(r.spec_yaml, f"store:{r.id}")
        schema = schema_of.get(spec.dataset.split(".", 1)[1])
        cats = {c.category or schema.category for c in schema.columns if c.name in {g.name for g in spec.columns}} if schema else set()
        contracts.append({"id": r.id, "provider": spec.provider, "consumer": spec.consumer, "dataset": spec.dataset, "table": spec.table,
                          "purpose": spec.purpose, "categories": sorted(c for c in cats if c),
                          # from the specification: a SQLite DATETIME column keeps no offset
                          "valid_from": _utc(spec.valid_from), "valid_to": _utc(spec.valid_to)})
    queries = []
    for r in audit_rows:
        detail = json.loads(r.detail)
        queries.append({"actor": r.actor, "action": r.action, "at": r.at, "groups": detail.get("groups"),
                        "tables": [t.get("table") for t in detail.get("tables") or []]})
    analysts = {i.user: i.department for i in identities.load(settings).identities if i.role.value == "analyst"}
    inputs = Inputs(start, end, settings.trino_catalog, contracts, events, queries, tables, analysts)
    if spark is not None:
        inputs.batches = _delta_rows(spark, settings, "base", "batch_log", ["batch_id", "department", "entity", "quality_status"], "ingested_at")
        inputs.quality = _delta_rows(spark, settings, "base", "quality_results",
                                     ["batch_id", "expectation", "column_name", "critical", "success"], "checked_at")
        inputs.fairness = _delta_rows(spark, settings, "analytic", "fairness_monitor", [
            "department", "region_code", "model_version", "detections", "mean_confidence", "low_confidence_share", "reviewed", "false_positive_rate"])
        notes = _delta_rows(spark, settings, "analytic", "events_deidentified", ["note_scrubbed"], limit=RESIDUE_SAMPLE)
        inputs.notes = None if notes is None else [r["note_scrubbed"] for r in notes]
    return inputs


def _delta_rows(spark, settings: Settings, tier: str, table: str, columns: list[str], time_column: str | None = None,
               limit: int | None = None) -> list[dict] | None:
    """A Delta table's columns as dicts (a timestamp as a UTC datetime), or None if it does not exist;
    with `limit`, a uniform sample of at most that many rows (all of them in a smaller table)."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    path = lake.table_path(settings, tier, table)
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    cols = [F.col(c) for c in columns]
    if time_column:  # as text in the session's UTC, so the driver's local timezone cannot shift it
        cols.append(F.date_format(time_column, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS").alias(time_column))
    df = spark.read.format("delta").load(path).select(*cols)
    if limit is not None:
        n = df.count()
        if n > limit:
            df = df.sample(fraction=min(1.0, 1.2 * limit / n), seed=11).limit(limit)
    rows = [r.asDict() for r in df.collect()]
    if time_column:
        for r in rows:
            r[time_column] = datetime.fromisoformat(r[time_column]).replace(tzinfo=timezone.utc)
    return rows


# --- rendering ----------------------------------------------------------------------------------

def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.1f}%"


def _num(v, digits: int = 2) -> str:
    return "n/a" if v is None else (f"{v:.{digits}f}" if isinstance(v, float) else str(v))


def compliance_sections(r: dict) -> list[dict]:
    """The compliance report as titled tables (headers, rows, note) for text and HTML."""
    kd, sec, ta, ex, qg, fa = (r[k] for k in ("key_datasets", "security", "contract_turnaround", "expiring_contracts", "quality_gate", "fairness"))
    out = [
        {"title": "Operations indicators", "headers": ["indicator", "value", "target"], "rows": [
            ["key datasets shared through active contracts", f"{kd['shared']} of {kd['key_datasets']} ({_pct(kd['share'])})", f">= {_pct(kd['target'])}"],
            ["data-security incidents per 10,000 accesses", f"{_num(sec['incidents_per_10000'])} ({sec['incidents']} of {sec['accesses']})",
             f"< {sec['targets']['incidents_per_10000']}"],
            ["compliant operations", _pct(sec["compliant_share"]), f">= {_pct(sec['targets']['compliant_share'])}"],
            ["contract turnaround, submitted -> approved (hours)", f"median {_num(ta['median_hours'])}, max {_num(ta['max_hours'])}, "
                                                                   f"{ta['count']} approvals, {ta['pending']} pending", ""],
            ["contracts expiring within {} days".format(ex["within_days"]), str(len(ex["contracts"])), ""],
            ["quality-gate failures (batches)", f"{qg['failed']} of {qg['batches']}" if qg["available"] else "n/a (table not built)", ""],
            ["fairness gaps flagged", str(len(fa["flags"])) if fa["available"] else "n/a (table not built)", ""],
            ["scrubbed notes still holding personal information", _residue_value(r["free_text_residue"]), "0"],
        ], "note": f"window {r['window']['from']} to {r['window']['to']}; contract states at its end. {sec['counts']} "
                   f"(completed {sec['completed']}, failed {sec['failed']}, denied {sec['denied']}, ungranted reads {sec['ungranted_reads']})."},
        {"title": "Key datasets", "headers": ["analytic table", "active contracts"],
         "rows": [[t, ", ".join(ids) or "-"] for t, ids in kd["contracts_by_dataset"].items()]},
        {"title": f"Contracts expiring within {ex['within_days']} days", "headers": ["contract", "provider", "consumer", "valid to", "days left"],
         "rows": [[c["contract"], c["provider"], c["consumer"], c["valid_to"], c["days_left"]] for c in ex["contracts"]]},
    ]
    if qg["available"]:
        out.append({"title": "Quality gate: failed expectations", "headers": ["expectation", "column", "critical", "failures"],
                    "rows": [[e["expectation"], e["column"], e["critical"], e["count"]] for e in qg["failed_expectations"]],
                    "note": "batches by status: " + (", ".join(f"{k} {v}" for k, v in qg["by_status"].items()) or "none") +
                            ("; failed: " + ", ".join(f"{b['batch_id']} ({b['department']} {b['entity']})" for b in qg["failed_batches"])
                             if qg["failed_batches"] else "")})
    if fa["available"]:
        out.append({"title": f"Fairness (gap threshold {fa['threshold_pp']} percentage points)",
                    "headers": ["dimension", "metric", "highest", "lowest", "gap (pp)", "flag"],
                    "rows": [[c["dimension"], c["metric"], f"{c['highest']} {c['highest_value']}", f"{c['lowest']} {c['lowest_value']}",
                              c["gap_pp"], "FLAG" if c["flagged"] else ""] for c in fa["comparisons"]],
                    "note": f"{fa['groups']} groups of analytic.fairness_monitor" + (
                        "; not measurable (no values recorded): " + ", ".join(fa["not_measurable"]) if fa["not_measurable"] else "")})
    if r["free_text_residue"]["available"]:
        out.append(residue_section(r["free_text_residue"]))
    return out


def _residue_value(res: dict) -> str:
    if not res["available"]:
        return "n/a (table not built)"
    c, o = res["classifier"], res["second_opinion"]
    return (f"classifier {_pct(c['share'])} ({c['flagged']}), second opinion {_pct(o['share'])} ({o['flagged']}) "
            f"of {res['checked']} notes")


def residue_section(res: dict) -> dict:
    kinds = sorted(set(res["classifier"]["by_type"]) | set(res["second_opinion"]["by_type"]))
    return {"title": "Personal information left in analytic.events_deidentified.note_scrubbed", "headers": ["type", "classifier", "second opinion"],
            "rows": [[t, res["classifier"]["by_type"].get(t, 0), res["second_opinion"]["by_type"].get(t, 0)] for t in kinds],
            "note": f"{res['checked']} non-empty notes checked (a sample when the table holds more than {res['sample_limit']}). classifier = "
                    f"govlake's recognizers at the suspicion threshold {residue.SUSPICION}; second opinion = an independent detector "
                    "(cue words, unvalidated identifier shapes; NUMBER = any run of 7 or more digits), broad by design. Counts only; "
                    "no note text is shown."}


def transparency_sections(r: dict) -> list[dict]:
    rows = [[s["provider"], s["consumer"], s["purpose_description"], ", ".join(s["categories"]), s["accesses"]] for s in r["sharing"]]
    rows.append(["total", "", "", "", r["total_accesses"]])
    return [{"title": "Data shared between departments", "headers": ["provider", "consumer", "purpose", "data categories", "accesses"],
             "rows": rows, "note": f"period {r['period']['from']} to {r['period']['to']}; {r['counts']}."}]


def render_text(title: str, sections: list[dict]) -> str:
    from tabulate import tabulate

    parts = [title, "=" * len(title)]
    for s in sections:
        parts += ["", s["title"], "-" * len(s["title"])]
        parts.append(tabulate(s["rows"], headers=s["headers"], tablefmt="psql", disable_numparse=True) if s["rows"] else "(none)")
        if s.get("note"):
            parts.append(s["note"])
    return "\n".join(parts)


def render_html(title: str, sections: list[dict]) -> str:
    """One self-contained page (inline style, no scripts, no external resources); every value escaped."""
    e = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    body = [f"<h1>{e(title)}</h1>"]
    for s in sections:
        body.append(f"<h2>{e(s['title'])}</h2>")
        if s["rows"]:
            body.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in s["headers"]) + "</tr></thead><tbody>")
            body += ["<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in s["rows"]]
            body.append("</tbody></table>")
        else:
            body.append("<p>(none)</p>")
        if s.get("note"):
            body.append(f"<p class=\"note\">{e(s['note'])}</p>")
    style = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
             "th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left}th{background:#eee}.note{color:#555;font-size:.9em}")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(title)}</title><style>{style}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")
