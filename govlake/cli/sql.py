"""`govlake sql --as USER "QUERY" [--json]`: a query through Trino as a registered identity."""
from __future__ import annotations

from govlake.core.settings import load_settings


def register(sub) -> None:
    p = sub.add_parser("sql", help="run a SQL query through Trino as USER")
    p.add_argument("--as", dest="user", required=True, help="identity from catalog/identities.yaml")
    p.add_argument("query")
    p.add_argument("--json", action="store_true", help="print rows as a JSON array of objects")
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.services import sql

    result = sql.query(load_settings(), args.user, args.query)
    print(result.to_json() if args.json else result.to_table())
    return 0
