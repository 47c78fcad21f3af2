"""Race several Spark drivers appending to one Delta table on s3a://, with a chosen LogStore.

    .venv/bin/python bench/logstore_race.py --logstore io.delta.storage.S3SingleDriverLogStore --drivers 3 --appends 6 --tries 2

The race of tests/cluster/test_logstore.py (its `race` helper, on govlake's object store started
on a free loopback port), without its assertions: for each try, a new table; it prints the
versions committed against the appends made, the rows read back against those appended, the
rows per driver and how many commits lost a race and were retried at a later version. With
govlake's LogStore (the default) nothing is lost; the stock S3SingleDriverLogStore, which is
safe only inside one JVM, may lose commits silently (every driver still exits without an error).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govlake.platform import logstore  # noqa: E402
from tests.cluster.test_logstore import ROWS, race, running_store  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logstore", default=logstore.CLASS, help="the LogStore class for s3a:// and s3:// (default: govlake's)")
    parser.add_argument("--drivers", type=int, default=3)
    parser.add_argument("--appends", type=int, default=6, help="appends per driver")
    parser.add_argument("--tries", type=int, default=2)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="govlake-logstore-race-"))
    lost_any = False
    try:
        with running_store(base / "state") as settings:
            total = args.drivers * args.appends
            print(f"{args.logstore}: {args.drivers} drivers x {args.appends} appends of {ROWS} rows, {args.tries} tries", flush=True)
            for n in range(1, args.tries + 1):
                work = base / f"try-{n}"
                work.mkdir()
                result, _, wall = race(settings, work, store_class=args.logstore, drivers=args.drivers, appends=args.appends)
                versions = len(result["versions"]) - 1  # version 0 creates the table
                lost_any |= versions != total or result["rows"] != total * ROWS
                print(f"try {n}: {versions} versions for {total} appends, {result['rows']} rows of {total * ROWS} "
                      f"(distinct ids {result['distinct_ids']}), per driver {result['per_driver']}, "
                      f"{result['retried']} commits retried; {wall:.1f} s", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print("commits were lost" if lost_any else "no commit lost")
    return 0


if __name__ == "__main__":
    sys.exit(main())
