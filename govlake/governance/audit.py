"""The tamper-evident audit log of governance actions.

Every entry is `(seq, at, actor, action, object, detail)` plus `prev_hash` (the MAC of entry
seq-1; a fixed genesis value for seq 1) and `hash` = HMAC-SHA256 under the chain key over the
canonical JSON of all of these. Appends happen in the same database transaction as the action
they record, so an action is never committed without its entry. `verify` walks the chain and
names the first entry that was edited (its MAC no longer matches), deleted (a gap in seq, or the
next entry's prev_hash points at nothing), inserted (prev_hash does not match its predecessor)
or reordered.

What the chain proves, and to whom:
- The chain key (`<state>/secrets/audit-chain.key`, or `GOVLAKE_AUDIT_KEY` from a vault) is not
  in the store: whoever can write the store but not read the key (a database administrator, a
  restored or exported copy, another account once the store is private) cannot forge an entry
  or recompute the chain; `verify` names the first forged entry.
- Whoever holds the key (the service account itself) could rewrite the chain and the head
  anchor (kept in the warehouse, `anchor_uri`: on a cluster an object in the object store, which
  every host sees; on one host a private file). Against that, heads are also kept where the
  service account cannot rewrite them: `govlake audit anchor` gives the head for a compliance
  officer to keep, and `GOVLAKE_AUDIT_ANCHOR_LOG` names a file the heads are appended to (make it
  append-only, e.g. `chattr +a`, or put it on another host); `verify` checks the chain against
  every head there.
- The chain does not prove that every event reached it: Trino's queries arrive through the
  receiver, which spools each event durably before acknowledging it (services/audit_receiver.py).

A chain begun before the key existed keeps its older entries under plain SHA-256; the seq from
which entries are keyed is stored with its own MAC (`audit_meta`), so it cannot be moved either.

Recorded: contract transitions and approvals, classification decisions, publishes (with the
fingerprints of the policy files they ran under), policy changes noticed at publish, and every
Trino query (through services/audit_receiver.py).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets as pysecrets
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

import sqlalchemy as sa

from govlake.core import private
from govlake.core.errors import ConfigError
from govlake.core.settings import Settings
from govlake.governance import store
from govlake.platform import storage

T = store.audit_log
M = store.audit_meta
GENESIS = "0" * 64
KEY_ENV = "GOVLAKE_AUDIT_KEY"


def key_path(settings: Settings) -> Path:
    return settings.secrets_dir / "audit-chain.key"


def chain_key(settings: Settings, *, create: bool = True) -> bytes | None:
    """The chain's MAC key: `GOVLAKE_AUDIT_KEY` (hex) or the generated local key."""
    env = os.environ.get(KEY_ENV)
    if env:
        try:
            return bytes.fromhex(env)
        except ValueError as exc:
            raise ConfigError(f"{KEY_ENV} must be hex (e.g. 64 hex digits); set it again") from exc
    path = key_path(settings)
    if not path.is_file():
        if not create:
            return None
        private.create_private(path, pysecrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def _canonical(seq: int, at: str, actor: str, action: str, obj: str, detail: str, prev_hash: str) -> bytes:
    return json.dumps([seq, at, actor, action, obj, detail, prev_hash], ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(seq: int, at: str, actor: str, action: str, obj: str, detail: str, prev_hash: str, *, key: bytes | None = None) -> str:
    """The entry's MAC under `key` (plain SHA-256 for entries from before the chain was keyed)."""
    data = _canonical(seq, at, actor, action, obj, detail, prev_hash)
    return hmac.new(key, data, hashlib.sha256).hexdigest() if key is not None else hashlib.sha256(data).hexdigest()


def _meta_mac(key: bytes, keyed_from: int) -> str:
    return hmac.new(key, f"govlake audit chain keyed from {keyed_from}".encode(), hashlib.sha256).hexdigest()


def keyed_from(conn: sa.Connection, key: bytes) -> int:
    """The seq from which entries are keyed; recorded (with its MAC) at the first keyed append.
    An append under another key than the chain's is refused: it would break the chain for good."""
    row = conn.execute(sa.select(M.c.value).where(M.c.name == "chain")).first()
    if row is not None:
        stored = json.loads(row.value)
        if not hmac.compare_digest(_meta_mac(key, int(stored["keyed_from"])), stored.get("mac", "")):
            raise ConfigError("the audit chain was keyed with another key than the one this process has; restore "
                              "secrets/audit-chain.key (or set GOVLAKE_AUDIT_KEY to the chain's key) before recording anything")
        return int(stored["keyed_from"])
    last = conn.execute(sa.select(sa.func.max(T.c.seq))).scalar() or 0
    conn.execute(M.insert().values(name="chain", value=json.dumps({"keyed_from": last + 1, "mac": _meta_mac(key, last + 1)})))
    return last + 1


def append(conn: sa.Connection, actor: str, action: str, obj: str, detail: dict | None = None, at: datetime | None = None) -> int:
    """Append one entry inside the caller's transaction (opened with `transaction`, so the head is
    anchored once it has committed); returns its seq."""
    owner = store.settings_of(conn.engine)
    if owner is None:
        raise ConfigError("audit entries are appended through a connection of `store.engine(settings)`")
    key = chain_key(owner)
    when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="microseconds")
    store.lock_writers(conn)  # one appender at a time, whichever process or host: seq is last + 1, never taken twice
    last = conn.execute(sa.select(T.c.seq, T.c.hash).order_by(T.c.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    first_keyed = keyed_from(conn, key)
    text = json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, default=str)
    h = entry_hash(seq, when, actor, action, obj, text, prev, key=key if seq >= first_keyed else None)
    conn.execute(T.insert().values(seq=seq, at=when, actor=actor, action=action, object=obj, detail=text, prev_hash=prev, hash=h))
    conn.info["audit_head"] = (seq, h)
    return seq


@contextmanager
def transaction(settings: Settings):
    """A governance-store transaction; when it has committed and appended to the chain, the new
    head is written to the anchor in the warehouse and (at most every `audit_anchor_every_s`) to
    the anchor log kept elsewhere. Nothing is anchored for a transaction that rolled back.

    It holds the store's writer lock from its first statement (`store.writing`): such
    transactions, from any number of processes, run one after another, so the chain stays
    gap-free and an action's checks (a contract's state, its approvals) see every earlier
    decision: two approvals or an approval and a rejection never both pass."""
    with store.writing(settings) as conn:
        try:
            yield conn
        finally:
            head = conn.info.pop("audit_head", None)  # the connection returns to the pool: never leave it there
    if head:
        _anchor(settings, *head)


_anchor_log_written: dict[str, float] = {}


def write_anchor(settings: Settings, data: bytes) -> None:
    """Replace the head anchor in the warehouse (`{"seq": N, "hash": "..."}`)."""
    uri = anchor_uri(settings)
    if not storage.is_object_store(uri):
        private.private_dir(anchor_path(settings).parent)
    storage.write_bytes(settings, uri, data)
    legacy_anchor_path(settings).unlink(missing_ok=True)  # migrated: the head is kept in the warehouse now


def _anchor(settings: Settings, seq: int, h: str) -> None:
    try:
        write_anchor(settings, json.dumps({"seq": seq, "hash": h}).encode())
    except OSError as exc:
        # the entry is committed: failing the caller now would report a recorded decision as not
        # made. Until the next append writes it again the anchor lags the chain: it still vouches
        # for the entries up to its head, not for the newest ones.
        logging.getLogger("govlake.audit").error("the audit head anchor `%s` could not be written (%s); the chain itself is "
                                                 "committed, the next append writes the anchor again", anchor_uri(settings), type(exc).__name__)
    log = settings.audit_anchor_log
    if log is not None and time.monotonic() - _anchor_log_written.get(str(log), -1e9) >= settings.audit_anchor_every_s:
        append_anchor(log, seq, h)
        _anchor_log_written[str(log)] = time.monotonic()


def append_anchor(path: Path, seq: int, h: str) -> None:
    """Append one head to an anchor log (opened for appending only, never rewritten)."""
    line = json.dumps({"seq": seq, "hash": h, "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, private.FILE_MODE)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def anchor_uri(settings: Settings) -> str:
    """The head anchor: a second place a forger must also rewrite (it catches a truncated tail).
    It is kept in the warehouse, through platform/storage.py: on the cluster profile an object in
    the object store, the same for every host that appends; on one host a private local file."""
    return f"{settings.warehouse_root.rstrip('/')}/_governance/audit-head.json"


def anchor_path(settings: Settings) -> Path:
    """The head anchor as a local file, when the warehouse is a local folder."""
    uri = anchor_uri(settings)
    if storage.is_object_store(uri):
        raise ConfigError(f"the audit head anchor is the object `{uri}`, not a local file; read it with platform/storage.py")
    return Path(urlparse(uri).path if uri.startswith("file:") else uri)


def legacy_anchor_path(settings: Settings) -> Path:
    """Where the head anchor was kept before it moved to the warehouse (and where a restored
    backup puts the snapshot's head): still checked while it exists; the next append removes it."""
    return settings.state / "audit-head.json"


def head(settings: Settings) -> dict | None:
    """The current head `{seq, hash, at}`, for a compliance officer to keep outside govlake."""
    with store.engine(settings).connect() as conn:
        last = conn.execute(sa.select(T.c.seq, T.c.hash, T.c.at).order_by(T.c.seq.desc()).limit(1)).first()
    return {"seq": last.seq, "hash": last.hash, "at": last.at} if last else None


def record(settings: Settings, actor: str, action: str, obj: str, detail: dict | None = None, at: datetime | None = None) -> int:
    """Append in a transaction of its own; retried when a concurrent writer took the same seq."""
    for attempt in range(5):
        try:
            with transaction(settings) as conn:
                return append(conn, actor, action, obj, detail, at)
        except (sa.exc.IntegrityError, sa.exc.OperationalError):
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


@dataclass
class Verification:
    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str | None = None
    keyed: bool = True
    anchors: int = 0  # heads kept elsewhere that were checked

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def verify_rows(rows, key: bytes | None = None, keyed_from: int = 1) -> Verification:
    """Check an iterable of rows (seq, at, actor, action, object, detail, prev_hash, hash) in seq
    order; entries from `keyed_from` on are MACs under `key`."""
    prev_hash, expected_seq, n = GENESIS, 1, 0
    for r in rows:
        n += 1
        if r[0] != expected_seq:
            what = "missing (deleted)" if r[0] > expected_seq else "out of order"
            return Verification(False, n, expected_seq if r[0] > expected_seq else r[0], f"entry {expected_seq} is {what}; found seq {r[0]}")
        if r[6] != prev_hash:
            return Verification(False, n, r[0], f"entry {r[0]} does not follow entry {r[0] - 1}: its prev_hash is not that entry's hash "
                                                f"(an entry was inserted, deleted or reordered here)")
        if not hmac.compare_digest(entry_hash(*r[:7], key=key if r[0] >= keyed_from else None), r[7]):
            return Verification(False, n, r[0], f"entry {r[0]} was altered: its content no longer matches its hash")
        prev_hash, expected_seq = r[7], expected_seq + 1
    return Verification(True, n, keyed=key is not None)


def read_anchors(path: Path) -> list[dict]:
    """Heads kept outside the store: JSON lines (or one JSON object) with `seq` and `hash`."""
    if not path.is_file():
        raise ConfigError(f"no anchor file `{path}`; give the file `govlake audit anchor --out FILE` wrote")
    out = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                item = json.loads(line)
                out.append({"seq": int(item["seq"]), "hash": str(item["hash"])})
            except (ValueError, KeyError, TypeError) as exc:
                raise ConfigError(f"anchor file `{path}` line {i} is not a head (`{{\"seq\": N, \"hash\": \"...\"}}`): {exc}") from exc
    return out


def verify(settings: Settings, *, batch: int = 50_000, anchors: Path | None = None) -> Verification:
    """Walk the chain, then check it against the head anchor in the warehouse and against every
    head kept elsewhere (`anchors`, and the configured anchor log)."""
    key = chain_key(settings, create=False)
    with store.engine(settings).connect() as conn:
        meta = conn.execute(sa.select(M.c.value).where(M.c.name == "chain")).first()
        count = conn.execute(sa.select(sa.func.count()).select_from(T)).scalar()
    if key is None and meta is not None:
        return Verification(False, 0, None, f"the audit chain is keyed but its key `{key_path(settings)}` is missing (or {KEY_ENV} unset); restore it to verify")
    if key is not None and meta is None and count:
        return Verification(False, count, 1, "the record of the seq from which the chain is keyed is missing (audit_meta deleted)")
    first_keyed = 1
    if meta is not None:
        stored = json.loads(meta.value)
        first_keyed = int(stored["keyed_from"])
        if not hmac.compare_digest(_meta_mac(key, first_keyed), stored.get("mac", "")):
            return Verification(False, count, first_keyed, "the record of the seq from which the chain is keyed was altered")
    result = _verify_chain(settings, batch, key, first_keyed)
    if not result.ok:
        return result
    heads = []
    recorded = storage.read_bytes(settings, anchor_uri(settings))
    if recorded is not None:
        heads.append(("the recorded head in the warehouse", json.loads(recorded)))
    if legacy_anchor_path(settings).is_file():
        heads.append(("the recorded head beside the store", json.loads(legacy_anchor_path(settings).read_text())))
    kept = []
    for source in [p for p in (settings.audit_anchor_log, anchors) if p is not None]:
        if source == settings.audit_anchor_log and not source.is_file():
            continue
        kept += [(f"the head kept in `{source}`", h) for h in read_anchors(source)]
    with store.engine(settings).connect() as conn:
        last = conn.execute(sa.select(T.c.seq).order_by(T.c.seq.desc()).limit(1)).scalar()
        for where, h in heads + kept:
            if last is None or last < h["seq"]:
                first = (last + 1) if last else 1
                return Verification(False, result.entries, first, f"entries from {first} to {h['seq']} are missing: the log ends before {where}")
            if conn.execute(sa.select(T.c.hash).where(T.c.seq == h["seq"])).scalar() != h["hash"]:
                return Verification(False, result.entries, h["seq"], f"entry {h['seq']} differs from {where}: the chain was rewritten from there on")
    result.anchors = len(kept)
    return result


def _verify_chain(settings: Settings, batch: int, key: bytes | None, keyed_from: int) -> Verification:
    cols = [T.c.seq, T.c.at, T.c.actor, T.c.action, T.c.object, T.c.detail, T.c.prev_hash, T.c.hash]

    def rows():
        with store.engine(settings).connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(sa.select(*cols).order_by(T.c.seq))
            for r in result:
                yield tuple(r)

    return verify_rows(rows(), key, keyed_from)


def entries(settings: Settings, limit: int = 50, action: str | None = None) -> list[dict]:
    q = sa.select(T).order_by(T.c.seq.desc()).limit(limit)
    if action:
        q = q.where(T.c.action.like(f"{action}%"))
    with store.engine(settings).connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


# What an entry's action says about how it ended, for searching by outcome: access that was
# refused (a denied query, a refused publish, a failed or locked-out sign-in), work that failed,
# and everything else.
REFUSED_ACTIONS = ("auth.failed", "auth.lockout", "auth.locked", "auth.locked_out", "audit.event_rejected")
OUTCOMES = ("refused", "failed", "succeeded")


def outcome_of(action: str) -> str:
    if action in REFUSED_ACTIONS or action.endswith((".denied", ".refused")):
        return "refused"
    return "failed" if action.endswith(".failed") else "succeeded"


def _outcome_clause(outcome: str):
    refused = sa.or_(T.c.action.in_(REFUSED_ACTIONS), T.c.action.like("%.denied"), T.c.action.like("%.refused"))
    failed = sa.and_(T.c.action.like("%.failed"), sa.not_(T.c.action.in_(REFUSED_ACTIONS)))
    return {"refused": refused, "failed": failed, "succeeded": sa.not_(sa.or_(refused, failed))}[outcome]


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(settings: Settings, *, actor: str | None = None, action: str | None = None, obj: str | None = None,
           outcome: str | None = None, since: str | None = None, until: str | None = None, before: int | None = None,
           limit: int = 100) -> tuple[list[dict], int | None]:
    """Entries newest first matching every filter given: `actor` exactly, `action` as a prefix
    (`contract.` finds every contract decision), `obj` anywhere in the object, `outcome` one of
    OUTCOMES, `since`/`until` ISO UTC times (inclusive, exclusive), `before` a seq (the next
    page). Returns the page and the seq to pass as `before` for the page after it (None at the end)."""
    if outcome is not None and outcome not in OUTCOMES:
        raise ConfigError(f"outcome `{outcome}` is not one of {', '.join(OUTCOMES)}")
    q = sa.select(T).order_by(T.c.seq.desc()).limit(limit + 1)
    if actor:
        q = q.where(T.c.actor == actor)
    if action:  # a range, not LIKE: the (action, seq) index serves it
        q = q.where(T.c.action >= action, T.c.action < action + "\uffff")
    if obj:
        q = q.where(T.c.object.like("%" + _like_escaped(obj) + "%", escape="\\"))
    if outcome:
        q = q.where(_outcome_clause(outcome))
    if since:
        q = q.where(T.c.at >= since)
    if until:
        q = q.where(T.c.at < until)
    if before is not None:
        q = q.where(T.c.seq < before)
    with store.engine(settings).connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    for r in rows:
        r["outcome"] = outcome_of(r["action"])
    return rows, (rows[-1]["seq"] if more else None)


def entry(settings: Settings, seq: int) -> dict | None:
    with store.engine(settings).connect() as conn:
        row = conn.execute(sa.select(T).where(T.c.seq == seq)).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["outcome"] = outcome_of(out["action"])
    out["detail"] = json.loads(out["detail"])
    return out


POLICY_FILES = ("policies/*.yaml", "catalog/departments/*.yaml", "schemas/*/*.yaml")


def policy_fingerprints(settings: Settings) -> dict[str, str]:
    """SHA-256 (first 16 hex) of every policy, registry and schema file, and of the identity
    registry in use (`catalog/identities.yaml` unless GOVLAKE_IDENTITIES_FILE names another)."""
    out = {}
    for pattern in POLICY_FILES:
        for path in sorted(settings.home.glob(pattern)):
            out[str(path.relative_to(settings.home))] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    if settings.identities_path.is_file():
        out["catalog/identities.yaml"] = hashlib.sha256(settings.identities_path.read_bytes()).hexdigest()[:16]
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
