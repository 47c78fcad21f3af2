"""The `govlake` command: one module per noun, each a thin shell over the service layer.

Output for people goes to stdout, `--json` gives machine-readable output, logs go to stderr,
and failures exit non-zero with a message that says what to do.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from govlake.core.errors import GovlakeError

MODULES = ("services", "sql", "identity", "department", "generate", "ingest", "run", "demo", "scrub", "classify", "contract", "publish", "audit", "lineage", "report", "retention", "erase", "console", "backup", "keys")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="govlake", description="govlake: governed data federation lakehouse")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    parser.add_argument("--profile", help="settings profile for this command (infra/profiles/: embedded, cluster); "
                                          "same as GOVLAKE_PROFILE")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in MODULES:
        importlib.import_module(f"govlake.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "profile", None):  # before any settings load; child processes (jobs, Airflow tasks) inherit it
        os.environ["GOVLAKE_PROFILE"] = args.profile
    for noisy in ("py4j", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except GovlakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
