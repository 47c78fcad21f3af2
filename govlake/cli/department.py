"""`govlake department list|validate [--json]`: the department registry."""
from __future__ import annotations

from govlake.cli import options
from govlake.cli._output import emit_json


def register(sub) -> None:
    p = sub.add_parser("department", help="the department registry (catalog/departments)")
    s = p.add_subparsers(dest="action", required=True)
    q = s.add_parser("list", help="list registered departments")
    options.add_json(q)
    q.set_defaults(func=list_)
    q = s.add_parser("validate", help="validate every registry file (or the given ones)")
    q.add_argument("files", nargs="*")
    options.add_json(q)
    q.set_defaults(func=validate)


def list_(args) -> int:
    from govlake.context import Context

    depts = Context().departments()
    rows = [
        {"id": d.id, "name": d.name, "timezone": d.timezone, "coordinate_system": d.coordinate_system,
         "schedule": d.schedule, "formats": {e: s.format for e, s in d.sources.items()}, "stewards": d.stewards}
        for d in depts
    ]
    if args.json:
        emit_json(rows)
    else:
        for r in rows:
            fmts = ", ".join(f"{e}:{f}" for e, f in r["formats"].items())
            print(f"{r['id']:12} {r['coordinate_system']:7} {r['timezone']:15} {fmts:40} {r['name']}")
    return 0


def validate(args) -> int:
    from pathlib import Path

    from govlake.context import Context

    found = Context().check_department_files([Path(f) for f in args.files])
    results = [{"file": str(f), "ok": True} if error is None else {"file": str(f), "ok": False, "error": error} for f, error in found.items()]
    if args.json:
        emit_json(results)
    else:
        for r in results:
            print(f"ok    {r['file']}" if r["ok"] else f"FAIL  {r['error']}")
    return 0 if all(r["ok"] for r in results) else 1
