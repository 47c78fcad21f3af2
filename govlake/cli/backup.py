"""`govlake backup --out FILE` / `govlake restore FILE`: the governance store (contracts,
approvals, the audit chain, lineage, proposals) and the keys that check it, in one encrypted
file. The passphrase comes from stdin (`--passphrase-stdin`) or GOVLAKE_BACKUP_PASSPHRASE, never
an argument. A restore goes into an empty state folder and ends by verifying the audit chain."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from govlake.cli import options
from govlake.cli._output import emit_json

PASSPHRASE_ENV = "GOVLAKE_BACKUP_PASSPHRASE"


def register(sub) -> None:
    p = sub.add_parser("backup", help="an encrypted backup of the governance store and its keys")
    p.add_argument("--out", type=Path, required=True, metavar="FILE")
    p.add_argument("--passphrase-stdin", action="store_true", help=f"read the passphrase from stdin (else {PASSPHRASE_ENV})")
    options.add_json(p)
    p.set_defaults(func=run_backup)
    r = sub.add_parser("restore", help="restore a backup into an empty state folder and verify the audit chain")
    r.add_argument("file", type=Path)
    r.add_argument("--passphrase-stdin", action="store_true", help=f"read the passphrase from stdin (else {PASSPHRASE_ENV})")
    options.add_json(r)
    r.set_defaults(func=run_restore)


def _passphrase(args) -> str:
    return sys.stdin.readline().rstrip("\n") if args.passphrase_stdin else os.environ.get(PASSPHRASE_ENV, "")


def run_backup(args) -> int:
    from govlake.context import Context

    manifest = Context().backup(args.out, _passphrase(args))
    if args.json:
        emit_json(manifest)
        return 0
    head = manifest["audit_head"]
    print(f"backup written to {manifest['file']} ({manifest['file_bytes']} bytes, encrypted); "
          f"audit head {head['seq'] if head else '-'}; members: {', '.join(sorted(manifest['members']))}")
    return 0


def run_restore(args) -> int:
    from govlake.context import Context

    manifest, verification = Context().restore(args.file, _passphrase(args))
    if args.json:
        emit_json({"manifest": manifest, "audit": verification.as_dict()})
    else:
        print(f"restored the backup of {manifest['created_at']} ({', '.join(sorted(manifest['members']))})")
        print(f"audit chain {'intact' if verification.ok else 'BROKEN'}: {verification.entries} entries"
              + ("" if verification.ok else f"; {verification.problem}"))
    return 0 if verification.ok else 1
