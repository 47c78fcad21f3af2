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

from govlake.core.errors import QueryError, ServiceUnavailable
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
        if exc.error_name in STARTING:
            raise ServiceUnavailable("Trino", settings.trino_endpoint, "it is still starting") from exc
        raise QueryError(f"query failed for user `{user}`: {exc.message}") from exc
    except trino.exceptions.HttpError as exc:
        if "401" in str(exc):
            raise QueryError(f"Trino refused the credentials of `{user}` (401); run `govlake up` to (re)generate local passwords") from exc
        if why := unreachable(exc):
            raise ServiceUnavailable("Trino", settings.trino_endpoint, why) from exc
        raise
    except (trino.exceptions.TrinoConnectionError, ConnectionError, OSError) as exc:
        why = unreachable(exc) or f"{type(exc).__name__}; check GOVLAKE_TRINO_URL / GOVLAKE_TRINO_PORT"
        raise ServiceUnavailable("Trino", settings.trino_endpoint, why) from exc
    finally:
        conn.close()


STARTING = {"SERVER_STARTING_UP", "SERVER_SHUTTING_DOWN"}  # Trino's own error names while it comes up or goes down


def unreachable(exc: BaseException) -> str | None:
    """Why `exc` means the server is not there (refused, reset, timed out, answering 502/503/504
    while it starts), in a few words; None for any other failure. Looks through the chain of
    causes the HTTP client wraps a socket error in."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError) or "Connection refused" in str(e):
            return "connection refused: it is not running"
        if isinstance(e, ConnectionResetError) or "Connection aborted" in str(e) or "RemoteDisconnected" in str(e):
            return "connection reset: it went away during the request"
        if isinstance(e, TimeoutError) or type(e).__name__ in ("ConnectTimeout", "ReadTimeout", "ConnectTimeoutError"):
            return "timed out: it is not answering"
        for code in (502, 503, 504):
            if type(e).__name__ == f"Http{code}Error":
                return f"HTTP {code}: it is starting or overloaded"
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None) if isinstance(getattr(e, "reason", None), BaseException) else None]
        todo += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
    return None
