"""Classification proposals: recorded for the owner to accept or reject, never applied silently.

`govlake classify TABLE --propose` records one pending proposal per column whose detected
classification disagrees with the effective one. The owner decides: a department's steward for a
department's data, a compliance officer for platform tables (base, analytic). An accepted
proposal becomes the column's effective classification (schema declaration overlaid by accepted
decisions); a rejected one keeps the declaration and records why. Re-proposing the same column
supersedes its earlier pending proposal.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from govlake.core.errors import ConfigError, IdentityError
from govlake.core.settings import Settings
from govlake.domain import identities, levels, schemas
from govlake.governance import audit, store
from govlake.pii.classify import ColumnReport

T = store.classification_proposals
PLATFORM = "platform"


def effective(settings: Settings, tier: str, table: str) -> dict[str, dict]:
    """Each column's effective classification: the schema's, overlaid by accepted proposals."""
    schema = schemas.load_schema(settings, tier, table)
    out = {c.name: {"level": c.level, "pii_type": c.pii_type, "source": "schema"} for c in schema.columns}
    with store.engine(settings).connect() as conn:
        rows = conn.execute(
            sa.select(T).where(T.c.target == f"{tier}.{table}", T.c.status == "accepted").order_by(T.c.decided_at, T.c.id)
        ).mappings()
        for r in rows:
            if r["column_name"] in out:
                types = r["proposed_pii_types"] or []
                out[r["column_name"]] = {"level": r["proposed_level"], "pii_type": ",".join(types) or None,
                                         "source": f"proposal {r['id']} accepted by {r['decided_by']}"}
    return out


def disagrees(report: ColumnReport, declared: dict) -> bool:
    """Detected personal information above the declared level (declassifying is never proposed
    from a sample: absence in a sample is not proof)."""
    return bool(report.pii_types) and levels.exceeds(report.level, declared["level"])


def propose(settings: Settings, target: str, reports: list[ColumnReport], actor: str) -> list[int]:
    tier, _, table = target.partition(".")
    current = effective(settings, tier, table)
    now = datetime.now(timezone.utc)
    ids = []
    with audit.transaction(settings) as conn:
        for r in reports:
            decl = current.get(r.name)
            if decl is None or not disagrees(r, decl):
                continue
            conn.execute(sa.update(T).where(T.c.target == target, T.c.column_name == r.name, T.c.status == "pending")
                         .values(status="superseded", decided_at=now, reason="superseded by a newer proposal"))
            res = conn.execute(sa.insert(T).values(
                target=target, column_name=r.name, owner=PLATFORM, declared_level=decl["level"], declared_pii_type=decl["pii_type"],
                proposed_level=r.level, proposed_pii_types=r.pii_types, evidence=r.entities, status="pending",
                proposed_by=actor, proposed_at=now,
            ))
            ids.append(res.inserted_primary_key[0])
    return ids


def listing(settings: Settings, status: str | None = "pending") -> list[dict]:
    q = sa.select(T).order_by(T.c.id)
    if status:
        q = q.where(T.c.status == status)
    with store.engine(settings).connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def _may_decide(settings: Settings, user: str, owner: str) -> None:
    who = identities.load(settings).get(user)
    role = who.role.value
    allowed = role == "compliance" if owner == PLATFORM else (role == "steward" and who.department == owner)
    if not allowed:
        need = "a compliance officer" if owner == PLATFORM else f"a steward of department `{owner}`"
        raise IdentityError(f"`{user}` ({role}, {who.department}) may not decide this proposal: it needs {need}")


def decide(settings: Settings, proposal_id: int, user: str, accept: bool, reason: str | None) -> dict:
    if not accept and not (reason or "").strip():
        raise ConfigError("rejecting a proposal needs --reason")
    with audit.transaction(settings) as conn:
        row = conn.execute(sa.select(T).where(T.c.id == proposal_id)).mappings().first()
        if row is None:
            raise ConfigError(f"no classification proposal `{proposal_id}`; see `govlake classify review`")
        if row["status"] != "pending":
            raise ConfigError(f"proposal `{proposal_id}` is {row['status']}, not pending")
        _may_decide(settings, user, row["owner"])
        conn.execute(sa.update(T).where(T.c.id == proposal_id).values(
            status="accepted" if accept else "rejected", decided_by=user, decided_at=datetime.now(timezone.utc), reason=reason))
        audit.append(conn, user, f"classification.{'accept' if accept else 'reject'}", f"column:{row['target']}.{row['column_name']}",
                     {"proposal": proposal_id, "declared_level": row["declared_level"], "proposed_level": row["proposed_level"],
                      "reason": reason})
        return dict(conn.execute(sa.select(T).where(T.c.id == proposal_id)).mappings().first())
