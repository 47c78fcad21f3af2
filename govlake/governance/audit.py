"""The tamper-evident audit log of governance actions.

Every entry is `(seq, at, actor, action, object, detail)` plus `prev_hash` (the hash of entry
seq-1; a fixed genesis value for seq 1) and `hash` = SHA-256 over the canonical JSON of all of
these. Appends happen in the same database transaction as the action they record, so an action
is never committed without its entry. `verify` walks the chain and names the first entry that
was edited (its hash no longer matches), deleted (a gap in seq, or the next entry's prev_hash
points at nothing), inserted (prev_hash does not match its predecessor) or reordered.

Recorded: contract transitions and approvals, classification decisions, publishes (with the
fingerprints of the policy files they ran under), policy changes noticed at publish, and every
Trino query (through services/audit_receiver.py).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime, timezone

import sqlalchemy as sa

from govlake.governance import store
from govlake.settings import Settings

T = store.audit_log
GENESIS = "0" * 64


def _canonical(seq: int, at: str, actor: str, action: str, obj: str, detail: str, prev_hash: str) -> bytes:
    return json.dumps([seq, at, actor, action, obj, detail, prev_hash], ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(seq: int, at: str, actor: str, action: str, obj: str, detail: str, prev_hash: str) -> str:
    return hashlib.sha256(_canonical(seq, at, actor, action, obj, detail, prev_hash)).hexdigest()


def append(conn: sa.Connection, actor: str, action: str, obj: str, detail: dict | None = None, at: datetime | None = None) -> int:
    """Append one entry inside the caller's transaction; returns its seq."""
    when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="microseconds")
    last = conn.execute(sa.select(T.c.seq, T.c.hash).order_by(T.c.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    text = json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, default=str)
    h = entry_hash(seq, when, actor, action, obj, text, prev)
    conn.execute(T.insert().values(seq=seq, at=when, actor=actor, action=action, object=obj, detail=text, prev_hash=prev, hash=h))
    conn.info["audit_head"] = (seq, h)
    _watch(conn.engine)
    return seq


_watched: set[int] = set()


def _watch(engine: sa.Engine) -> None:
    """After a commit that appended, write the head (seq, hash) to the anchor file beside the store."""
    if id(engine) in _watched:
        return
    _watched.add(id(engine))

    def on_commit(conn) -> None:
        head = conn.info.pop("audit_head", None)
        path = _anchor_of(engine)
        if head and path:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"seq": head[0], "hash": head[1]}))
            tmp.replace(path)

    sa.event.listen(engine, "commit", on_commit)


def _anchor_of(engine: sa.Engine) -> Path | None:
    return store.anchor_paths.get(engine.url.render_as_string(hide_password=False))


def anchor_path(settings: Settings) -> Path:
    """The head anchor: a second place a forger must also rewrite (it catches a truncated tail)."""
    return settings.state / "audit-head.json"


def record(settings: Settings, actor: str, action: str, obj: str, detail: dict | None = None, at: datetime | None = None) -> int:
    """Append in a transaction of its own; retried when a concurrent writer took the same seq."""
    for attempt in range(5):
        try:
            with store.engine(settings).begin() as conn:
                return append(conn, actor, action, obj, detail, at)
        except (sa.exc.IntegrityError, sa.exc.OperationalError):
            if attempt == 4:
                raise
            import time

            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


@dataclass
class Verification:
    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def verify_rows(rows) -> Verification:
    """Check an iterable of rows (seq, at, actor, action, object, detail, prev_hash, hash) in seq order."""
    prev_hash, expected_seq, n = GENESIS, 1, 0
    for r in rows:
        n += 1
        if r[0] != expected_seq:
            what = "missing (deleted)" if r[0] > expected_seq else "out of order"
            return Verification(False, n, expected_seq if r[0] > expected_seq else r[0], f"entry {expected_seq} is {what}; found seq {r[0]}")
        if r[6] != prev_hash:
            return Verification(False, n, r[0], f"entry {r[0]} does not follow entry {r[0] - 1}: its prev_hash is not that entry's hash "
                                                f"(an entry was inserted, deleted or reordered here)")
        if entry_hash(*r[:7]) != r[7]:
            return Verification(False, n, r[0], f"entry {r[0]} was altered: its content no longer matches its hash")
        prev_hash, expected_seq = r[7], expected_seq + 1
    return Verification(True, n)


def verify(settings: Settings, *, batch: int = 50_000) -> Verification:
    result = _verify_chain(settings, batch)
    anchor = anchor_path(settings)
    if result.ok and anchor.is_file():
        head = json.loads(anchor.read_text())
        with store.engine(settings).connect() as conn:
            last = conn.execute(sa.select(T.c.seq, T.c.hash).order_by(T.c.seq.desc()).limit(1)).first()
        if last is None or last.seq < head["seq"]:
            first = (last.seq + 1) if last else 1
            return Verification(False, result.entries, first, f"entries from {first} to {head['seq']} are missing: the log ends before its recorded head")
        if last.seq == head["seq"] and last.hash != head["hash"]:
            return Verification(False, result.entries, last.seq, f"entry {last.seq} differs from the recorded head")
    return result


def _verify_chain(settings: Settings, batch: int) -> Verification:
    cols = [T.c.seq, T.c.at, T.c.actor, T.c.action, T.c.object, T.c.detail, T.c.prev_hash, T.c.hash]

    def rows():
        with store.engine(settings).connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(sa.select(*cols).order_by(T.c.seq))
            for r in result:
                yield tuple(r)

    return verify_rows(rows())


def entries(settings: Settings, limit: int = 50, action: str | None = None) -> list[dict]:
    q = sa.select(T).order_by(T.c.seq.desc()).limit(limit)
    if action:
        q = q.where(T.c.action.like(f"{action}%"))
    with store.engine(settings).connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


POLICY_FILES = ("policies/*.yaml", "catalog/identities.yaml", "catalog/departments/*.yaml", "schemas/*/*.yaml")


def policy_fingerprints(settings: Settings) -> dict[str, str]:
    """SHA-256 (first 16 hex) of every policy, identity, registry and schema file."""
    out = {}
    for pattern in POLICY_FILES:
        for path in sorted(settings.home.glob(pattern)):
            out[str(path.relative_to(settings.home))] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return out


def record_policy_changes(settings: Settings, actor: str, current: dict[str, str]) -> list[str]:
    """Compare with the fingerprints of the last publish; record each added, changed or removed file."""
    last = entries(settings, 1, "publish")
    if not last:
        return []
    before = json.loads(last[0]["detail"]).get("policies") or {}
    changed = sorted(k for k in set(before) | set(current) if before.get(k) != current.get(k))
    for name in changed:
        record(settings, actor, "policy.change", f"file:{name}", {"before": before.get(name), "after": current.get(name)})
    return changed
