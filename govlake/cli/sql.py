"""`govlake sql --as USER "QUERY" [--json]`: a query through Trino as a registered identity."""
from __future__ import annotations

from govlake.cli import options


def register(sub) -> None:
    p = sub.add_parser("sql", help="run a SQL query through Trino as USER")
    options.add_as(p, required=True, help="identity from catalog/identities.yaml")
    p.add_argument("query")
    options.add_json(p, help="print rows as a JSON array of objects")
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.context import Context

    result = Context().sql(args.user, args.query)
    print(result.to_json() if args.json else result.to_table())
    return 0
