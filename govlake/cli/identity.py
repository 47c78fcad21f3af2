"""`govlake identity list [--json]`: the identities Trino knows (user, department, role).
`govlake identity connect USER [--show-password]`: how to reach Trino as USER with any client
(the trino CLI, JDBC, Python): URL, certificate to trust, user; the local password only on request."""
from __future__ import annotations

from govlake.cli import options
from govlake.cli._output import emit_json


def register(sub) -> None:
    p = sub.add_parser("identity", help="identities (users, departments, roles)")
    s = p.add_subparsers(dest="action", required=True)
    q = s.add_parser("list", help="list identities")
    options.add_json(q)
    q.set_defaults(func=list_)
    c = s.add_parser("connect", help="connection parameters for any Trino client as USER")
    c.add_argument("user")
    c.add_argument("--show-password", action="store_true", help="print the local password too (it is never logged)")
    options.add_json(c)
    c.set_defaults(func=connect)


def connect(args) -> int:
    from govlake.context import Context

    out = Context().connection(args.user, with_password=args.show_password)
    if args.json:
        emit_json(out)
    else:
        for k, v in out.items():
            print(f"{k:12} {v}")
        print(f"\ne.g. trino --server {out['url']} --user {args.user} --password --truststore-path {out['certificate']} "
              f"--catalog {out['catalog']}   (reads the password from TRINO_PASSWORD)")
    return 0


def list_(args) -> int:
    from govlake.context import Context

    rows = [{"user": i.user, "department": i.department, "role": i.role.value, "groups": i.groups, "name": i.name} for i in Context().identities()]
    if args.json:
        emit_json(rows)
    else:
        for r in rows:
            print(f"{r['user']:24} {r['department']:10} {r['role']:11} {r['name']}")
    return 0
