"""Token key rotation: a new key, the analytic and application tiers re-tokenised with it, the
earlier key held for an overlap and then retired.

While an earlier key is held, a token made with it still names its subject: an erasure request
quoting one is resolved through base to the identifier and carried out under the active key
(compliance.erasure). Once retired, tokens made with it can no longer be linked to anyone.

The rotation holds the lake alone (core.locks): no ingest, build or publish runs while the
tiers change keys, and the earlier versions of the analytic tables (which hold the earlier
tokens, so time travel would link the two pseudonyms of one subject) are vacuumed away. The
application tables' earlier versions go with the publish's own vacuum, after the readers' grace.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.sql import SparkSession

from govlake.core import locks, times
from govlake.core.errors import GovlakeError
from govlake.core.settings import Settings
from govlake.governance import audit, lake_locks
from govlake.pipeline import analytic, main_job
from govlake.platform import lake, secrets
from govlake.services import serving


def rotate(spark: SparkSession, settings: Settings, when: datetime, overlap: timedelta, *, serve: bool = True) -> dict:
    """Rotate the token key at `when` and re-tokenise the tiers; returns what was done."""
    when = times.as_utc(when)
    with locks.lake_maintenance(lake_locks.space(settings), "token key rotation"):
        old, new = secrets.rotate(settings, when, overlap)
        retire_after = (when + overlap).isoformat()
        try:
            rows = analytic.build(spark, settings, secrets.token_key(settings))
            for table in analytic.ANALYTIC_TABLES:
                lake.vacuum_now(spark, lake.table_path(settings, "analytic", table), 0.0)
            published, _ = main_job.publish(spark, settings, when, serve=serve)
        except Exception as exc:
            audit.record(settings, serving.SERVICE_USER, "keys.rotated", "secret:token_key", {
                "from": old, "to": new, "retire_after": retire_after, "retokenised": False, "error": type(exc).__name__})
            raise GovlakeError(f"token key `{new}` is active, but re-tokenising stopped ({type(exc).__name__}); the analytic and "
                               f"application tiers still hold tokens of `{old}`: run `govlake run` (or the main DAG) to finish",
                               transient=True) from exc
        result = {"from": old, "to": new, "retire_after": retire_after, "retokenised": True,
                  "analytic_rows": rows, "application_tables": {f"{p.schema}.{p.table}": p.rows for p in published}}
        audit.record(settings, serving.SERVICE_USER, "keys.rotated", "secret:token_key", result)
        return result


def retire(settings: Settings, when: datetime) -> list[str]:
    """Drop the earlier keys whose overlap ended by `when` (audited); returns their ids."""
    gone = secrets.retire(settings, times.as_utc(when))
    if gone:
        audit.record(settings, serving.SERVICE_USER, "keys.retired", "secret:token_key", {"retired": gone, "at": times.as_utc(when).isoformat()})
    return gone
