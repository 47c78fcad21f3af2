"""`govlake lineage TABLE[.COLUMN] [--downstream|--upstream] [--json]`: where a column's values
went (or came from), the transformation on each edge (masking method, aggregation, identity),
each column's effective classification level along lineage, and the sharing contracts and
consumer departments that receive it."""
from __future__ import annotations

from govlake.cli import options
from govlake.cli._output import emit_json
from govlake.core.errors import GovlakeError
from govlake.core.settings import load_settings


def register(sub) -> None:
    p = sub.add_parser("lineage", help="column lineage: downstream or upstream of a table or column")
    p.add_argument("target", metavar="TABLE[.COLUMN]", help="e.g. base.detections.plate_no or analytic.flow_hourly")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--downstream", dest="direction", action="store_const", const="downstream")
    way.add_argument("--upstream", dest="direction", action="store_const", const="upstream")
    options.add_json(p)
    p.set_defaults(func=run, direction="downstream")


def query(settings, target: str, direction: str) -> dict:
    from govlake.domain import levels, policies, schemas
    from govlake.governance import lineage

    dataset, column = lineage.parse_target(target)
    edges = lineage.edges(settings)
    declared = schemas.declared_levels(settings)
    known = {n for e in edges for n in (e.source, e.target)} | set(declared)
    start = sorted(n for n in known if n[0] == dataset and (column is None or n[1] == column))
    if not start:
        raise GovlakeError(f"`{target}` has no lineage and no schema; check the name (`govlake lineage base.detections --downstream` lists what exists)")
    effective = levels.effective_levels(edges, declared, policies.deidentifications(settings))
    found = lineage.walk(edges, start, direction)
    contracts = sorted({(e.contract, e.consumer) for _, e in found if e.contract})
    name = lambda n: ".".join(n)  # noqa: E731
    return {
        "target": target, "direction": direction,
        "start": [{"column": name(n), "level": effective.get(n)} for n in start],
        "edges": [{"depth": d, "from": name(e.source), "to": name(e.target), "transformation": e.transformation,
                   "masking": e.masking, "from_level": effective.get(e.source), "to_level": effective.get(e.target),
                   "contract": e.contract, "consumer": e.consumer, "job": e.job} for d, e in found],
        "contracts": [{"contract": c, "consumer": d} for c, d in contracts],
        "consumers": sorted({d for _, d in contracts if d}),
    }


def run(args) -> int:
    result = query(load_settings(), args.target, args.direction)
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
