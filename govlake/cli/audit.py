"""`govlake audit verify [--anchor FILE] [--json]` / `govlake audit list [--limit N] [--action PREFIX] [--json]` /
`govlake audit anchor [--out FILE]`: the keyed hash chain of governance actions and queries.
`verify` exits 1 and names the first bad entry when any entry was edited, deleted, inserted or
reordered, or when the chain no longer holds a head kept elsewhere; `anchor` gives the current
head for a compliance officer to keep outside govlake."""
from __future__ import annotations

import json
from pathlib import Path

from govlake.cli import options
from govlake.cli._output import emit_json


def register(sub) -> None:
    p = sub.add_parser("audit", help="the tamper-evident audit log: verify the chain, list entries, export the head")
    p.add_argument("action", choices=("verify", "list", "anchor"))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--action", dest="prefix", metavar="PREFIX", help="list: only actions starting with PREFIX, e.g. contract.")
    p.add_argument("--anchor", type=Path, metavar="FILE", help="verify: also check the heads kept in FILE (from `audit anchor`)")
    p.add_argument("--out", type=Path, metavar="FILE", help="anchor: append the head to FILE instead of printing it")
    options.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.context import Context

    ctx = Context()
    if args.action == "anchor":
        head = ctx.anchor_audit(args.out) if args.out else ctx.audit_head()
        if head is None:
            print("the audit log is empty: nothing to anchor")
            return 1
        if args.out:
            print(f"head {head['seq']} appended to {args.out}; keep it where govlake's service account cannot rewrite it")
        else:
            print(json.dumps(head))
        return 0
    if args.action == "verify":
        result = ctx.verify_audit(args.anchor)
        if args.json:
            emit_json(result.as_dict())
        elif result.ok:
            kept = f", {result.anchors} head{'s' if result.anchors != 1 else ''} kept elsewhere" if result.anchors else ""
            print(f"audit log intact: {result.entries} entries, {'keyed ' if result.keyed else ''}chain and head anchor verified{kept}")
        else:
            print(f"audit log TAMPERED: first bad entry {result.first_bad}: {result.problem}")
        return 0 if result.ok else 1
    rows = ctx.audit_entries(args.limit, args.prefix)
    if args.json:
        emit_json(rows)
    else:
        for r in rows:
            print(f"{r['seq']:>7} {r['at'][:19]} {r['actor']:<22} {r['action']:<24} {r['object']:<44} {r['detail'][:80]}")
    return 0
