"""The governance store: decisions that are not data (classification proposals and their review;
later sharing contracts). SQLite under the state folder by default; any SQLAlchemy URL
(`GOVLAKE_GOVERNANCE_URL`, e.g. postgresql+psycopg://...) for a shared deployment.
"""
from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa

from govlake.settings import Settings

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


def url(settings: Settings) -> str:
    return settings.governance_url or f"sqlite:///{settings.state / 'governance.db'}"


@lru_cache(maxsize=4)
def _engine(db_url: str) -> sa.Engine:
    engine = sa.create_engine(db_url, future=True)
    metadata.create_all(engine)
    return engine


def engine(settings: Settings) -> sa.Engine:
    settings.state.mkdir(parents=True, exist_ok=True)
    return _engine(url(settings))
