"""`govlake audit verify [--json]` / `govlake audit list [--limit N] [--action PREFIX] [--json]`:
the hash-chained log of governance actions. `verify` exits 1 and names the first bad entry when
any entry was edited, deleted, inserted or reordered."""
from __future__ import annotations

from govlake.cli._output import emit_json
from govlake.settings import load_settings


def register(sub) -> None:
    p = sub.add_parser("audit", help="the tamper-evident audit log: verify the chain, list entries")
    p.add_argument("action", choices=("verify", "list"))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--action", dest="prefix", metavar="PREFIX", help="list: only actions starting with PREFIX, e.g. contract.")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.governance import audit

    settings = load_settings()
    if args.action == "verify":
        result = audit.verify(settings)
        if args.json:
            emit_json(result.as_dict())
        elif result.ok:
            print(f"audit log intact: {result.entries} entries, chain and head anchor verified")
        else:
            print(f"audit log TAMPERED: first bad entry {result.first_bad}: {result.problem}")
        return 0 if result.ok else 1
    rows = audit.entries(settings, args.limit, args.prefix)
    if args.json:
        emit_json(rows)
    else:
        for r in rows:
            print(f"{r['seq']:>7} {r['at'][:19]} {r['actor']:<22} {r['action']:<24} {r['object']:<44} {r['detail'][:80]}")
    return 0
