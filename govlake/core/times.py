"""Times at govlake's edges: one rule, applied once where a time enters.

A time given by a person (`--run-time`, `--at`) must carry its offset: a bare wall-clock time is
refused, not guessed. A time from Airflow (a pendulum DateTime) is aware already. Inside, govlake
works with plain `datetime` objects in UTC (`as_utc`); Spark's row conversion rejects pendulum's.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from govlake.core.errors import ConfigError


def as_utc(when: datetime) -> datetime:
    """`when` as a plain datetime in UTC; a time without an offset is refused."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ConfigError(f"time `{when.isoformat()}` has no timezone offset; give one, e.g. `2026-11-21T08:00:00+08:00`")
    return datetime.fromtimestamp(when.timestamp(), tz=timezone.utc)


def parse(text: str, flag: str = "time") -> datetime:
    """An ISO 8601 time with offset, from a person, as UTC (`flag` names it in the error)."""
    try:
        t = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{flag} `{text}` is not an ISO 8601 time; e.g. 2026-11-21T08:00:00+08:00") from exc
    if t.tzinfo is None:
        raise ConfigError(f"{flag} `{text}` has no timezone offset; give one, e.g. `2026-11-21T08:00:00+08:00`")
    return as_utc(t)


def now() -> datetime:
    return datetime.now(timezone.utc)


def logical_time(context: dict) -> datetime:
    """An Airflow task's logical time, as UTC. Runs that have none (triggered by hand without a
    date, or by an asset event) use the time the run was due (`dag_run.run_after`)."""
    when = context.get("logical_date") or getattr(context.get("dag_run"), "run_after", None) or context.get("run_after")
    if when is None:
        raise ValueError("the Airflow context has neither a logical date nor a run's due time (dag_run.run_after)")
    return as_utc(when)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, flag: str = "duration") -> timedelta:
    """A span such as `90s`, `30m`, `24h` or `7d` from a person (`flag` names it in the error)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text or "")
    if not m or float(m.group(1)) <= 0:
        raise ConfigError(f"{flag} `{text}` is not a duration; give a number and a unit s, m, h or d, e.g. `1h`, `24h`, `7d`")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
