"""Backup and restore of the governance store and its keys: a restore into a fresh state folder
holds the same contracts, approvals and chain, verifies with the restored key and recomputes the
same tokens; a wrong passphrase, an altered file or an occupied state folder write nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timezone

import pytest
import yaml

from govlake.context import Context
from govlake.core.errors import ConfigError
from govlake.core.settings import PROJECT_ROOT
from govlake.platform.secrets import token_key

NOW = datetime(2026, 11, 21, tzinfo=timezone.utc)
PASS = "correct horse battery staple"


@pytest.fixture
def source(make_settings, tmp_path):
    ctx = Context(make_settings())
    token_key(ctx.settings)  # made by `govlake up` on a real state
    data = yaml.safe_load(ctx.settings.path("policies", "contracts", "traffic-to-transport-flows.yaml").read_text())
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    ctx.new_contract(path, data["requester"], NOW)
    ctx.submit_contract(data["id"], data["requester"], NOW)
    ctx.approve_contract(data["id"], "liu_traffic_steward", NOW)
    return ctx


def test_a_restore_into_a_fresh_state_holds_the_history_and_verifies(source, make_settings, tmp_path):
    out = tmp_path / "backups" / "govlake.backup"
    token = source.subject_token(identifier="京A12345")
    # appends go on while the snapshot is taken: the snapshot holds whole transactions only
    stop = threading.Event()
    writer = threading.Thread(target=lambda: [source.record_sign_in("zhou_traffic_analyst", "failed") for _ in iter(stop.is_set, True)])
    writer.start()
    try:
        manifest = source.backup(out, PASS)
    finally:
        stop.set()
        writer.join()
    assert oct(out.stat().st_mode & 0o777) == "0o600" and b"traffic-to-transport-flows" not in out.read_bytes()  # encrypted
    assert set(manifest["members"]) == {"governance.db", "secrets/audit-chain.key", "secrets/token_keys.json", "audit-head.json"}

    fresh = Context(make_settings(state_dir=tmp_path / "restored"))
    restored, verification = fresh.restore(out, PASS)
    assert verification.ok and verification.entries >= manifest["audit_head"]["seq"]
    rec, original = fresh.contract("traffic-to-transport-flows"), source.contract("traffic-to-transport-flows")
    assert rec.status == original.status and rec.approvals == original.approvals and rec.events == original.events
    assert fresh.subject_token(identifier="京A12345") == token  # the token key came back with the store
    assert fresh.search_audit(action="contract.approve")[0][0]["hash"] == source.search_audit(action="contract.approve")[0][0]["hash"]
    assert oct((fresh.settings.secrets_dir / "audit-chain.key").stat().st_mode & 0o777) == "0o600"


def test_nothing_is_written_for_a_wrong_passphrase_an_altered_file_or_an_occupied_state(source, make_settings, tmp_path):
    out = tmp_path / "govlake.backup"
    source.backup(out, PASS)
    fresh = Context(make_settings(state_dir=tmp_path / "restored"))
    with pytest.raises(ConfigError, match="passphrase"):
        fresh.restore(out, "not the right passphrase")
    altered = tmp_path / "altered.backup"
    blob = bytearray(out.read_bytes())
    blob[-40] ^= 1
    altered.write_bytes(bytes(blob))
    with pytest.raises(ConfigError, match="altered"):
        fresh.restore(altered, PASS)
    assert not (fresh.settings.state / "governance.db").exists() and not (fresh.settings.secrets_dir / "token_keys.json").exists()
    with pytest.raises(ConfigError, match="never overwrites"):
        source.restore(out, PASS)  # the source's own state holds a store
    with pytest.raises(ConfigError, match="at least 12"):
        source.backup(tmp_path / "weak.backup", "short")
    assert not (tmp_path / "weak.backup").exists()


def test_the_commands_take_the_passphrase_from_stdin(source, make_settings, tmp_path):
    out = tmp_path / "cli.backup"
    target = make_settings(state_dir=tmp_path / "restored")
    base = {**os.environ, "GOVLAKE_HOME": str(PROJECT_ROOT)}
    run = lambda env, *argv: subprocess.run([sys.executable, "-m", "govlake", *argv], input=PASS + "\n", capture_output=True,  # noqa: E731
                                            text=True, env={**base, **env}, timeout=120)
    made = run({"GOVLAKE_STATE_DIR": str(source.settings.state)}, "backup", "--out", str(out), "--passphrase-stdin", "--json")
    assert made.returncode == 0, made.stderr
    assert PASS not in made.stdout + made.stderr
    back = run({"GOVLAKE_STATE_DIR": str(target.state)}, "restore", str(out), "--passphrase-stdin", "--json")
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["audit"]["ok"] is True
    again = run({"GOVLAKE_STATE_DIR": str(target.state)}, "restore", str(out), "--passphrase-stdin")
    assert again.returncode != 0 and "never overwrites" in again.stderr and "Traceback" not in again.stderr
