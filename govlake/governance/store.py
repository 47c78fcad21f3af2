"""The governance store: decisions that are not data (classification proposals and their review;
sharing contracts, every version of their specification, approvals and state transitions).

Where it is: `GOVLAKE_GOVERNANCE_URL` (a PostgreSQL server, postgresql+psycopg://...) for a
shared deployment; else the `governance` database of the PostgreSQL govlake runs itself when
`postgres_port` is set (the cluster profile, services/postgres.py); else SQLite under the state
folder. SQLite and PostgreSQL are the two dialects it runs on.

Writers that read before they write (the audit chain's next seq, a contract's state) take the
store's writer lock for their whole transaction (`writing`): on SQLite the database's own write
lock, taken at BEGIN; on PostgreSQL a transaction-scoped advisory lock. So such transactions
from any number of processes and hosts run one after another, each seeing the last one's commit.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa

from govlake.core import private
from govlake.core.errors import ConfigError, ServiceUnavailable
from govlake.core.settings import Settings
from govlake.platform import postgres_access

metadata = sa.MetaData()

classification_proposals = sa.Table(
    "classification_proposals", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("target", sa.String(300), nullable=False),  # <tier>.<table>
    sa.Column("column_name", sa.String(200), nullable=False),
    sa.Column("owner", sa.String(64), nullable=False),  # department deciding (platform: compliance officers)
    sa.Column("declared_level", sa.String(8)),
    sa.Column("declared_pii_type", sa.String(32)),
    sa.Column("proposed_level", sa.String(8), nullable=False),
    sa.Column("proposed_pii_types", sa.JSON, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),  # entity type -> share of sampled values
    sa.Column("status", sa.String(16), nullable=False),  # pending | accepted | rejected | superseded
    sa.Column("proposed_by", sa.String(64), nullable=False),
    sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_by", sa.String(64)),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("reason", sa.Text),
)

# One row per contract: its current specification and state. Versions, approvals and events
# are append-only; nothing is updated in place except the current state here.
contracts = sa.Table(
    "contracts", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("consumer", sa.String(32), nullable=False),
    sa.Column("requester", sa.String(64), nullable=False),
    sa.Column("spec_yaml", sa.Text, nullable=False),
    sa.Column("spec_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # draft|submitted|approved|active|expired|revoked|rejected
    sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
    sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.Text),
)

contract_versions = sa.Table(
    "contract_versions", metadata,
    sa.Column("contract_id", sa.String(64), primary_key=True),
    sa.Column("spec_hash", sa.String(64), primary_key=True),
    sa.Column("spec_yaml", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_by", sa.String(64), nullable=False),
)

contract_approvals = sa.Table(
    "contract_approvals", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("contract_id", sa.String(64), nullable=False, index=True),
    sa.Column("spec_hash", sa.String(64), nullable=False),  # an approval binds to this content only
    sa.Column("capacity", sa.String(16), nullable=False),  # steward | compliance
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

contract_events = sa.Table(
    "contract_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("contract_id", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_status", sa.String(16)),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("spec_hash", sa.String(64), nullable=False),
)


def url(settings: Settings) -> str:
    if settings.governance_url:
        return settings.governance_url
    if settings.postgres_port:
        return postgres_access.url(settings, "governance")
    return f"sqlite:///{settings.state / 'governance.db'}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    """WAL: a reader (an open `audit verify`, a report, another process's read transaction) never
    blocks an append; a writer waits for another writer instead of failing at once."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


WRITER = "govlake_writer"  # execution option of a connection opened by `writing`
LOCK_WAIT_S = 30  # how long a writer waits for the writer lock before failing (SQLite: busy_timeout)
ADVISORY_KEY = int.from_bytes(b"govlake\0", "big") >> 1  # PostgreSQL advisory lock id of the writer lock


def _sqlite_begin(conn: sa.Connection) -> None:
    """A `writing` transaction takes SQLite's write lock at BEGIN: its first read already sees
    the last commit, and no other writer can commit between its reads and its writes."""
    if conn.get_execution_options().get(WRITER):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def lock_writers(conn: sa.Connection) -> None:
    """Hold the store's writer lock until the current transaction ends (taking it again is harmless)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.select(sa.func.set_config("lock_timeout", f"{LOCK_WAIT_S}s", True)))
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_KEY)))
    elif dialect == "sqlite":
        if not conn.get_execution_options().get(WRITER):
            conn.execute(audit_meta.delete().where(sa.false()))  # deletes nothing; takes the write lock now
    else:
        raise ConfigError(f"the governance store runs on SQLite or PostgreSQL, not `{dialect}`; set GOVLAKE_GOVERNANCE_URL to a "
                          "postgresql+psycopg:// URL")


def writing(settings: Settings):
    """A transaction holding the store's writer lock from its first statement to its end:
    `with store.writing(settings) as conn: ...`."""
    return _locked(engine(settings))


@contextmanager
def _locked(engine_: sa.Engine):
    with engine_.connect() as conn:
        conn.execution_options(**{WRITER: True})
        with conn.begin():
            lock_writers(conn)
            yield conn


@lru_cache(maxsize=4)
def _engine(db_url: str) -> sa.Engine:
    # hide_parameters: a failed statement's error (logged, raised) never carries the values it
    # wrote, such as query texts naming a plate
    postgres = sa.make_url(db_url).get_backend_name() == "postgresql"
    engine = sa.create_engine(db_url, future=True, hide_parameters=True,
                              **({"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}} if postgres else {}))
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
    try:
        _create_schema(engine)
    except sa.exc.OperationalError as exc:
        if not postgres:
            raise
        where = sa.make_url(db_url).render_as_string(hide_password=True)
        raise ServiceUnavailable("the governance store (PostgreSQL)", where, str(exc.orig).strip().splitlines()[0]) from exc
    return engine


def _schema_current(conn: sa.Connection) -> bool:
    inspector = sa.inspect(conn)
    return (set(metadata.tables) <= set(inspector.get_table_names())
            and {i.name for i in audit_log.indexes} <= {i["name"] for i in inspector.get_indexes(audit_log.name)}
            and all("job" in inspector.get_pk_constraint(t.name)["constrained_columns"] for t in (lineage_dataset_edges, lineage_column_edges)))


def _create_schema(engine: sa.Engine) -> None:
    """Missing tables and indexes, made under the writer lock: processes starting at once on an
    empty store never race to create the same table (a current store is only read)."""
    with engine.connect() as conn:
        if _schema_current(conn):
            return
    with _locked(engine) as conn:
        metadata.create_all(conn)
        for index in audit_log.indexes:  # a store from before the indexes gets them once
            index.create(conn, checkfirst=True)
        edges = (lineage_dataset_edges, lineage_column_edges)
        if any("job" not in sa.inspect(conn).get_pk_constraint(t.name)["constrained_columns"] for t in edges):
            # edge tables from before `job` was part of their key: they are derived from the raw
            # events (kept) and rebuilt by the next run of each job, so they are recreated empty
            metadata.drop_all(conn, tables=list(edges))
            metadata.create_all(conn, tables=list(edges))


# the settings each store was opened with, by store URL: the audit chain's key and head anchor
# (audit.py) belong to the store, whatever connection appends to it
_owners: dict[str, Settings] = {}


def _key(db_url: str | sa.URL) -> str:
    """One spelling of a store URL (SQLAlchemy re-renders query order and escapes)."""
    return sa.make_url(db_url).render_as_string(hide_password=False)


def engine(settings: Settings) -> sa.Engine:
    private.private_dir(settings.state)
    _owners[_key(url(settings))] = settings
    return _engine(url(settings))


def settings_of(engine_: sa.Engine) -> Settings | None:
    return _owners.get(_key(engine_.url))

# The append-only, hash-chained audit log (govlake/governance/audit.py): each entry carries the
# hash of the one before it, so an edit, deletion, insertion or reordering is detectable.
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),  # ISO 8601 UTC, as hashed
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(48), nullable=False),
    sa.Column("object", sa.String(300), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),  # canonical JSON, as hashed
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
# what the console's audit search filters on, newest first
sa.Index("audit_log_actor_seq", audit_log.c.actor, audit_log.c.seq)
sa.Index("audit_log_action_seq", audit_log.c.action, audit_log.c.seq)
sa.Index("audit_log_at", audit_log.c.at)

# Facts about the audit chain itself, each with its own MAC (audit.py): `chain` records the seq
# from which entries are keyed.
audit_meta = sa.Table(
    "audit_meta", metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Trino events already in the chain (services/audit_receiver.py), by query id: the receiver's
# spool is drained exactly once even when Trino re-sends an event or the drain is interrupted.
audit_received = sa.Table(
    "audit_received", metadata,
    sa.Column("event", sa.String(300), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
)

# Lineage (govlake/governance/lineage.py): every OpenLineage run event as received, and the current
# dataset and column edges derived from the latest COMPLETE event of each output dataset.
lineage_events = sa.Table(
    "lineage_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("event_time", sa.String(40), nullable=False),
    sa.Column("event_type", sa.String(16), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False, index=True),
    sa.Column("job", sa.String(300), nullable=False),
    sa.Column("producer", sa.String(300), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)

lineage_dataset_edges = sa.Table(
    "lineage_dataset_edges", metadata,
    sa.Column("out_dataset", sa.String(300), primary_key=True),
    sa.Column("in_dataset", sa.String(300), primary_key=True),
    sa.Column("job", sa.String(300), primary_key=True),  # several jobs may write one dataset (each department's ingest)
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("event_time", sa.String(40), nullable=False),
)

lineage_column_edges = sa.Table(
    "lineage_column_edges", metadata,
    sa.Column("out_dataset", sa.String(300), primary_key=True),
    sa.Column("out_column", sa.String(200), primary_key=True),
    sa.Column("in_dataset", sa.String(300), primary_key=True),
    sa.Column("in_column", sa.String(200), primary_key=True),
    sa.Column("transformation", sa.String(200), nullable=False),  # identity | masking methods | aggregation | derived, '+'-joined in order
    sa.Column("subtype", sa.String(16), nullable=False),  # OpenLineage: IDENTITY | TRANSFORMATION | AGGREGATION
    sa.Column("masking", sa.Boolean, nullable=False),
    sa.Column("contract", sa.String(64)),  # application tables: the sharing contract
    sa.Column("consumer", sa.String(32)),
    sa.Column("job", sa.String(300), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("event_time", sa.String(40), nullable=False),
)
