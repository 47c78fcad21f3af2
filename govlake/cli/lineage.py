"""`govlake lineage TABLE[.COLUMN] [--downstream|--upstream] [--json]`: where a column's values
went (or came from), the transformation on each edge (masking method, aggregation, identity),
each column's effective classification level along lineage, and the sharing contracts and
consumer departments that receive it."""
from __future__ import annotations

from govlake.cli import options
from govlake.cli._output import emit_json


def register(sub) -> None:
    p = sub.add_parser("lineage", help="column lineage: downstream or upstream of a table or column")
    p.add_argument("target", metavar="TABLE[.COLUMN]", help="e.g. base.detections.plate_no or analytic.flow_hourly")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--downstream", dest="direction", action="store_const", const="downstream")
    way.add_argument("--upstream", dest="direction", action="store_const", const="upstream")
    options.add_json(p)
    p.set_defaults(func=run, direction="downstream")


def run(args) -> int:
    from govlake.context import Context

    result = Context().lineage(args.target, args.direction)
    if args.json:
        emit_json(result)
        return 0
    arrow = "->" if args.direction == "downstream" else "<-"
    for s in result["start"]:
        print(f"{s['column']} [{s['level']}]")
    for e in result["edges"]:
        far = e["to"] if args.direction == "downstream" else e["from"]
        level = e["to_level"] if args.direction == "downstream" else e["from_level"]
        near = e["from"] if args.direction == "downstream" else e["to"]
        via = f"  contract {e['contract']} -> {e['consumer']}" if e["contract"] else ""
        print(f"{'  ' * e['depth']}{near} {arrow}[{e['transformation']}]{arrow} {far} [{level}]{via}")
    if not result["edges"]:
        print(f"(no {args.direction} lineage recorded)")
    if args.direction == "downstream":
        shared = ", ".join(f"{c['consumer']} ({c['contract']})" for c in result["contracts"]) or "no consumer department"
        print(f"received by: {shared}")
    return 0
