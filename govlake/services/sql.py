"""SQL through Trino, as a named identity.

Every query runs as a user from the identity registry; an unknown user is refused before any
connection is made. Results come back as column names plus rows, printed as a table for people
or as JSON rows for machines.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
from dataclasses import dataclass
from urllib.parse import urlparse

from govlake.core.errors import QueryError, ServiceError
from govlake.core.settings import Settings
from govlake.domain import identities
from govlake.services import trino_security


@dataclass
class Result:
    columns: list[str]
    rows: list[list]
    truncated: bool = False  # more rows than were fetched

    def as_dicts(self) -> list[dict]:
        return [dict(zip(self.columns, r)) for r in self.rows]

    def to_json(self) -> str:
        return json.dumps(self.as_dicts(), ensure_ascii=False, default=_json_default)

    def to_table(self) -> str:
        from tabulate import tabulate

        return tabulate([[_fmt(v) for v in r] for r in self.rows], headers=self.columns, tablefmt="psql", disable_numparse=True) + f"\n({len(self.rows)} rows)"


def _json_default(v):
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    return str(v)


def _fmt(v):
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return v


def connect(settings: Settings, user: str, *, password: str | None = None):
    """A DB-API connection authenticated as `user` (password from the local secret store)."""
    import trino

    identities.load(settings).get(user)
    url = urlparse(settings.trino_endpoint)
    extra: dict = {}
    if url.scheme == "https":
        extra["auth"] = trino.auth.BasicAuthentication(user, password if password is not None else trino_security.password(settings, user))
        cert = trino_security.client_cert(settings)
        if cert is not None and not settings.trino_url:
            import requests

            # verify against the generated certificate; an own session because requests lets
            # REQUESTS_CA_BUNDLE in the environment override a session's `verify`
            session = requests.Session()
            session.trust_env = False
            session.verify = str(cert)
            extra["http_session"] = session
    return trino.dbapi.connect(
        host=url.hostname, port=url.port or (443 if url.scheme == "https" else 80), http_scheme=url.scheme,
        user=user, catalog=settings.trino_catalog, request_timeout=120, **extra,
    )


def query(settings: Settings, user: str, sql: str, *, password: str | None = None, max_rows: int | None = None) -> Result:
    """`sql` as `user`; with `max_rows`, only that many rows are fetched (the query is then
    cancelled) and the result says it was cut."""
    import trino

    conn = connect(settings, user, password=password)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        rows = cur.fetchall() if max_rows is None else cur.fetchmany(max_rows + 1)
        columns = [d[0] for d in cur.description] if cur.description else []
        truncated = max_rows is not None and len(rows) > max_rows
        if truncated:
            cur.cancel()
        return Result(columns, [list(r) for r in rows[:max_rows]], truncated)
    except trino.exceptions.TrinoQueryError as exc:
        raise QueryError(f"query failed for user `{user}`: {exc.message}") from exc
    except trino.exceptions.HttpError as exc:
        if "401" in str(exc):
            raise QueryError(f"Trino refused the credentials of `{user}` (401); run `govlake up` to (re)generate local passwords") from exc
        raise
    except (trino.exceptions.TrinoConnectionError, ConnectionError, OSError) as exc:
        raise ServiceError(f"cannot reach Trino at {settings.trino_endpoint}; start it with `govlake up` (or check GOVLAKE_TRINO_URL / GOVLAKE_TRINO_PORT)", transient=True) from exc
    finally:
        conn.close()
