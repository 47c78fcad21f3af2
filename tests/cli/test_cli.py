"""The `govlake` command as a user runs it (a real subprocess against the running Trino)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def govlake(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "govlake", *args], capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_identity_list_json_has_user_department_role():
    rows = json.loads(govlake("identity", "list", "--json").stdout)
    assert {"user": "li_transport_analyst", "department": "transport", "role": "analyst"}.items() <= next(
        r for r in rows if r["user"] == "li_transport_analyst"
    ).items()
    assert {r["role"] for r in rows} == {"operator", "compliance", "steward", "analyst"}


def test_department_validate_reports_a_bad_file(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: broken\nname: x\n")
    proc = govlake("department", "validate", str(bad), check=False)
    assert proc.returncode == 1
    assert "broken.yaml" in proc.stdout and "field `stewards`" in proc.stdout


@pytest.mark.trino
@pytest.mark.spark
def test_sql_as_user_prints_json_rows(lakehouse):
    out = govlake("sql", "--as", "li_transport_analyst", "SELECT count(*) > 0 AS has_rows FROM app_transport.traffic_flows_hourly", "--json")
    assert json.loads(out.stdout) == [{"has_rows": True}]
    who = govlake("sql", "--as", "li_transport_analyst", "SELECT current_user AS u, current_groups() AS g", "--json")
    got = json.loads(who.stdout)[0]
    assert got["u"] == "li_transport_analyst"
    assert sorted(got["g"]) == ["dept_transport", "role_analyst", "team_transport_analyst"]
    table = govlake("sql", "--as", "li_transport_analyst", "SELECT 'x' AS col").stdout
    assert "col" in table and "(1 rows)" in table


@pytest.mark.trino
def test_sql_as_unknown_user_fails_before_connecting(trino_server):
    proc = govlake("sql", "--as", "mallory", "SELECT 1", check=False)
    assert proc.returncode == 1 and "unknown user `mallory`" in proc.stderr


@pytest.mark.trino
@pytest.mark.spark
def test_status_reports_running_trino_and_ingest_health(lakehouse):
    status = json.loads(govlake("status", "--json").stdout)
    services = status["services"]
    assert services[0]["name"] == "trino" and services[0]["state"] == "running" and services[0]["memory_mb"] > 100
    assert services[1]["name"] == "audit" and services[1]["state"] == "running" and "spool" in services[1]["detail"]
    assert status["ingest"]["batches"] == 3 and status["ingest"]["quality_failed_batches"] == 0
    assert status["ingest"]["unbalanced_batches"] == 0
    assert status["ingest"]["classification_flagged_columns"] == 0  # the sample feeds match their classification


def test_sql_without_a_running_server_says_how_to_start_it(tmp_path):
    env = os.environ | {"GOVLAKE_STATE_DIR": str(tmp_path / "state"), "GOVLAKE_TRINO_PORT": "1"}
    proc = subprocess.run([sys.executable, "-m", "govlake", "sql", "--as", "ops_admin", "SELECT 1"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1
    assert "cannot reach Trino" in proc.stderr and "govlake up" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv", [
    ["run", "--run-time", "2026-11-21T00:05:00", "--no-serve"],
    ["ingest", "--department", "police", "--run-time", "2026-11-21T00:05:00"],
    ["publish", "--at", "2026-11-21T00:05:00"],
    ["retention", "run", "--at", "2026-11-21T00:05:00", "--dry-run"],
    ["contract", "list", "--at", "2026-11-21T00:05:00"],
])
def test_every_time_option_refuses_a_time_without_offset_the_same_way(argv, capsys):
    """One timezone rule for `--run-time` and `--at`: a bare wall-clock time is refused before any
    work starts, with the same message (`run` and `ingest` used to pass it on to fail deep inside)."""
    from govlake.cli import main

    assert main(argv) == 1
    assert f"{argv[argv.index('--run-time') + 1 if '--run-time' in argv else argv.index('--at') + 1]}` has no timezone offset" in capsys.readouterr().err
