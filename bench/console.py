"""Server time of the console's inbox, contract review and audit-search pages, with many
contracts and a long audit chain (no browser: the time the server takes to answer, through
the ASGI app in-process).

    .venv/bin/python bench/console.py [--contracts 1000] [--audit 1000000] [--repeat 30]

The audit pages show the result of the console's last full walk of the chain (the first view
after start-up walks it; later ones start a new walk in the background when it is older than
`console_verify_every_s`); the first view's time is reported separately.

A private state is built: N submitted contracts (each through the workflow, as `contract new` and
`submit` make them) and the audit chain topped up to M entries (bulk-inserted like
`bench/run.py audit`). Each page is requested --repeat times as the provider steward (inbox,
review) or the compliance officer (audit search); median and p95 in milliseconds.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))


def main() -> int:
    import sqlalchemy as sa
    import yaml
    from fastapi.testclient import TestClient

    from govlake.console.app import create_app
    from govlake.context import Context
    from govlake.core.settings import Settings
    from govlake.governance import audit, store
    from govlake.services import trino_security

    p = argparse.ArgumentParser()
    p.add_argument("--contracts", type=int, default=1000)
    p.add_argument("--audit", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args()
    now = datetime(2026, 11, 21, tzinfo=timezone.utc)
    work = Path(tempfile.mkdtemp(prefix="govlake-bench-console-"))
    ctx = Context(Settings(state_dir=work / "state"))
    base = yaml.safe_load((HERE / "policies" / "contracts" / "traffic-to-transport-flows.yaml").read_text())
    t = time.perf_counter()
    for i in range(args.contracts):
        path = work / f"c-{i:04d}.yaml"
        path.write_text(yaml.safe_dump({**base, "id": f"c-{i:04d}", "table": f"t{i}"}))
        ctx.new_contract(path, base["requester"], now)
        ctx.submit_contract(f"c-{i:04d}", base["requester"], now)
    contracts_s = time.perf_counter() - t
    with store.engine(ctx.settings).connect() as conn:
        have = conn.execute(sa.select(sa.func.max(store.audit_log.c.seq))).scalar() or 0
        prev = conn.execute(sa.select(store.audit_log.c.hash).where(store.audit_log.c.seq == have)).scalar()
    key = audit.chain_key(ctx.settings)
    rows, start = [], datetime(2026, 11, 22, tzinfo=timezone.utc).timestamp()
    for seq in range(have + 1, args.audit + 1):
        at = datetime.fromtimestamp(start + seq, tz=timezone.utc).isoformat(timespec="microseconds")
        detail = json.dumps({"query": "SELECT 1", "outcome": "ok"}, sort_keys=True)
        h = audit.entry_hash(seq, at, "li_transport_analyst", "trino.query", "trino:query", detail, prev, key=key)
        rows.append({"seq": seq, "at": at, "actor": "li_transport_analyst", "action": "trino.query", "object": "trino:query",
                     "detail": detail, "prev_hash": prev, "hash": h})
        prev = h
    with store.engine(ctx.settings).begin() as conn:
        for i in range(0, len(rows), 50_000):
            conn.execute(sa.insert(store.audit_log), rows[i:i + 50_000])
    audit.anchor_path(ctx.settings).write_text(json.dumps({"seq": args.audit, "hash": prev}))

    app = create_app(ctx, clock=lambda: now)

    def signed(user: str) -> TestClient:
        c = TestClient(app, base_url="https://127.0.0.1")
        token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"user": user, "password": trino_security.password(ctx.settings, user), "login_token": token})
        return c

    steward, officer = signed("liu_traffic_steward"), signed("zhao_compliance")
    out = {"contracts": args.contracts, "audit_entries": args.audit, "setup_contracts_s": round(contracts_s, 1)}
    t = time.perf_counter()
    assert 'id="verification" class="ok"' in officer.get("/audit").text  # the first view walks the whole chain
    out["audit first view (full chain walk)_ms"] = round((time.perf_counter() - t) * 1000)
    pages = {"inbox": (steward, "/inbox"), "review": (steward, f"/contracts/c-{args.contracts // 2:04d}"),
             "audit search (action prefix contract.)": (officer, "/audit?action=contract."),
             "audit search (actor and outcome refused)": (officer, "/audit?actor=li_transport_analyst&outcome=refused"),
             "audit search (object contains, no match: scans every entry)": (officer, "/audit?object=no-such-object"),
             "audit search (time window)": (officer, "/audit?since=2026-11-30T00:00&until=2026-12-01T00:00"),
             "audit page 50 (keyset)": (officer, f"/audit?before={args.audit - 50 * 100}")}
    for name, (client, path) in pages.items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            r = client.get(path)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (path, r.status_code)
        times.sort()
        out[name] = {"median_ms": round(statistics.median(times)), "p95_ms": round(times[int(0.95 * (len(times) - 1))])}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
