"""The sharing-contract workflow, persisted in the governance store.

    draft -> submitted -> approved -> active (from valid_from) -> expired (at valid_to)
                 |            |          \\-> revoked
                 \\-> rejected \\-> revoked

- The requester (an identity of the consumer department) creates and submits a contract.
- A steward of the provider department approves; a compliance officer must co-approve when any
  granted column is sensitive personal information (L4) or important data.
- Separation of duties: the requester never approves their own contract; a steward of the
  consumer department cannot approve for the provider; analysts and operators do not approve.
- An approval binds to the specification's content hash. Submitting a changed specification of
  an approved or active contract sends it back to `submitted` and voids earlier approvals.
- Every transition is recorded with actor, time, reason and spec hash; every version of the
  specification is kept (see `diff`).

Whenever the set of active contracts changes, Trino's access rules are rewritten at once, so a
revocation reaches Trino within its refresh period, before any data is re-published.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa
import yaml

from govlake.contracts import access, validate
from govlake.contracts.spec import ContractSpec, load_all, parse_stored
from govlake.core import private
from govlake.core.errors import GovlakeError, IdentityError
from govlake.core.settings import Settings
from govlake.domain import identities
from govlake.governance import audit, store

C, V, A, E = store.contracts, store.contract_versions, store.contract_approvals, store.contract_events
SYSTEM = "system"


class WorkflowError(GovlakeError):
    """A transition that the contract's state or the actor's role does not allow."""


@dataclass
class ContractRecord:
    id: str
    provider: str
    consumer: str
    requester: str
    status: str
    spec_hash: str
    spec_yaml: str
    valid_from: datetime
    valid_to: datetime
    reason: str | None
    approvals: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    needs_compliance: bool = False

    @property
    def waiting_for(self) -> list[str]:
        """The approvals a submitted contract still needs (capacities), for its current specification."""
        if self.status != "submitted":
            return []
        return sorted(required_capacities(self.needs_compliance) - {a["capacity"] for a in self.approvals})

    @property
    def spec(self) -> ContractSpec:
        return parse_stored(self.spec_yaml, f"store:{self.id}").model_copy(deep=True)

    def as_dict(self, full: bool = False) -> dict:
        d = {
            "id": self.id, "provider": self.provider, "consumer": self.consumer, "requester": self.requester,
            "status": self.status, "spec_hash": self.spec_hash, "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(), "reason": self.reason, "needs_compliance": self.needs_compliance,
            "approvals": self.approvals,
        }
        if full:
            d["events"] = self.events
            d["spec"] = yaml.safe_load(self.spec_yaml)
        return d


def required_capacities(needs_compliance: bool) -> set[str]:
    """Who must approve: the provider's steward, and a compliance officer for important data."""
    return {"steward"} | ({"compliance"} if needs_compliance else set())


def canonical_yaml(spec: ContractSpec) -> str:
    return yaml.safe_dump(spec.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True)


def _utc(v: datetime | None) -> datetime | None:
    if v is None:
        return None
    return v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)


def _window(row) -> tuple[datetime, datetime]:
    """A stored contract's validity window in UTC, from its specification: the `valid_from` and
    `valid_to` columns are for selecting rows (SQLite keeps a DATETIME without its offset)."""
    spec = parse_stored(row["spec_yaml"], f"store:{row['id']}")
    return _utc(spec.valid_from), _utc(spec.valid_to)


def _row(conn, contract_id: str):
    row = conn.execute(sa.select(C).where(C.c.id == contract_id)).mappings().first()
    if row is None:
        known = [r[0] for r in conn.execute(sa.select(C.c.id).order_by(C.c.id))]
        raise WorkflowError(f"no contract `{contract_id}` in the governance store; known: {', '.join(known) or 'none'} (create one with `govlake contract new FILE --as USER`)")
    return row


def _record(conn, contract_id: str, action: str, before: str | None, after: str, actor: str, when: datetime, reason: str | None, spec_hash: str) -> None:
    conn.execute(E.insert().values(contract_id=contract_id, action=action, from_status=before, to_status=after, actor=actor,
                                   at=when, reason=reason, spec_hash=spec_hash))
    audit.append(conn, actor, f"contract.{action}", f"contract:{contract_id}",
                 {"from": before, "to": after, "reason": reason, "spec_hash": spec_hash}, when)


def _set_status(conn, contract_id: str, status: str, when: datetime, reason: str | None = None, **extra) -> None:
    conn.execute(C.update().where(C.c.id == contract_id).values(status=status, updated_at=when, reason=reason, **extra))


def _keep_version(conn, spec: ContractSpec, text: str, actor: str, when: datetime) -> str:
    h = spec.content_hash()
    exists = conn.execute(sa.select(V.c.spec_hash).where(V.c.contract_id == spec.id, V.c.spec_hash == h)).first()
    if not exists:
        conn.execute(V.insert().values(contract_id=spec.id, spec_hash=h, spec_yaml=text, recorded_at=when, recorded_by=actor))
    return h


OPEN = ("draft", "submitted", "approved", "active")  # states that hold on to their application table


def _check_target_free(conn, spec: ContractSpec) -> None:
    """One application table, one contract: another open contract publishing the same
    `app_<consumer>.<table>` would replace it in the catalog while its own rules still matched."""
    for row in conn.execute(sa.select(C.c.id, C.c.spec_yaml, C.c.status).where(C.c.consumer == spec.consumer, C.c.status.in_(OPEN), C.c.id != spec.id)):
        if parse_stored(row.spec_yaml, f"store:{row.id}").table == spec.table:
            raise WorkflowError(
                f"contract `{spec.id}` would publish `{spec.consumer_schema}.{spec.table}`, which contract `{row.id}` ({row.status}) "
                f"already publishes; choose another `table` name, or have `{row.id}` revoked or amended first"
            )


def _identity(settings: Settings, user: str) -> identities.Identity:
    return identities.load(settings).get(user)


def new(settings: Settings, spec: ContractSpec, actor: str, when: datetime) -> ContractRecord:
    """Register `spec` as a draft; the actor must be its requester."""
    who = _identity(settings, actor)
    if spec.requester != actor:
        raise WorkflowError(f"contract `{spec.id}` names requester `{spec.requester}`; only they can create it (you are `{actor}`)")
    if who.department != spec.consumer:
        raise WorkflowError(f"`{actor}` belongs to `{who.department}`; a contract is requested by the consumer department `{spec.consumer}`")
    text = canonical_yaml(spec)
    with audit.transaction(settings) as conn:
        if conn.execute(sa.select(C.c.id).where(C.c.id == spec.id)).first():
            raise WorkflowError(f"contract `{spec.id}` already exists; change it with `govlake contract submit {spec.id} --file FILE --as {actor}`")
        _check_target_free(conn, spec)
        h = _keep_version(conn, spec, text, actor, when)
        conn.execute(C.insert().values(id=spec.id, provider=spec.provider, consumer=spec.consumer, requester=spec.requester,
                                       spec_yaml=text, spec_hash=h, status="draft", valid_from=_utc(spec.valid_from),
                                       valid_to=_utc(spec.valid_to), created_at=when, updated_at=when))
        _record(conn, spec.id, "new", None, "draft", actor, when, None, h)
    return get(settings, spec.id)


def submit(settings: Settings, contract_id: str, actor: str, when: datetime, spec: ContractSpec | None = None) -> ContractRecord:
    """Submit for approval, optionally with a changed specification (which voids approvals)."""
    who = _identity(settings, actor)
    with audit.transaction(settings) as conn:
        row = _row(conn, contract_id)
        if actor != row["requester"] and not (who.department == row["consumer"] and who.role.value == "steward"):
            raise WorkflowError(f"only the requester `{row['requester']}` or a `{row['consumer']}` steward can submit `{contract_id}`")
        if spec is not None and spec.id != contract_id:
            raise WorkflowError(f"the file describes contract `{spec.id}`, not `{contract_id}`")
        current = spec or parse_stored(row["spec_yaml"], f"store:{contract_id}")
        for fld in ("provider", "consumer", "requester"):
            if getattr(current, fld) != row[fld]:
                raise WorkflowError(f"field `{fld}` of contract `{contract_id}` cannot change (`{row[fld]}` -> `{getattr(current, fld)}`); create a new contract")
        validate.check(current, settings, when)
        _check_target_free(conn, current)
        new_hash = current.content_hash()
        changed = new_hash != row["spec_hash"]
        status = row["status"]
        if status in ("revoked", "expired"):
            raise WorkflowError(f"contract `{contract_id}` is {status}; create a new contract instead")
        if status == "submitted" and not changed:
            raise WorkflowError(f"contract `{contract_id}` is already submitted with this specification")
        if status in ("approved", "active") and not changed:
            raise WorkflowError(f"contract `{contract_id}` is {status}; submit a changed specification to amend it")
        if changed:
            text = canonical_yaml(current)
            _keep_version(conn, current, text, actor, when)
            conn.execute(C.update().where(C.c.id == contract_id).values(spec_yaml=text, spec_hash=new_hash,
                                                                         valid_from=_utc(current.valid_from), valid_to=_utc(current.valid_to)))
        reason = None
        if changed and status in ("approved", "active", "submitted"):
            reason = f"specification changed from {row['spec_hash'][:12]} to {new_hash[:12]}; earlier approvals no longer apply"
        _set_status(conn, contract_id, "submitted", when, reason)
        _record(conn, contract_id, "submit", status, "submitted", actor, when, reason, new_hash)
    if status == "active":
        _rules_changed(settings)
    return get(settings, contract_id)


def _capacity(who: identities.Identity, row) -> str:
    if who.user == row["requester"]:
        raise WorkflowError(f"`{who.user}` requested contract `{row['id']}` and cannot approve or reject it (separation of duties)")
    if who.role.value == "compliance":
        return "compliance"
    if who.role.value == "steward" and who.department == row["provider"]:
        return "steward"
    if who.role.value == "steward" and who.department == row["consumer"]:
        raise WorkflowError(f"`{who.user}` is a steward of the consumer `{row['consumer']}`; only a steward of the provider `{row['provider']}` can decide on `{row['id']}`")
    raise IdentityError(f"`{who.user}` ({who.role.value}, {who.department}) cannot decide on contracts; a `{row['provider']}` steward or a compliance officer can")


def approve(settings: Settings, contract_id: str, actor: str, when: datetime) -> ContractRecord:
    who = _identity(settings, actor)
    with audit.transaction(settings) as conn:
        row = _row(conn, contract_id)
        capacity = _capacity(who, row)
        if row["status"] != "submitted":
            raise WorkflowError(f"contract `{contract_id}` is {row['status']}; only a submitted contract can be approved")
        spec = parse_stored(row["spec_yaml"], f"store:{contract_id}")
        validate.check(spec, settings, when)
        _check_target_free(conn, spec)
        h = row["spec_hash"]
        have = {r.capacity for r in conn.execute(sa.select(A.c.capacity).where(A.c.contract_id == contract_id, A.c.spec_hash == h))}
        if capacity in have:
            raise WorkflowError(f"contract `{contract_id}` already has a {capacity} approval for this specification")
        conn.execute(A.insert().values(contract_id=contract_id, spec_hash=h, capacity=capacity, actor=actor, at=when))
        have.add(capacity)
        required = required_capacities(validate.needs_compliance(spec, settings))
        missing = required - have
        if missing:
            _record(conn, contract_id, "approve", "submitted", "submitted", actor, when, f"{capacity} approval; waiting for {', '.join(sorted(missing))}", h)
        else:
            _set_status(conn, contract_id, "approved", when)
            _record(conn, contract_id, "approve", "submitted", "approved", actor, when, f"{capacity} approval; all required approvals present", h)
    refresh(settings, when)
    return get(settings, contract_id)


def _need_reason(reason: str | None, what: str) -> None:
    if not reason or not reason.strip():
        raise WorkflowError(f"a {what} needs a reason (--reason)")


def reject(settings: Settings, contract_id: str, actor: str, reason: str, when: datetime) -> ContractRecord:
    _need_reason(reason, "rejection")
    who = _identity(settings, actor)
    with audit.transaction(settings) as conn:
        row = _row(conn, contract_id)
        _capacity(who, row)
        if row["status"] != "submitted":
            raise WorkflowError(f"contract `{contract_id}` is {row['status']}; only a submitted contract can be rejected (revoke an approved one)")
        _set_status(conn, contract_id, "rejected", when, reason)
        _record(conn, contract_id, "reject", "submitted", "rejected", actor, when, reason, row["spec_hash"])
    return get(settings, contract_id)


def revoke(settings: Settings, contract_id: str, actor: str, reason: str, when: datetime) -> ContractRecord:
    """End an approved or active contract now; Trino's rules drop it immediately."""
    _need_reason(reason, "revocation")
    who = _identity(settings, actor)
    with audit.transaction(settings) as conn:
        row = _row(conn, contract_id)
        if not (who.role.value == "compliance" or (who.role.value == "steward" and who.department == row["provider"])):
            raise IdentityError(f"`{actor}` cannot revoke `{contract_id}`; a `{row['provider']}` steward or a compliance officer can")
        if row["status"] not in ("approved", "active", "submitted"):
            raise WorkflowError(f"contract `{contract_id}` is {row['status']}; nothing to revoke")
        _set_status(conn, contract_id, "revoked", when, reason)
        _record(conn, contract_id, "revoke", row["status"], "revoked", actor, when, reason, row["spec_hash"])
    _rules_changed(settings)
    return get(settings, contract_id)


def refresh(settings: Settings, when: datetime) -> list[tuple[str, str, str]]:
    """Time-driven transitions at `when`: approved -> active, approved/active -> expired."""
    changes = []
    with audit.transaction(settings) as conn:
        for row in conn.execute(sa.select(C).where(C.c.status.in_(("approved", "active")))).mappings().all():
            start, end = _window(row)
            target = row["status"]
            if when >= end:
                target = "expired"
            elif row["status"] == "approved" and when >= start:
                target = "active"
            if target != row["status"]:
                _set_status(conn, row["id"], target, when, "validity window ended" if target == "expired" else None)
                _record(conn, row["id"], "expire" if target == "expired" else "activate", row["status"], target, SYSTEM, when,
                        None, row["spec_hash"])
                changes.append((row["id"], row["status"], target))
    if changes:
        _rules_changed(settings, when)
    return changes


def _rules_changed(settings: Settings, when: datetime | None = None) -> None:
    rewrite_rules(settings)


def rewrite_rules(settings: Settings) -> dict:
    """Write Trino's rules from the contracts active in the store now. One writer at a time, and
    each reads the states inside the lock: a publish that read the active set before a
    revocation committed cannot write its older rules after the revocation's (the last writer
    always saw the last change)."""
    with private.exclusive(settings.run_dir / "rules.lock"):
        return access.write_rules(settings, active_specs(settings))


def refresh_active(settings: Settings, when: datetime | None = None) -> list[ContractSpec]:
    """Bring every contract's state up to `when` (default now) first, then return the active
    specifications. This writes: state changes, their audit entries and, when the active set
    changed, Trino's rules (see `refresh`). For a plain read use `active_specs`."""
    when = when or datetime.now(timezone.utc)
    refresh(settings, when)
    return active_specs(settings)


def active_specs(settings: Settings) -> list[ContractSpec]:
    """Specifications of the contracts in state `active`, as approved; reads only (states are as
    the last `refresh` left them)."""
    with store.engine(settings).connect() as conn:
        rows = conn.execute(sa.select(C.c.id, C.c.spec_yaml).where(C.c.status == "active").order_by(C.c.id)).all()
    return [parse_stored(r.spec_yaml, f"store:{r.id}").model_copy(deep=True) for r in rows]


def get(settings: Settings, contract_id: str) -> ContractRecord:
    with store.engine(settings).connect() as conn:
        _row(conn, contract_id)  # a clear error for an unknown id
        return _records(settings, conn, C.c.id == contract_id)[0]


def _records(settings: Settings, conn, where=None) -> list[ContractRecord]:
    """The contracts matching `where` with their current approvals and history: three queries
    whatever their number (an inbox over a thousand contracts reads the store three times)."""
    q = sa.select(C).order_by(C.c.id)
    rows = conn.execute(q if where is None else q.where(where)).mappings().all()
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    approvals: dict[str, list[dict]] = {}
    events: dict[str, list[dict]] = {}
    for i in range(0, len(ids), 500):  # bound the IN list
        chunk = ids[i:i + 500]
        for a in conn.execute(sa.select(A.c.contract_id, A.c.capacity, A.c.actor, A.c.at, A.c.spec_hash).where(A.c.contract_id.in_(chunk)).order_by(A.c.id)).mappings():
            approvals.setdefault(a["contract_id"], []).append(dict(a))
        for e in conn.execute(sa.select(E).where(E.c.contract_id.in_(chunk)).order_by(E.c.id)).mappings():
            e = dict(e)
            e["at"] = _utc(e["at"]).isoformat()
            events.setdefault(e.pop("contract_id"), []).append(e)
    out, compliance = [], {}
    for row in rows:
        current = [{"capacity": a["capacity"], "actor": a["actor"], "at": _utc(a["at"]).isoformat()}
                   for a in approvals.get(row["id"], []) if a["spec_hash"] == row["spec_hash"]]
        rec = ContractRecord(
            row["id"], row["provider"], row["consumer"], row["requester"], row["status"], row["spec_hash"], row["spec_yaml"],
            *_window(row), row["reason"], current, events.get(row["id"], []),
        )
        if row["spec_hash"] not in compliance:
            try:
                compliance[row["spec_hash"]] = validate.needs_compliance(parse_stored(rec.spec_yaml, f"store:{rec.id}"), settings)
            except GovlakeError:
                compliance[row["spec_hash"]] = True
        rec.needs_compliance = compliance[row["spec_hash"]]
        out.append(rec)
    return out


def list_all(settings: Settings) -> list[ContractRecord]:
    with store.engine(settings).connect() as conn:
        return _records(settings, conn)


def decider_capacity(rec: ContractRecord, who: identities.Identity) -> str | None:
    """The capacity in which `who` may approve or reject `rec` now (`steward` or `compliance`),
    or None: the rule `approve` applies, so no page offers a decision the workflow would refuse."""
    if rec.status != "submitted":
        return None
    try:
        capacity = _capacity(who, {"id": rec.id, "requester": rec.requester, "provider": rec.provider, "consumer": rec.consumer})
    except (WorkflowError, IdentityError):
        return None
    return capacity if capacity in rec.waiting_for else None


def awaiting(settings: Settings, user: str) -> list[tuple[ContractRecord, str]]:
    """Submitted contracts `user` may decide on now, with the capacity they would approve in
    (`steward` or `compliance`). Oldest submission first."""
    who = _identity(settings, user)
    with store.engine(settings).connect() as conn:
        submitted = _records(settings, conn, C.c.status == "submitted")
    out = [(rec, cap) for rec in submitted if (cap := decider_capacity(rec, who))]
    return sorted(out, key=lambda pair: pair[0].events[-1]["at"] if pair[0].events else "")


def expiring(settings: Settings, when: datetime, days: int) -> list[ContractRecord]:
    """Approved or active contracts whose validity ends within `days` days of `when`, soonest first."""
    from datetime import timedelta

    with store.engine(settings).connect() as conn:
        found = _records(settings, conn, C.c.status.in_(("approved", "active")))
    return sorted((r for r in found if when < r.valid_to <= when + timedelta(days=days)), key=lambda r: r.valid_to)


def diff(settings: Settings, contract_id: str, other: ContractSpec | None = None) -> str:
    """Unified diff: the last approved version (or, with `other`, the current one) against the
    current version (or `other`)."""
    with store.engine(settings).connect() as conn:
        row = _row(conn, contract_id)
        if other is not None:
            old_text, old_label = row["spec_yaml"], f"store {row['spec_hash'][:12]}"
            new_text, new_label = canonical_yaml(other), f"file {other.content_hash()[:12]}"
        else:
            approved = conn.execute(
                sa.select(E.c.spec_hash).where(E.c.contract_id == contract_id, E.c.to_status == "approved").order_by(E.c.id.desc())
            ).first()
            if approved is None:
                return ""
            old = conn.execute(sa.select(V.c.spec_yaml).where(V.c.contract_id == contract_id, V.c.spec_hash == approved[0])).scalar_one()
            old_text, old_label = old, f"approved {approved[0][:12]}"
            new_text, new_label = row["spec_yaml"], f"current {row['spec_hash'][:12]}"
    return "".join(difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True), old_label, new_label))


def bootstrap_samples(settings: Settings, when: datetime, *, log=lambda m: None) -> list[ContractRecord]:
    """Take every contract file in policies/contracts/ that the store does not know through the
    real workflow, acting as the people the identity registry names: the requester creates and
    submits, a steward of the provider approves, a compliance officer co-approves where needed.
    For the demo and the test suite; in production each person acts through the CLI."""

    ids = identities.load(settings).identities
    out = []
    with store.engine(settings).connect() as conn:
        known = {r[0] for r in conn.execute(sa.select(C.c.id))}
    for spec in load_all(settings):
        if spec.id in known:
            continue
        steward = next(i.user for i in ids if i.department == spec.provider and i.role.value == "steward")
        new(settings, spec, spec.requester, when)
        submit(settings, spec.id, spec.requester, when)
        approve(settings, spec.id, steward, when)
        log(f"contract {spec.id}: requested by {spec.requester}, approved by {steward}")
        if validate.needs_compliance(spec, settings):
            officer = next(i.user for i in ids if i.role.value == "compliance")
            approve(settings, spec.id, officer, when)
            log(f"contract {spec.id}: co-approved by compliance officer {officer} (sensitive or important data)")
        out.append(get(settings, spec.id))
    return out
