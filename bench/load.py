"""Many analysts at once through Trino with the rules, masks and audit on, while a publish runs and
a contract is revoked.

    .venv/bin/python bench/load.py [--analysts 16] [--queries 500] [--rows 2000]

Runs on a private state folder (as bench/freshness.py): a copy of the identity registry with enough
analysts added for `--analysts` sessions spread over the three sample departments (one user per
session), Trino on a free port with its audit receiver, the sample contracts taken through the
workflow plus one contract that gives the police analysts a table of their own
(`transport-to-police-flows`), and the main job once over generated sample feeds.

Then `--analysts` threads, one Trino connection each (HTTPS, password, the local CA, as
`govlake sql`), run `--queries` queries each: mostly queries their department's contract grants
(a count, a filtered aggregate, 50 rows with the masked columns), some that the rules must refuse
(another department's application table, a base or analytic table). A further thread polls the
table of `traffic-to-transport-flows` as its consumer every `--poll-ms`. After `--publish-at` of
the queries `python -m govlake publish` starts in its own process; after `--revoke-at` the
traffic steward revokes `traffic-to-transport-flows`. Afterwards the bench waits for the audit
receiver to drain the spool and matches the chain's `query.*` entries to the query ids the client
got back: each query must be in the chain exactly once, with the outcome the client saw.

Prints one JSON object; stops Trino and the receiver (and the publish, if still running) even on
failure. No figure is asserted: benchmarks measure.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEPARTMENTS = ("police", "traffic", "transport")
REVOKED = "traffic-to-transport-flows"  # provider traffic, consumer transport
REVOKER = "liu_traffic_steward"
SAMPLE_START = datetime(2026, 11, 20, tzinfo=timezone.utc)

# Police consume nothing among the sample contracts; this one gives their analysts a table of
# their own, so every department has queries that are granted.
POLICE_CONTRACT = {
    "id": "transport-to-police-flows", "provider": "transport", "consumer": "police", "purpose": "public_security",
    "legal_basis": "load benchmark: hourly transport flows for public-security planning",
    "requester": "chen_police_analyst", "dataset": "analytic.flow_hourly", "table": "transport_flows_hourly",
    "columns": [{"name": "region_code"}, {"name": "observed_hour"}, {"name": "object_type"}, {"name": "detections"}],
    "row_filter": "department = 'transport'",
    "valid_from": "2026-01-01T00:00:00+08:00", "valid_to": "2027-12-31T23:59:59+08:00", "retention_days": 365,
}

GRANTED = {  # (kind, SQL) the department's contract grants
    "traffic": [
        ("count", "SELECT count(*) FROM app_traffic.police_vehicle_sightings"),
        ("aggregate", "SELECT camera_id, count(*), count(DISTINCT plate_token), max(observed_hour) FROM app_traffic.police_vehicle_sightings "
                      "WHERE vehicle_color <> 'red' GROUP BY camera_id"),
        ("rows", "SELECT plate_token, camera_id, grid_cell, observed_hour, vehicle_color FROM app_traffic.police_vehicle_sightings LIMIT 50"),
    ],
    "transport": [
        ("count", "SELECT count(*) FROM app_transport.traffic_flows_hourly"),
        ("aggregate", "SELECT region_code, object_type, sum(detections), count(*) FROM app_transport.traffic_flows_hourly "
                      "WHERE object_type = 'motor_vehicle' GROUP BY region_code, object_type"),
        ("rows", "SELECT region_code, observed_hour, object_type, detections FROM app_transport.traffic_flows_hourly LIMIT 50"),
    ],
    "police": [
        ("count", "SELECT count(*) FROM app_police.transport_flows_hourly"),
        ("aggregate", "SELECT region_code, object_type, sum(detections), count(*) FROM app_police.transport_flows_hourly "
                      "WHERE object_type = 'motor_vehicle' GROUP BY region_code, object_type"),
        ("rows", "SELECT region_code, observed_hour, object_type, detections FROM app_police.transport_flows_hourly LIMIT 50"),
    ],
}
REFUSED = {  # (kind, SQL) the rules must refuse the department's analysts
    "traffic": [
        ("other_app", "SELECT count(*) FROM app_transport.traffic_flows_hourly"),
        ("base", "SELECT count(*) FROM base.detections"),
        ("analytic", "SELECT plate_token FROM analytic.detections_deidentified LIMIT 5"),
    ],
    "transport": [
        ("other_app", "SELECT count(*) FROM app_traffic.police_vehicle_sightings"),
        ("base", "SELECT camera_id FROM base.cameras LIMIT 5"),
        ("other_app", "SELECT count(*) FROM app_police.transport_flows_hourly"),
    ],
    "police": [
        ("other_app", "SELECT plate_token FROM app_traffic.police_vehicle_sightings LIMIT 5"),
        ("base", "SELECT count(*) FROM base.detections"),
        ("other_app", "SELECT count(*) FROM app_transport.traffic_flows_hourly"),
    ],
}
REVOKED_TABLE = "app_transport.traffic_flows_hourly"
POLL_SQL = f"SELECT count(*) FROM {REVOKED_TABLE}"


@dataclass
class Done:
    session: int        # -1 for the revocation poller
    user: str
    kind: str
    sql: str
    expect: str         # "allowed" or "refused" when issued (before any revocation)
    start: float        # time.monotonic()
    end: float
    outcome: str        # "succeeded", "refused" (PERMISSION_DENIED), "retracted" (the revoked table gone) or "error"
    error: str | None   # Trino's error name or the client exception's type
    query_id: str | None

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000

    @property
    def reads_revoked(self) -> bool:
        return REVOKED_TABLE in self.sql and self.user in TRANSPORT_USERS


TRANSPORT_USERS: set[str] = set()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def _jvms() -> int:
    """Java processes running on the machine (another session's Spark or Trino shares the cores)."""
    out = subprocess.run(["ps", "-eo", "comm="], capture_output=True, text=True).stdout.split()
    return sum(1 for c in out if c == "java")


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))  # nearest rank
    return round(values[k], 1)


def _latency(done: list[Done]) -> dict:
    ms = [d.ms for d in done]
    return {"n": len(ms), "p50_ms": _pct(ms, 50), "p95_ms": _pct(ms, 95), "p99_ms": _pct(ms, 99),
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None, "max_ms": round(max(ms), 1) if ms else None}


def analysts_registry(source: Path, target: Path, sessions: int) -> list[tuple[str, str]]:
    """Copy the identity registry with analysts added until there is one per session, spread
    round-robin over the three departments; returns (user, department) per session."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    known = {i["user"] for i in data["identities"]}
    existing = {d: [i["user"] for i in data["identities"] if i["role"] == "analyst" and i["department"] == d] for d in DEPARTMENTS}
    out, per_dept = [], Counter()
    for s in range(sessions):
        dept = DEPARTMENTS[s % len(DEPARTMENTS)]
        n = per_dept[dept]
        per_dept[dept] += 1
        if n < len(existing[dept]):
            user = existing[dept][n]
        else:
            user = f"load{n:02d}_{dept}_analyst"
            if user not in known:
                data["identities"].append({"user": user, "department": dept, "role": "analyst", "name": f"Load-test analyst {n}, {dept}"})
                known.add(user)
        out.append((user, dept))
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def run_query(conn, session: int, user: str, kind: str, sql: str, expect: str) -> Done:
    import trino

    cur = conn.cursor()
    t0 = time.monotonic()
    outcome, error, qid = "succeeded", None, None
    try:
        cur.execute(sql)
        cur.fetchall()
        qid = cur.query_id
    except trino.exceptions.TrinoQueryError as exc:
        qid = exc.query_id
        error = exc.error_name
        outcome = "refused" if exc.error_name == "PERMISSION_DENIED" else "error"
    except Exception as exc:  # noqa: BLE001 - counted and named in the report, never hidden
        error, outcome = f"{type(exc).__name__}: {str(exc)[:200]}", "error"
        qid = getattr(cur, "query_id", None)
    return Done(session, user, kind, sql, expect, t0, time.monotonic(), outcome, error, qid)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--analysts", type=int, default=16)
    p.add_argument("--queries", type=int, default=500, help="queries per analyst session")
    p.add_argument("--rows", type=int, default=2000, help="detections generated per sample department")
    p.add_argument("--refused-share", type=float, default=0.2, help="share of each analyst's queries the rules must refuse")
    p.add_argument("--publish-at", type=float, default=0.25, help="start the publish after this share of the queries")
    p.add_argument("--revoke-at", type=float, default=0.30, help="revoke the contract after this share of the queries")
    p.add_argument("--poll-ms", type=float, default=100)
    p.add_argument("--drain-timeout", type=float, default=600)
    p.add_argument("--seed", type=int, default=18)
    p.add_argument("--keep", action="store_true", help="keep the private state folder")
    args = p.parse_args()

    load_before = _loadavg()
    other_jvms = _jvms()
    base = Path(tempfile.mkdtemp(prefix="govlake-load-"))
    sessions = analysts_registry(ROOT / "catalog" / "identities.yaml", base / "identities.yaml", args.analysts)
    TRANSPORT_USERS.update(u for u, d in sessions if d == "transport")
    os.environ.update(GOVLAKE_STATE_DIR=str(base / "state"), GOVLAKE_TRINO_PORT=str(_free_port()),
                      GOVLAKE_IDENTITIES_FILE=str(base / "identities.yaml"))

    from govlake.contracts import workflow
    from govlake.contracts.spec import ContractSpec
    from govlake.core.settings import load_settings
    from govlake.departments import generator, registry
    from govlake.governance import audit, store
    from govlake.pipeline import main_job
    from govlake.platform.spark import get_spark
    from govlake.services import audit_receiver, sql, trino

    settings = load_settings()
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    publish_proc: subprocess.Popen | None = None
    try:
        t_setup = time.monotonic()
        status = trino.start(settings, log=say)
        now = datetime.now(timezone.utc)
        for d in registry.load_all(settings):
            generator.generate(d, settings.landing_root / d.id, rows=args.rows, seed=1, start=SAMPLE_START)
        workflow.bootstrap_samples(settings, now, log=say)
        police = ContractSpec.model_validate(POLICE_CONTRACT)
        workflow.new(settings, police, police.requester, now)
        workflow.submit(settings, police.id, police.requester, now)
        workflow.approve(settings, police.id, "sun_transport_steward", now)
        spark = get_spark(settings)
        report = main_job.run(spark, settings, now)
        spark.stop()
        if report.failures:
            raise SystemExit(f"main job failures: {report.failures}")
        say(f"set up in {time.monotonic() - t_setup:.0f} s; contracts: {[(c.id, c.status) for c in workflow.list_all(settings)]}")
        with store.engine(settings).connect() as c:
            seq_before = c.execute(audit.T.select().with_only_columns(audit.T.c.seq).order_by(audit.T.c.seq.desc()).limit(1)).scalar() or 0

        plans = []
        for i, (user, dept) in enumerate(sessions):
            rng = random.Random(args.seed * 1000 + i)
            plan = []
            for _ in range(args.queries):
                if rng.random() < args.refused_share:
                    kind, q = rng.choice(REFUSED[dept])
                    plan.append((f"refused:{kind}", q, "refused"))
                else:
                    kind, q = rng.choice(GRANTED[dept])
                    plan.append((kind, q, "allowed"))
            plans.append(plan)

        # warm-up: one granted query per session (connections, sign-in caches, Trino's JIT); audited too
        warm: list[Done] = []
        for i, (user, dept) in enumerate(sessions):
            warm.append(run_query(sql.connect(settings, user), i, user, "warm-up", GRANTED[dept][0][1], "allowed"))

        total = args.analysts * args.queries
        done: list[Done] = []
        polls: list[Done] = []
        lock = threading.Lock()
        counter = {"n": 0}
        publish_due, revoke_due, stop_poll = threading.Event(), threading.Event(), threading.Event()

        def analyst(i: int, user: str) -> None:
            conn = sql.connect(settings, user)
            mine = []
            for kind, q, expect in plans[i]:
                mine.append(run_query(conn, i, user, kind, q, expect))
                with lock:
                    counter["n"] += 1
                    n = counter["n"]
                if n >= args.publish_at * total:
                    publish_due.set()
                if n >= args.revoke_at * total:
                    revoke_due.set()
            with lock:
                done.extend(mine)

        consumer = next(u for u, d in sessions if d == "transport")

        def poller() -> None:
            conn = sql.connect(settings, consumer)
            while not stop_poll.is_set():
                polls.append(run_query(conn, -1, consumer, "poll", POLL_SQL, "allowed"))
                stop_poll.wait(args.poll_ms / 1000)

        threads = [threading.Thread(target=analyst, args=(i, u), name=f"analyst-{i}") for i, (u, _) in enumerate(sessions)]
        poll_thread = threading.Thread(target=poller, name="poller")
        load_samples: list[float] = []

        def sample_load() -> None:  # the machine may be shared: the 1-minute load average during the run
            while not stop_poll.wait(5):
                load_samples.append(_loadavg()[0])

        threading.Thread(target=sample_load, daemon=True).start()
        t_load = time.monotonic()
        poll_thread.start()
        for t in threads:
            t.start()

        def wait_for(event: threading.Event) -> None:
            while not event.wait(1):
                if not any(t.is_alive() for t in threads):
                    raise SystemExit("the analyst sessions ended before the publish/revocation point")

        wait_for(publish_due)
        t_publish = time.monotonic()
        say(f"{counter['n']} queries done: starting `govlake publish` in its own process")
        publish_log = (settings.logs_dir / "load-publish.log").open("wb")
        publish_proc = subprocess.Popen([sys.executable, "-m", "govlake", "publish", "--json"], cwd=str(ROOT),
                                        env=os.environ | settings.as_env(), stdout=publish_log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        publish_ended: dict = {}
        threading.Thread(target=lambda: publish_ended.update(rc=publish_proc.wait(), at=time.monotonic()), daemon=True).start()
        wait_for(revoke_due)
        say(f"{counter['n']} queries done: revoking `{REVOKED}` as {REVOKER}")
        t_revoke_call = time.monotonic()
        workflow.revoke(settings, REVOKED, REVOKER, "load benchmark: revoked under load", datetime.now(timezone.utc))
        t_revoked = time.monotonic()
        publish_running_at_revoke = publish_proc.poll() is None

        for t in threads:
            t.join()
        t_end = time.monotonic()
        stop_poll.set()
        poll_thread.join()
        publish_rc = publish_proc.wait(timeout=1800)
        time.sleep(0.2)
        t_publish_end = publish_ended.get("at", time.monotonic())
        publish_tail = (settings.logs_dir / "load-publish.log").read_text(errors="replace")[-2000:]
        say(f"load done in {t_end - t_load:.0f} s; publish exit code {publish_rc}")

        # -- outcomes ---------------------------------------------------------------------------
        def expected(d: Done) -> str:
            """What the rules should have answered: the plan, except on the revoked table: refused
            once the revocation returned; either answer for a query in flight at the call or
            issued during it (Trino checks the rules when it analyses a query, and re-reads them
            every second)."""
            if d.reads_revoked and d.end >= t_revoke_call:
                return "refused" if d.start >= t_revoked else "either"
            return d.expect

        for d in done + polls:  # the publish after the revocation retracts the table: then Trino answers TABLE_NOT_FOUND
            if REVOKED_TABLE in d.sql and d.start >= t_revoke_call and d.error == "TABLE_NOT_FOUND":
                d.outcome = "retracted"
        wrong = Counter()
        for d in done:
            e = expected(d)
            if d.outcome == "retracted":
                continue
            if d.outcome == "error":
                wrong[f"error {d.kind}: {d.error}"] += 1
            elif e != "either" and d.outcome != ("succeeded" if e == "allowed" else "refused"):
                wrong[f"{d.outcome} where {e} expected ({d.kind}{', revoked table' if d.reads_revoked else ''})"] += 1
        # -- the revocation ---------------------------------------------------------------------
        after = [d for d in done + polls if d.reads_revoked and d.start >= t_revoked]
        late_reads = [d for d in after if d.outcome == "succeeded"]
        first_refused = min((d.end for d in polls if d.start >= t_revoke_call and d.outcome == "refused"), default=None)
        first_refused_any = min((d.end for d in done + polls if d.reads_revoked and d.start >= t_revoke_call and d.outcome != "succeeded"), default=None)
        revocation = {
            "contract": REVOKED, "by": REVOKER, "at_query": round(args.revoke_at * total),
            "revoke_call_ms": round((t_revoked - t_revoke_call) * 1000, 1),
            "publish_running_at_revoke": publish_running_at_revoke,
            "poll_refused_after_ms": round((first_refused - t_revoked) * 1000, 1) if first_refused else None,
            "any_session_refused_after_ms": round((first_refused_any - t_revoked) * 1000, 1) if first_refused_any else None,
            "reads_of_revoked_table_started_after_revoke": len(after),
            "successful_reads_after_revoke": len(late_reads),
            "last_successful_read_started_ms_after_revoke": round(max(d.start - t_revoked for d in late_reads) * 1000, 1) if late_reads else None,
            "errors_on_revoked_table_after_revoke": dict(Counter(d.error for d in after if d.outcome == "error")),
            "retracted_after_ms": round((min(d.end for d in done + polls if d.outcome == "retracted") - t_revoked) * 1000)
                                  if any(d.outcome == "retracted" for d in done + polls) else None,
            "polls": len(polls),
        }

        wall = t_end - t_load
        outcomes = Counter(d.outcome for d in done)
        load = {
            "queries": len(done), "wall_s": round(wall, 1), "queries_per_s": round(len(done) / wall, 1),
            "succeeded": outcomes["succeeded"], "refused": outcomes["refused"], "errors": outcomes["error"],
            "retracted_table_not_found": outcomes["retracted"],
            "refused_as_planned": sum(1 for d in done if d.outcome == "refused" and d.expect == "refused"),
            "refused_revoked_table": sum(1 for d in done if d.outcome == "refused" and d.expect == "allowed" and d.reads_revoked),
            "unexpected": dict(wrong),
            "latency_all": _latency(done),
            "latency_succeeded": _latency([d for d in done if d.outcome == "succeeded"]),
            "latency_refused": _latency([d for d in done if d.outcome == "refused"]),
            "latency_by_department": {dept: _latency([d for d in done if dict(sessions)[d.user] == dept]) for dept in DEPARTMENTS},
            "latency_by_kind": {k: _latency([d for d in done if d.kind == k]) for k in sorted({d.kind for d in done})},
            "latency_before_publish": _latency([d for d in done if d.end < t_publish]),
            "latency_during_publish": _latency([d for d in done if t_publish <= d.start and d.end <= t_publish_end]),
        }

        # -- the audit chain --------------------------------------------------------------------
        issued = warm + done + polls
        ids = {d.query_id: d for d in issued if d.query_id}
        no_id = [d for d in issued if not d.query_id]
        t_drain = time.monotonic()
        seen: Counter = Counter()
        action_of: dict[str, str] = {}
        last_progress, last_count = time.monotonic(), -1
        while True:
            with store.engine(settings).connect() as c:
                rows = c.execute(audit.T.select().with_only_columns(audit.T.c.object, audit.T.c.action, audit.T.c.actor)
                                 .where(audit.T.c.seq > seq_before, audit.T.c.action.like("query.%"))).all()
            seen = Counter(r.object.removeprefix("trino:") for r in rows)
            action_of = {r.object.removeprefix("trino:"): r.action for r in rows}
            actor_of = {r.object.removeprefix("trino:"): r.actor for r in rows}
            found = sum(1 for q in ids if q in seen)
            spool, _ = audit_receiver.backlog(settings)
            if found == len(ids) and spool == 0:
                break
            if found != last_count:
                last_progress, last_count = time.monotonic(), found
            if time.monotonic() - t_drain > args.drain_timeout or (time.monotonic() - last_progress > 60 and spool == 0):
                break
            time.sleep(1)
        drain_s = time.monotonic() - t_drain
        client_action = {"succeeded": "query.completed", "refused": "query.denied", "retracted": "query.failed", "error": "query.failed"}
        mismatched = Counter(f"client {d.outcome} / chain {action_of[q]}" for q, d in ids.items()
                             if q in action_of and action_of[q] != client_action[d.outcome])
        ours = {u for u, _ in sessions}
        t_verify = time.monotonic()
        verification = audit.verify(settings)
        verify_s = time.monotonic() - t_verify
        audit_report = {
            "queries_issued": len(issued), "with_query_id": len(ids), "without_query_id": len(no_id),
            "entries_for_issued": sum(seen[q] for q in ids), "issued_missing": sum(1 for q in ids if q not in seen),
            "issued_recorded_more_than_once": sum(1 for q in ids if seen[q] > 1),
            "actions": dict(Counter(action_of[q] for q in ids if q in action_of)),
            "outcome_mismatches": dict(mismatched),
            "other_query_entries_by_bench_users": sum(n for q, n in seen.items() if q not in ids and actor_of[q] in ours),
            "other_query_entries": sum(n for q, n in seen.items() if q not in ids),
            "drain_wait_s": round(drain_s, 1), "spool_left": audit_receiver.backlog(settings)[0],
            "verify_ok": verification.ok, "verify_entries": verification.entries, "verify_s": round(verify_s, 2),
            "verify_problem": verification.problem,
        }
        out = {
            "asked": {"analysts": args.analysts, "queries_per_analyst": args.queries},
            "sessions": {d: sum(1 for _, x in sessions if x == d) for d in DEPARTMENTS},
            "distinct_users": len(ours), "rows_per_department": args.rows, "refused_share_planned": args.refused_share,
            "trino": status.detail, "load": load, "revocation": revocation,
            "publish": {"started_at_query": round(args.publish_at * total), "exit_code": publish_rc,
                        "wall_s": round(t_publish_end - t_publish, 1),
                        "ended_before_load_ended": t_publish_end < t_end,
                        "tail": publish_tail[-400:] if publish_rc else None},
            "audit": audit_report, "loadavg_before": load_before, "loadavg_after": _loadavg(), "nproc": os.cpu_count(),
            "loadavg_1m_during_load": {"min": min(load_samples, default=None), "max": max(load_samples, default=None),
                                       "mean": round(statistics.fmean(load_samples), 2) if load_samples else None},
            "other_jvms_at_start": other_jvms,
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    finally:
        if publish_proc is not None and publish_proc.poll() is None:
            os.killpg(publish_proc.pid, signal.SIGTERM)
            try:
                publish_proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(publish_proc.pid, signal.SIGKILL)
        trino.stop(settings)
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            say(f"state kept in {base}")


if __name__ == "__main__":
    sys.exit(main())
