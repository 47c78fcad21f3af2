"""The audit chain: every kind of tampering is found and named; governance actions are recorded."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from govlake.governance import audit, store

T = store.audit_log


@pytest.fixture
def s(make_settings):
    s = make_settings()
    for i in range(10):
        audit.record(s, "zhao_compliance", "test.action", f"object:{i}", {"i": i, "note": "备注"})
    assert audit.verify(s).ok
    return s


def _exec(s, stmt) -> None:
    with store.engine(s).begin() as conn:
        conn.execute(stmt)


def _row(s, seq: int) -> dict:
    with store.engine(s).connect() as conn:
        return dict(conn.execute(sa.select(T).where(T.c.seq == seq)).mappings().one())


def test_an_edited_entry_is_named(s):
    _exec(s, T.update().where(T.c.seq == 4).values(actor="mallory"))
    r = audit.verify(s)
    assert (r.ok, r.first_bad) == (False, 4) and "altered" in r.problem


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(s):
    row = _row(s, 4)
    h = audit.entry_hash(4, row["at"], "mallory", row["action"], row["object"], row["detail"], row["prev_hash"], key=audit.chain_key(s))
    _exec(s, T.update().where(T.c.seq == 4).values(actor="mallory", hash=h))
    r = audit.verify(s)
    assert (r.ok, r.first_bad) == (False, 5)


def _rewrite_from(s, seq: int, key: bytes | None) -> None:
    """A forger rewrites entry `seq` and recomputes every later link and the head anchor beside
    the store, with `key` (None: without the chain key, as SHA-256 or anything else they could)."""
    with store.engine(s).begin() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(T).where(T.c.seq >= seq).order_by(T.c.seq)).mappings()]
        prev = conn.execute(sa.select(T.c.hash).where(T.c.seq == seq - 1)).scalar_one()
        for r in rows:
            r["actor"] = "mallory" if r["seq"] == seq else r["actor"]
            r["prev_hash"] = prev
            r["hash"] = prev = audit.entry_hash(r["seq"], r["at"], r["actor"], r["action"], r["object"], r["detail"], prev, key=key)
            conn.execute(T.update().where(T.c.seq == r["seq"]).values(actor=r["actor"], prev_hash=r["prev_hash"], hash=r["hash"]))
    audit.anchor_path(s).write_text(json.dumps({"seq": rows[-1]["seq"], "hash": prev}))


def test_whoever_writes_the_store_without_the_key_cannot_recompute_the_chain(s):
    _rewrite_from(s, 4, key=None)
    r = audit.verify(s)
    assert (r.ok, r.first_bad) == (False, 4) and "altered" in r.problem
    _rewrite_from(s, 4, key=b"a guessed key")
    assert (audit.verify(s).ok, audit.verify(s).first_bad) == (False, 4)


def test_the_seq_the_chain_is_keyed_from_cannot_be_moved_or_removed(s):
    _exec(s, audit.M.update().where(audit.M.c.name == "chain").values(value=json.dumps({"keyed_from": 20, "mac": "0" * 64})))
    r = audit.verify(s)
    assert not r.ok and "keyed" in r.problem
    _exec(s, audit.M.delete())
    r = audit.verify(s)
    assert not r.ok and "missing" in r.problem


def test_a_rewrite_with_the_key_is_caught_by_heads_kept_elsewhere(make_settings, tmp_path):
    """The service account holds the key; a head a compliance officer kept, or the anchor log on
    storage the service account can only append to, still shows the chain was rewritten."""
    log = tmp_path / "elsewhere" / "audit-anchors.log"
    log.parent.mkdir()
    s = make_settings(audit_anchor_log=log, audit_anchor_every_s=0)
    for i in range(10):
        audit.record(s, "zhao_compliance", "test.action", f"object:{i}", {"i": i})
    kept = tmp_path / "kept-by-compliance.json"
    kept.write_text(json.dumps(audit.head(s)))
    assert audit.verify(s, anchors=kept).ok and audit.verify(s).anchors == 10
    _rewrite_from(s, 4, key=audit.chain_key(s))
    r = audit.verify(s, anchors=kept)
    assert (r.ok, r.first_bad) == (False, 4) and "rewritten" in r.problem  # the anchor log (heads 4..10)
    log.unlink()
    r = audit.verify(s, anchors=kept)
    assert (r.ok, r.first_bad) == (False, 10) and str(kept) in r.problem  # the compliance officer's copy
    assert audit.verify(s).ok  # without a head kept elsewhere, a key holder's rewrite is undetectable


def test_a_deleted_entry_is_named(s):
    _exec(s, T.delete().where(T.c.seq == 6))
    r = audit.verify(s)
    assert (r.ok, r.first_bad) == (False, 6) and "missing" in r.problem


def test_a_deleted_tail_is_found_by_the_head_anchor(s):
    _exec(s, T.delete().where(T.c.seq >= 9))
    r = audit.verify(s)
    assert (r.ok, r.first_bad) == (False, 9) and "recorded head" in r.problem


def test_an_inserted_entry_is_named(s):
    # shift 6..10 up by one and forge a new entry 6 that claims to follow entry 5
    with store.engine(s).begin() as conn:
        for seq in range(10, 5, -1):
            conn.execute(T.update().where(T.c.seq == seq).values(seq=seq + 1))
        prev = conn.execute(sa.select(T.c.hash).where(T.c.seq == 5)).scalar_one()
        at = datetime(2026, 11, 25, tzinfo=timezone.utc).isoformat()
        h = audit.entry_hash(6, at, "mallory", "contract.approve", "contract:x", "{}", prev, key=audit.chain_key(s))
        conn.execute(T.insert().values(seq=6, at=at, actor="mallory", action="contract.approve", object="contract:x", detail="{}", prev_hash=prev, hash=h))
    r = audit.verify(s)
    assert (r.ok, r.first_bad) == (False, 7) and "does not follow" in r.problem


def test_reordered_entries_are_named(s):
    a, b = _row(s, 3), _row(s, 7)
    _exec(s, T.delete().where(T.c.seq.in_((3, 7))))
    _exec(s, T.insert().values(**{**a, "seq": 7}))
    _exec(s, T.insert().values(**{**b, "seq": 3}))
    r = audit.verify(s)
    assert (r.ok, r.first_bad) == (False, 3)


def test_verify_cli_exits_non_zero_and_names_the_entry(s, tmp_path):
    env = {**os.environ, "GOVLAKE_STATE_DIR": str(s.state)}

    def g(*args):
        return subprocess.run([sys.executable, "-m", "govlake", "audit", *args], env=env, capture_output=True, text=True, timeout=120)

    kept = tmp_path / "head.json"
    assert g("anchor", "--out", str(kept)).returncode == 0 and json.loads(kept.read_text())["seq"] == 10
    ok = g("verify", "--anchor", str(kept))
    assert ok.returncode == 0 and "10 entries" in ok.stdout and "1 head kept elsewhere" in ok.stdout
    _exec(s, T.update().where(T.c.seq == 2).values(detail='{"i": 99}'))
    bad = g("verify")
    assert bad.returncode == 1 and "first bad entry 2" in bad.stdout


def test_contract_transitions_are_audited_in_their_transaction(make_settings, tmp_path):
    from govlake.contracts import spec as specs, workflow

    s = make_settings()
    when = datetime(2026, 11, 21, tzinfo=timezone.utc)
    spec = specs.load_contract(s.path("policies", "contracts", "traffic-to-transport-flows.yaml"))
    workflow.new(s, spec, spec.requester, when)
    workflow.submit(s, spec.id, spec.requester, when)
    with pytest.raises(Exception):
        workflow.approve(s, spec.id, spec.requester, when)  # refused: nothing recorded
    workflow.approve(s, spec.id, "liu_traffic_steward", when)
    rows = list(reversed(audit.entries(s, 20)))
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("li_transport_analyst", "contract.new"), ("li_transport_analyst", "contract.submit"),
        ("liu_traffic_steward", "contract.approve"), ("system", "contract.activate")]
    assert all(r["object"] == f"contract:{spec.id}" for r in rows)
    assert audit.verify(s).ok


def test_policy_changes_are_noticed_between_publishes(make_settings, tmp_path):
    import shutil

    home = tmp_path / "home"
    for d in ("policies", "catalog", "schemas"):
        shutil.copytree(make_settings().path(d), home / d)
    s = make_settings(home=home)
    first = audit.policy_fingerprints(s)
    assert "policies/purposes.yaml" in first and "catalog/identities.yaml" in first
    audit.record(s, "etl_service", "publish", "tier:application", {"policies": first})
    assert audit.record_policy_changes(s, "etl_service", audit.policy_fingerprints(s)) == []
    p = home / "policies" / "purposes.yaml"
    p.write_text(p.read_text().replace("max_level: L2", "max_level: L3", 1))
    assert audit.record_policy_changes(s, "etl_service", audit.policy_fingerprints(s)) == ["policies/purposes.yaml"]
    [entry] = audit.entries(s, 1, "policy.")
    assert entry["object"] == "file:policies/purposes.yaml" and json.loads(entry["detail"])["before"] == first["policies/purposes.yaml"]


def test_an_append_under_another_key_is_refused(s):
    """A lost or replaced key file must not silently start MACs under a new key."""
    from govlake.core.errors import ConfigError

    audit.key_path(s).unlink()
    with pytest.raises(ConfigError, match="another key"):
        audit.record(s, "zhao_compliance", "test.action", "object:x")
    assert audit.entries(s, 1)[0]["object"] == "object:9"  # nothing was appended


def test_a_transaction_that_rolls_back_anchors_nothing(s):
    before = json.loads(audit.anchor_path(s).read_text())
    with pytest.raises(RuntimeError):
        with audit.transaction(s) as conn:
            audit.append(conn, "zhao_compliance", "test.action", "object:rolled-back")
            raise RuntimeError("the action failed")
    assert json.loads(audit.anchor_path(s).read_text()) == before
    audit.record(s, "zhao_compliance", "test.action", "object:after")  # the pooled connection kept no stale head
    assert json.loads(audit.anchor_path(s).read_text())["seq"] == 11 and audit.verify(s).ok


def _completed(query_id: str, user: str = "zhou_traffic_analyst") -> bytes:
    return json.dumps({"metadata": {"queryId": query_id, "query": "SELECT 1", "queryState": "FINISHED", "tables": []},
                       "statistics": {"wallTime": 0.1}, "context": {"user": user, "groups": ["dept_traffic", "role_analyst"]},
                       "endTime": "2026-11-21T00:00:00Z"}).encode()


def test_the_spool_is_drained_once_and_an_unreadable_file_is_set_aside_on_record(s):
    from govlake.services import audit_receiver

    audit_receiver.spool(s, b"{not json")  # a token holder's junk, sorted first
    audit_receiver.spool(s, _completed("q-1"))
    audit_receiver.spool(s, _completed("q-1"))  # Trino re-sent it
    audit_receiver.spool(s, _completed("q-2"))
    assert audit_receiver.drain(s) == 2
    assert audit_receiver.pending(s) == []
    queries = [e for e in audit.entries(s, 20, "query.")]
    assert sorted(e["object"] for e in queries) == ["trino:q-1", "trino:q-2"]
    assert all('"received_at"' in e["detail"] and '"groups"' in e["detail"] for e in queries)
    [rejected] = audit.entries(s, 20, "audit.event_rejected")
    kept = json.loads(rejected["detail"])["kept"]
    assert os.path.isfile(kept) and open(kept, "rb").read().endswith(b"{not json")
    assert audit.verify(s).ok
