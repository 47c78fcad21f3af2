"""`govlake report compliance [--from D --to D] [--expiring-days N] [--json|--html] [--out FILE]` and
`govlake report transparency [--from D --to D] [--json|--html] [--out FILE]`: the compliance
officers' operations indicators and the public disclosure (信息公开, every count under 10
suppressed). See govlake/compliance/reports.py for what each number counts."""
from __future__ import annotations

import json
from pathlib import Path

from govlake.cli import options
from govlake.cli._output import info

TITLES = {"compliance": "govlake compliance report", "transparency": "Public disclosure: data sharing between departments (信息公开)"}


def register(sub) -> None:
    p = sub.add_parser("report", help="compliance indicators for officers; the public transparency disclosure")
    p.add_argument("kind", choices=tuple(TITLES))
    p.add_argument("--from", dest="start", metavar="D", help="window start, ISO date (UTC) or date-time with offset; default 30 days before --to")
    p.add_argument("--to", dest="end", metavar="D", help="window end, ISO date (inclusive, UTC) or date-time with offset; default now")
    p.add_argument("--expiring-days", type=int, default=30, metavar="N", help="compliance: list active contracts ending within N days")
    fmt = p.add_mutually_exclusive_group()
    options.add_json(fmt, help="one JSON object")
    fmt.add_argument("--html", action="store_true", help="a self-contained HTML page")
    p.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.context import Context

    ctx = Context()
    report, sections = ctx.report(args.kind, args.start, args.end, expiring_days=args.expiring_days, log=info)
    if args.json:
        text = json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n"
    elif args.html:
        text = ctx.render_report(TITLES[args.kind], sections, html=True)
    else:
        text = ctx.render_report(TITLES[args.kind], sections) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        info(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0
