"""`govlake classify PATH|TABLE [--json]`: what personal information each column holds, by content.

Samples each column of a CSV / JSON lines / Parquet file or a lakehouse table (`base.events`),
reports per column the entity types found with the share of sampled non-empty values that
matched, and the proposed classification level. For a table, the declared classification from
`schemas/` is shown beside the proposal and disagreements are marked.
"""
from __future__ import annotations

from govlake.cli import options
from govlake.cli._output import emit_json
from govlake.core.errors import ConfigError

ACTIONS = ("review", "accept", "reject")


def register(sub) -> None:
    p = sub.add_parser("classify", help="propose a classification for each column of a file or table; review proposals",
                       description="govlake classify PATH|TABLE [--propose] [--json] | classify review [--all] | "
                                   "classify accept ID --as USER | classify reject ID --as USER --reason TEXT")
    p.add_argument("target", help="a .csv/.jsonl/.parquet file, a table such as base.detections, or review/accept/reject")
    p.add_argument("proposal", nargs="?", type=int, help="proposal id (accept, reject)")
    p.add_argument("--propose", action="store_true", help="record proposals for columns that disagree with their classification")
    options.add_as(p, default="etl_service", help="acting user (deciding needs the owner's steward or compliance)")
    p.add_argument("--reason", help="why (required to reject)")
    p.add_argument("--all", action="store_true", help="review: every proposal, not only pending ones")
    options.add_json(p)
    p.set_defaults(func=run)


def _review(args, ctx) -> int:
    if args.target == "review":
        rows = ctx.classification_proposals(pending_only=not args.all)
        if args.json:
            emit_json({"proposals": rows})
            return 0
        if not rows:
            print("no pending classification proposals")
        for r in rows:
            print(f"#{r['id']} {r['status']:<9} {r['target']}.{r['column_name']}: declared {r['declared_level']} "
                  f"-> proposed {r['proposed_level']} {r['proposed_pii_types']} (evidence {r['evidence']}; owner {r['owner']})")
        return 0
    if args.proposal is None:
        raise ConfigError(f"`govlake classify {args.target}` needs a proposal id; see `govlake classify review`")
    row = ctx.decide_proposal(args.proposal, args.user, args.target == "accept", args.reason)
    emit_json(row) if args.json else print(f"proposal #{row['id']} {row['status']} by {row['decided_by']}")
    return 0


def run(args) -> int:
    from govlake.context import Context

    ctx = Context()
    if args.target in ACTIONS:
        return _review(args, ctx)
    result = ctx.classify(args.target, propose=args.propose, actor=args.user)
    out, recorded = result["columns"], result["proposals"]
    if args.json:
        emit_json(result)
        return 0
    print(f"{args.target}: {len(out)} columns")
    for d in out:
        found = ", ".join(f"{k} {v:.0%}" for k, v in d["entities"].items()) or "no personal information found"
        note = f"  (declared {d['declared']['level']}{' - DISAGREES' if d.get('disagrees') else ''})" if "declared" in d else ""
        print(f"  {d['name']:<24} {d['level']:<4} {found}{note}")
    if recorded:
        print(f"recorded proposals {', '.join(f'#{i}' for i in recorded)}: see `govlake classify review`")
    return 0
