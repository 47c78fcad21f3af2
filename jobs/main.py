"""spark-submit entry point for the main job (landing -> base -> analytic -> application -> Trino).

    spark-submit jobs/main.py [--run-time 2026-11-21T00:05:00+00:00] [--no-serve]

The session comes from govlake's factory, so the same settings (GOVLAKE_SPARK_MASTER, warehouse,
Trino) apply as for `govlake run`.
"""
from __future__ import annotations

import argparse
import json
import sys

from govlake.context import Context
from govlake.core import times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-time", help="logical time, ISO 8601 with offset (default: now)")
    parser.add_argument("--no-serve", action="store_true")
    args = parser.parse_args(argv)
    run_time = times.parse(args.run_time, "--run-time") if args.run_time else times.now()
    report = Context().run(run_time, serve=not args.no_serve)
    print(json.dumps(report.as_dict(), default=str, ensure_ascii=False))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
