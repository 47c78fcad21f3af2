"""`govlake identity list [--json]`: the identities Trino knows (user, department, role)."""
from __future__ import annotations

from govlake import identities
from govlake.cli._output import emit_json
from govlake.settings import load_settings


def register(sub) -> None:
    p = sub.add_parser("identity", help="identities (users, departments, roles)")
    s = p.add_subparsers(dest="action", required=True)
    q = s.add_parser("list", help="list identities")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=list_)


def list_(args) -> int:
    reg = identities.load(load_settings())
    rows = [{"user": i.user, "department": i.department, "role": i.role.value, "groups": i.groups, "name": i.name} for i in reg.identities]
    if args.json:
        emit_json(rows)
    else:
        for r in rows:
            print(f"{r['user']:24} {r['department']:10} {r['role']:11} {r['name']}")
    return 0
