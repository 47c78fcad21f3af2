"""`govlake contract new|validate|submit|approve|reject|revoke|list|show|diff`: sharing contracts.

Every command that changes a contract acts `--as` a registered identity; the workflow decides
whether that person may (see govlake/contracts/workflow.py). `--at` sets the acting time
(ISO 8601, default now) for rehearsals and tests.
"""
from __future__ import annotations

from pathlib import Path

from govlake.cli import options
from govlake.cli._output import emit_json
from govlake.core.errors import ConfigError

ACTIONS = ("new", "validate", "submit", "approve", "reject", "revoke", "list", "show", "diff")


def register(sub) -> None:
    p = sub.add_parser("contract", help="sharing contracts: create, validate, submit, approve, reject, revoke, list, show, diff",
                       description="govlake contract new FILE --as USER | validate FILE|ID | submit ID --as USER [--file FILE] | "
                                   "approve ID --as USER | reject ID --as USER --reason R | revoke ID --as USER --reason R | "
                                   "list | show ID | diff ID [--file FILE]")
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("target", nargs="?", help="contract id, or a contract file (new, validate)")
    options.add_as(p, help="acting identity (catalog/identities.yaml)")
    p.add_argument("--file", type=Path, help="submit/diff: a changed specification")
    p.add_argument("--reason", help="why (required to reject or revoke)")
    options.add_time(p, "--at", help="acting time, ISO 8601 with offset (default: now)")
    options.add_json(p)
    p.set_defaults(func=run)


def _need(args, *names: str) -> None:
    for n in names:
        if not getattr(args, n):
            flag = {"target": "a contract id or file", "user": "--as USER", "reason": "--reason TEXT"}[n]
            raise ConfigError(f"`govlake contract {args.action}` needs {flag}")


def run(args) -> int:
    from govlake.context import Context

    ctx = Context()
    when = options.when(args)
    act = args.action
    if act == "list":
        rows = [r.as_dict() for r in ctx.contracts()]
        if args.json:
            emit_json({"contracts": rows})
        else:
            for r in rows:
                ok = ", ".join(f"{a['capacity']}:{a['actor']}" for a in r["approvals"]) or "-"
                print(f"{r['id']:<40} {r['status']:<10} {r['provider']} -> {r['consumer']}  approvals {ok}  "
                      f"valid {r['valid_from'][:10]}..{r['valid_to'][:10]}  spec {r['spec_hash'][:12]}")
            if not rows:
                print("no contracts yet; create one with `govlake contract new FILE --as USER`")
        return 0
    _need(args, "target")
    if act == "validate":
        check = ctx.check_contract(args.target, when)
        spec, found = check.spec, check.problems
        if args.json:
            emit_json({"contract": spec.id, "valid": not found, "problems": [p.__dict__ for p in found],
                       "needs_compliance": check.needs_compliance})
        else:
            for p in found:
                print(p.render(spec.id))
            if not found:
                print(f"contract `{spec.id}` is valid (spec {spec.content_hash()[:12]}; compliance co-approval "
                      f"{'required' if check.needs_compliance else 'not required'})")
        return 1 if found else 0
    if act == "show":
        rec = ctx.contract(args.target)
        if args.json:
            emit_json(rec.as_dict(full=True))
        else:
            print(f"contract {rec.id}: {rec.status} ({rec.provider} -> {rec.consumer}, requested by {rec.requester})")
            print(f"spec {rec.spec_hash}; compliance co-approval {'required' if rec.needs_compliance else 'not required'}")
            print(rec.spec_yaml.rstrip())
            print("history:")
            for e in rec.events:
                print(f"  {e['at']}  {e['action']:<8} {e['from_status'] or '-':>9} -> {e['to_status']:<9} by {e['actor']}"
                      f"  spec {e['spec_hash'][:12]}{'  (' + e['reason'] + ')' if e['reason'] else ''}")
        return 0
    if act == "diff":
        text = ctx.contract_diff(args.target, args.file)
        if args.json:
            emit_json({"contract": args.target, "diff": text})
        else:
            print(text if text else "no differences", end="" if text else "\n")
        return 0
    _need(args, "user")
    if act == "new":
        rec = ctx.new_contract(args.target, args.user, when)
    elif act == "submit":
        rec = ctx.submit_contract(args.target, args.user, when, args.file)
    elif act == "approve":
        rec = ctx.approve_contract(args.target, args.user, when)
    elif act in ("reject", "revoke"):
        _need(args, "reason")
        rec = getattr(ctx, f"{act}_contract")(args.target, args.user, args.reason, when)
    else:  # pragma: no cover - argparse restricts the choices
        raise ConfigError(f"unknown action {act}")
    if args.json:
        emit_json(rec.as_dict())
    else:
        waiting = ""
        if rec.status == "submitted" and rec.approvals:
            waiting = f"; approvals so far: {', '.join(a['capacity'] + ':' + a['actor'] for a in rec.approvals)}"
        print(f"contract {rec.id}: {rec.status}{waiting}")
    return 0
