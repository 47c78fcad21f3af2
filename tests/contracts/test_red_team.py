"""Red-team tests: a consumer analyst attacks the real Trino server (HTTPS, password auth,
file-based rules compiled from the active contracts). Every attempt must fail or return nothing
sensitive."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from govlake.contracts import spec as specs, validate, workflow
from govlake.core.errors import QueryError
from govlake.pipeline import main_job
from govlake.platform import lake, storage
from govlake.services import sql, trino_security
from tests.conftest import RUN_TIME

pytestmark = pytest.mark.trino

ANALYST = "zhou_traffic_analyst"  # traffic: receives police sightings
GRANTED = "app_traffic.police_vehicle_sightings"
TOKEN = re.compile(r"^[a-z0-9]+_[0-9a-f]{64}$")


def denied(settings, user: str, query: str) -> str:
    with pytest.raises(QueryError) as err:
        sql.query(settings, user, query)
    return str(err.value)


def test_the_analyst_reads_the_granted_table(settings, lakehouse):
    res = sql.query(settings, ANALYST, f"SELECT * FROM {GRANTED}")
    assert res.columns == ["plate_token", "camera_id", "grid_cell", "observed_hour", "vehicle_color"]
    assert res.rows and all(TOKEN.match(r[0]) for r in res.rows)


@pytest.mark.parametrize("table", ["base.detections", "base.cameras", "base.events", "base.quarantine", "base.batch_log",
                                   "analytic.detections_deidentified", "analytic.flow_hourly", "analytic.events_deidentified",
                                   "governance.audit_log", "governance.contracts"])
def test_base_and_analytic_tables_are_denied(settings, lakehouse, table):
    assert "Access Denied" in denied(settings, ANALYST, f"SELECT * FROM {table} LIMIT 1")


def test_other_departments_application_tables_are_denied(settings, lakehouse):
    assert "Access Denied" in denied(settings, ANALYST, "SELECT * FROM app_transport.traffic_flows_hourly")
    assert "Access Denied" in denied(settings, "li_transport_analyst", f"SELECT * FROM {GRANTED}")
    assert "Access Denied" in denied(settings, "chen_police_analyst", f"SELECT * FROM {GRANTED}")


def test_columns_and_rows_not_granted_are_not_there(settings, lakehouse, sample_data):
    for col in ("department", "plate_no", "detection_token", "confidence"):
        assert "cannot be resolved" in denied(settings, ANALYST, f"SELECT {col} FROM {GRANTED}")
    # rows: only the police department's motor vehicles with a plate
    police = [d for d in sample_data["police"].detections if d["object_type"] == "motor_vehicle" and d["plate_no"]]
    assert sql.query(settings, ANALYST, f"SELECT count(*) FROM {GRANTED}").rows[0][0] == len(police)
    traffic_cams = {c["camera_id"] for c in sample_data["traffic"].cameras}
    cams = {r[0] for r in sql.query(settings, ANALYST, f"SELECT DISTINCT camera_id FROM {GRANTED}").rows}
    assert cams and not cams & traffic_cams


@pytest.mark.parametrize("suffix", ["$history", "$properties", "$partitions"])
def test_metadata_tables_are_denied(settings, lakehouse, suffix):
    table = f'app_traffic."police_vehicle_sightings{suffix}"'
    sql.query(settings, "ops_admin", f"SELECT * FROM {table}")  # they exist
    assert "Access Denied" in denied(settings, ANALYST, f"SELECT * FROM {table}")
    assert "Access Denied" in denied(settings, ANALYST, f'SELECT * FROM base."detections{suffix}"')


@pytest.mark.parametrize("column", ["$path", "$file_size", "$file_modified_time"])
def test_hidden_columns_are_denied(settings, lakehouse, column):
    assert "Access Denied" in denied(settings, ANALYST, f'SELECT "{column}" FROM {GRANTED} LIMIT 1')


def test_change_feed_procedures_and_writes_are_denied(settings, lakehouse):
    msgs = [
        denied(settings, ANALYST, "SELECT * FROM TABLE(lake.system.table_changes('app_traffic', 'police_vehicle_sightings', 0))"),
        denied(settings, ANALYST, "SELECT * FROM TABLE(lake.system.table_changes('base', 'detections', 0))"),
        denied(settings, ANALYST, "CALL lake.system.unregister_table(schema_name => 'app_traffic', table_name => 'police_vehicle_sightings')"),
        denied(settings, ANALYST, "CALL lake.system.register_table(schema_name => 'app_traffic', table_name => 'x', table_location => 'local:///tmp')"),
        denied(settings, ANALYST, f"INSERT INTO {GRANTED} (plate_token) VALUES ('x')"),
        denied(settings, ANALYST, f"DELETE FROM {GRANTED}"),
        denied(settings, ANALYST, f"DROP TABLE {GRANTED}"),
        denied(settings, ANALYST, "CREATE TABLE app_traffic.copy AS SELECT 1 AS x"),
        denied(settings, ANALYST, "SET SESSION query_max_run_time = '1h'"),
    ]
    assert all("Access Denied" in m for m in msgs), msgs
    assert sql.query(settings, "ops_admin", f"SELECT count(*) FROM {GRANTED}").rows[0][0] > 0  # still there


def test_information_schema_and_system_reveal_nothing_else(settings, lakehouse):
    tables = sql.query(settings, ANALYST, "SELECT table_schema, table_name FROM information_schema.tables "
                                          "WHERE table_schema <> 'information_schema'").rows
    assert tables == [["app_traffic", "police_vehicle_sightings"]]
    cols = sql.query(settings, ANALYST, "SELECT DISTINCT table_schema FROM information_schema.columns").rows
    assert {r[0] for r in cols} <= {"app_traffic", "information_schema"}
    schemas = {r[0] for r in sql.query(settings, ANALYST, "SHOW SCHEMAS").rows}
    assert "app_traffic" in schemas and schemas <= {"app_traffic", "information_schema"}
    for q in ("SELECT * FROM system.runtime.queries", "SELECT * FROM system.metadata.table_comments",
              "SELECT * FROM system.runtime.nodes", "SHOW STATS FOR base.detections", "SHOW CREATE TABLE base.detections",
              "SELECT * FROM system.jdbc.columns"):
        assert "Access Denied" in denied(settings, ANALYST, q), q


def test_authentication_cannot_be_skipped_or_borrowed(settings, lakehouse):
    import trino as trino_client

    # wrong password
    with pytest.raises(QueryError, match="401"):
        sql.query(settings, ANALYST, "SELECT 1", password="not-the-password")
    # nothing listens on plain HTTP
    port = int(settings.trino_endpoint.rsplit(":", 1)[1])
    conn = trino_client.dbapi.connect(host="127.0.0.1", port=port, http_scheme="http", user="ops_admin", catalog="lake")
    with pytest.raises(Exception):
        conn.cursor().execute("SELECT 1")
    # an authenticated analyst cannot act as the operator
    import requests

    session = requests.Session()
    session.trust_env = False
    session.verify = str(trino_security.client_cert(settings))
    conn = trino_client.dbapi.connect(
        host="127.0.0.1", port=port, http_scheme="https", user="ops_admin", catalog="lake", http_session=session,
        auth=trino_client.auth.BasicAuthentication(ANALYST, trino_security.password(settings, ANALYST)),
    )
    with pytest.raises(trino_client.exceptions.TrinoUserError, match="(?i)access denied"):
        conn.cursor().execute("SELECT 1")


def test_stewards_and_compliance_get_what_their_role_needs(settings, lakehouse, sample_data):
    depts = sql.query(settings, "wang_police_steward", "SELECT DISTINCT department FROM base.detections").rows
    assert depts == [["police"]]
    assert sql.query(settings, "wang_police_steward", f"SELECT count(*) FROM {GRANTED}").rows[0][0] > 0  # what police shares
    assert "Access Denied" in denied(settings, "wang_police_steward", "SELECT * FROM app_transport.traffic_flows_hourly")
    n = sql.query(settings, "zhao_compliance", "SELECT count(DISTINCT department) FROM base.detections").rows[0][0]
    assert n == len(sample_data)
    # the audit trail as a table: the sample contracts' approvals are in it
    approvals = sql.query(settings, "zhao_compliance", "SELECT actor, object FROM governance.audit_log WHERE action = 'contract.approve'").rows
    assert ["wang_police_steward", "contract:police-to-traffic-vehicle-sightings"] in approvals
    assert "Access Denied" in denied(settings, "wang_police_steward", "SELECT * FROM governance.audit_log")
    assert "Access Denied" in denied(settings, "zhao_compliance", 'SELECT * FROM base."detections$history"')


SMUGGLED = [
    "department = 'police' OR 1=1",  # widens past the provider (provider-scope)
    "department = 'police' AND camera_id IN (SELECT camera_id FROM base.cameras)",
    "department = 'police'; DROP TABLE base.detections",
    "department = 'police' -- AND object_type = 'x'",
    "department = 'police' AND regexp_like(camera_id, '.*')",
    "department = 'police' AND current_user = 'zhou_traffic_analyst'",
    "department = 'police' AND plate_no IS NOT NULL",
]


@pytest.mark.parametrize("n", range(len(SMUGGLED)))
def test_a_row_filter_cannot_smuggle_sql(settings, lakehouse, tmp_path, n):
    row_filter = SMUGGLED[n]
    data = yaml.safe_load(Path(settings.path("policies", "contracts", "police-to-traffic-vehicle-sightings.yaml")).read_text())
    data["id"] = f"smuggle-test-{n}"
    data["table"] = f"smuggle_test_{n}"
    data["row_filter"] = row_filter
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data))
    spec = specs.load_contract(path)
    found = validate.problems(spec, settings, RUN_TIME)
    assert [p.rule for p in found] and {p.rule for p in found} <= {"row-filter", "provider-scope"}, found
    workflow.new(settings, spec, spec.requester, RUN_TIME)
    with pytest.raises(validate.ContractInvalid):
        workflow.submit(settings, spec.id, spec.requester, RUN_TIME)
    assert workflow.get(settings, spec.id).status == "draft"


def _traffic_to_police(settings, tmp_path, camera_masking: str | None) -> specs.ContractSpec:
    data = {
        "id": "traffic-to-police-cameras", "provider": "traffic", "consumer": "police", "purpose": "public_security",
        "legal_basis": "PIPL art. 13(3); red-team exercise", "requester": "chen_police_analyst",
        "dataset": "analytic.detections_deidentified", "table": "traffic_camera_activity",
        "columns": [{"name": "camera_id", **({"masking": camera_masking} if camera_masking else {})},
                    {"name": "observed_hour"}, {"name": "object_type"}, {"name": "department"}],
        "row_filter": "department = 'traffic'",
        "valid_from": "2026-01-01T00:00:00+08:00", "valid_to": "2027-01-01T00:00:00+08:00", "retention_days": 30,
    }
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return specs.load_contract(path)


def test_time_travel_never_reaches_a_less_masked_version_and_revocation_reaches_trino_fast(settings, spark, lakehouse, tmp_path, sample_data):
    police_analyst, table = "chen_police_analyst", "app_police.traffic_camera_activity"
    raw_cams = {c["camera_id"] for c in sample_data["traffic"].cameras}
    v1 = _traffic_to_police(settings, tmp_path, None)
    workflow.new(settings, v1, "chen_police_analyst", RUN_TIME)
    workflow.submit(settings, v1.id, "chen_police_analyst", RUN_TIME)
    assert workflow.approve(settings, v1.id, "liu_traffic_steward", RUN_TIME).status == "active"
    main_job.publish(spark, settings, RUN_TIME)
    assert {r[0] for r in sql.query(settings, police_analyst, f"SELECT DISTINCT camera_id FROM {table}").rows} <= raw_cams
    main_job.publish(spark, settings, RUN_TIME)  # a second version of the same specification
    # consumers get no history: the replaced version's files are gone once its readers had time
    gone = denied(settings, police_analyst, f"SELECT count(*) FROM {table} FOR VERSION AS OF 0")
    assert "Access Denied" not in gone, gone  # not a refusal: the version's files no longer exist

    # amended: camera ids now tokenised; approvals of v1 no longer count
    v2 = _traffic_to_police(settings, tmp_path, "token")
    rec = workflow.submit(settings, v1.id, "chen_police_analyst", RUN_TIME, v2)
    assert rec.status == "submitted" and rec.approvals == []
    assert workflow.approve(settings, v1.id, "liu_traffic_steward", RUN_TIME).status == "active"
    main_job.publish(spark, settings, RUN_TIME)
    now = {r[0] for r in sql.query(settings, police_analyst, f"SELECT DISTINCT camera_id FROM {table}").rows}
    assert now and all(TOKEN.match(c) for c in now)
    reachable = []
    for version in range(6):  # whatever version time travel still reaches was published masked
        try:
            reachable.append({r[0] for r in sql.query(settings, police_analyst, f"SELECT DISTINCT camera_id FROM {table} FOR VERSION AS OF {version}").rows})
        except QueryError:
            pass
    assert reachable and all(v <= now for v in reachable), "time travel reached the version published before masking"

    # defence in depth: should a publish ever write a raw camera id or another department's row,
    # the rules' mask and filter still keep them from the analyst
    count = lambda: sql.query(settings, police_analyst, f"SELECT count(*), count(camera_id) FROM {table}").rows[0]  # noqa: E731
    before = count()
    raw = sorted(raw_cams)[0]
    from datetime import datetime as dt

    path = lake.app_table_path(settings, workflow.get(settings, v1.id).spec)
    poisoned = spark.createDataFrame(
        [(raw, dt(2026, 11, 20, 1), "person", "traffic"), (f"k1c_{'0' * 64}", dt(2026, 11, 20, 1), "person", "police")],
        spark.read.format("delta").load(path).schema,
    )
    poisoned.write.format("delta").mode("append").save(path)  # as a faulty publish would
    assert sql.query(settings, "ops_admin", f"SELECT count(*) FROM {table}").rows[0][0] == before[0] + 2
    assert count() == [before[0] + 1, before[1]], "the raw id must be masked to NULL and the police row filtered out"
    seen = {r[0] for r in sql.query(settings, police_analyst, f"SELECT DISTINCT camera_id FROM {table}").rows}
    assert raw not in seen

    # revocation: Trino stops granting the table within 10 s, before any re-publish
    workflow.revoke(settings, v1.id, "liu_traffic_steward", "red-team exercise over", RUN_TIME)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        try:
            sql.query(settings, police_analyst, f"SELECT count(*) FROM {table}")
        except QueryError as exc:
            assert "Access Denied" in str(exc)
            break
        time.sleep(0.25)
    else:
        pytest.fail("the revoked contract's table was still readable 10 s after revocation")
    print(f"revocation reached Trino after {time.monotonic() - t0:.2f}s")
    _, catalog = main_job.publish(spark, settings, RUN_TIME)
    assert "app_police.traffic_camera_activity" in catalog["unregistered"]
    kept = storage.child_dirs(settings, lake.table_path(settings, "application", "app_police"))
    assert storage.is_dir(settings, path) is False and not [p for p in kept if "/traffic_camera_activity__" in p], kept


def test_an_analyst_cannot_see_other_users_queries(settings, lakehouse):
    """Query texts can hold raw identifiers (an operator looking up a plate): the REST API and the
    web UI list only the analyst's own queries."""
    import requests

    marker = "京A7RT01"
    sql.query(settings, "ops_admin", f"SELECT count(*) FROM base.detections WHERE plate_no = '{marker}'")
    session = requests.Session()
    session.trust_env = False
    session.verify = str(trino_security.client_cert(settings))

    def listing(user: str) -> str:
        r = session.get(f"{settings.trino_endpoint}/v1/query", auth=(user, trino_security.password(settings, user)), timeout=30)
        assert r.status_code == 200, r.status_code
        return r.text

    assert marker in listing("ops_admin")  # the query is there to be found
    assert marker not in listing(ANALYST)


def test_every_query_reaches_the_audit_log_with_what_it_read(settings, lakehouse):
    """Trino's HTTP event listener -> govlake's receiver -> the hash-chained audit log: who, the
    query text, the tables and columns read, the masks applied, and refusals as `query.denied`."""
    from govlake.governance import audit

    marker = f"audit-{time.time_ns()}"
    sql.query(settings, ANALYST, f"SELECT plate_token, observed_hour FROM {GRANTED} WHERE camera_id <> '{marker}'")
    denied(settings, ANALYST, f"SELECT * FROM base.detections WHERE detection_id = '{marker}'")
    t0, found = time.monotonic(), {}
    while time.monotonic() - t0 < 20 and len(found) < 2:
        for e in audit.entries(settings, 200, "query."):
            if marker in e["detail"]:
                found[e["action"]] = e
        time.sleep(0.5)
    assert set(found) == {"query.completed", "query.denied"}, found
    ok = json.loads(found["query.completed"]["detail"])
    assert found["query.completed"]["actor"] == ANALYST
    [table] = [t for t in ok["tables"] if t["table"] == "lake.app_traffic.police_vehicle_sightings"]
    assert {"plate_token", "observed_hour", "camera_id"} <= set(table["columns"])
    assert set(table["masks"]) >= {"plate_token", "observed_hour"}  # the conformance masks were applied
    bad = json.loads(found["query.denied"]["detail"])
    assert bad["outcome"] == "failed" and "Access Denied" in bad["error"]["message"]
    assert audit.verify(settings).ok


# --- the paths around the rules ---------------------------------------------------------------

def _versions(settings, table: str) -> int:
    schema, name = table.split(".")
    return sql.query(settings, "ops_admin", f'SELECT count(*) FROM {schema}."{name}$history"').rows[0][0]


@pytest.mark.parametrize("user, table", [
    ("li_transport_analyst", "app_transport.traffic_flows_hourly"),  # no mask, filter not repeatable: the rule's window
    (ANALYST, GRANTED),
    ("liu_traffic_steward", "app_transport.traffic_flows_hourly"),  # provider steward
    ("wang_police_steward", GRANTED),  # provider steward
    ("wang_police_steward", "base.detections"),
    ("zhao_compliance", "base.detections"),
    ("zhao_compliance", "base.cameras"),
    ("zhao_compliance", "analytic.detections_deidentified"),
])
def test_table_procedures_are_refused_to_everyone_but_operators(settings, lakehouse, user, table):
    """`ALTER TABLE ... EXECUTE optimize` passes file-based rules (they have no privilege for it):
    it would let a reader race Spark's MERGE and write statistics of identifying columns into the
    Delta log. Every rule but the operators' carries a row filter, on which Trino refuses it."""
    before = _versions(settings, table)
    msg = denied(settings, user, f"ALTER TABLE {table} EXECUTE optimize")
    assert "not supported for table with row filter" in msg or "Access Denied" in msg, msg
    assert _versions(settings, table) == before  # nothing was written


def _contract(settings, tmp_path, **fields) -> specs.ContractSpec:
    data = {
        "id": "traffic-to-police-flows", "provider": "traffic", "consumer": "police", "purpose": "traffic_management",
        "legal_basis": "Road Traffic Safety Law art. 5; red-team exercise", "requester": "chen_police_analyst",
        "dataset": "analytic.flow_hourly", "table": "traffic_flows",
        "columns": [{"name": "region_code"}, {"name": "observed_hour"}, {"name": "object_type"}, {"name": "detections"}],
        "row_filter": "department = 'traffic'",
        "valid_from": "2026-01-01T00:00:00+08:00", "valid_to": "2027-01-01T00:00:00+08:00", "retention_days": 365,
    } | fields
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return specs.load_contract(path)


def _approved(settings, spec: specs.ContractSpec, when) -> None:
    workflow.new(settings, spec, spec.requester, when)
    workflow.submit(settings, spec.id, spec.requester, when)
    assert workflow.approve(settings, spec.id, "liu_traffic_steward", when).status == "active"


def test_a_contract_ends_at_valid_to_with_no_job_running(settings, spark, lakehouse, tmp_path):
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    ends = now + timedelta(seconds=40)
    spec = _contract(settings, tmp_path, id="traffic-to-police-expiring", table="expiring_flows",
                     valid_from=(now - timedelta(days=1)).isoformat(), valid_to=ends.isoformat())
    _approved(settings, spec, now)
    main_job.publish(spark, settings, now)
    table = "app_police.expiring_flows"
    assert sql.query(settings, "chen_police_analyst", f"SELECT count(*) FROM {table}").rows[0][0] > 0
    assert sql.query(settings, "liu_traffic_steward", f"SELECT count(*) FROM {table}").rows[0][0] > 0
    time.sleep(max(0.0, (ends - datetime.now(timezone.utc)).total_seconds()) + 1)
    # no publish, no refresh, no rules rewrite: the rule itself knows the window
    for user in ("chen_police_analyst", "liu_traffic_steward"):
        msg = denied(settings, user, f"SELECT count(*) FROM {table}")
        assert "traffic-to-police-expiring" in msg and "only from" in msg, msg
    assert workflow.get(settings, spec.id).status == "active"  # the store has not been told yet
    main_job.publish(spark, settings, datetime.now(timezone.utc))  # the next publish retires it
    assert workflow.get(settings, spec.id).status == "expired"


def test_an_amendment_that_drops_a_column_hides_it_at_once(settings, spark, lakehouse, tmp_path):
    """The rules allow exactly the granted columns: the table published under the earlier
    specification stays registered until the next publish, but its dropped column is denied."""
    spec = _contract(settings, tmp_path, id="traffic-to-police-amended", table="amended_flows")
    _approved(settings, spec, RUN_TIME)
    main_job.publish(spark, settings, RUN_TIME)
    table = "app_police.amended_flows"
    assert sql.query(settings, "chen_police_analyst", f"SELECT count(DISTINCT object_type) FROM {table}").rows[0][0] > 0
    narrower = _contract(settings, tmp_path, id=spec.id, table="amended_flows",
                         columns=[{"name": "region_code"}, {"name": "observed_hour"}, {"name": "detections"}])
    workflow.submit(settings, spec.id, "chen_police_analyst", RUN_TIME, narrower)
    assert workflow.approve(settings, spec.id, "liu_traffic_steward", RUN_TIME).status == "active"
    time.sleep(2)  # Trino re-reads the rules every second
    assert "Access Denied" in denied(settings, "chen_police_analyst", f"SELECT object_type FROM {table}")
    assert "Access Denied" in denied(settings, "chen_police_analyst", f"SELECT * FROM {table}")
    assert sql.query(settings, "chen_police_analyst", f"SELECT sum(detections) FROM {table}").rows[0][0] > 0
    workflow.revoke(settings, spec.id, "liu_traffic_steward", "red-team exercise over", RUN_TIME)
    main_job.publish(spark, settings, RUN_TIME)


def _scan_input_rows(settings, user: str, query: str) -> int:
    """Rows the table scan read, from EXPLAIN ANALYZE (before any row filter dropped them)."""
    plan = "\n".join(r[0] for r in sql.query(settings, user, f"EXPLAIN ANALYZE {query}").rows)
    m = re.search(r"(?:TableScan|ScanFilter\w*)\[table = lake:base\.detections.*?\n(?:.*\n)*?\s*Input: ([\d,]+) rows", plan)
    assert m, plan
    return int(m.group(1).replace(",", ""))


def test_a_steward_never_scans_or_estimates_another_departments_rows(settings, lakehouse):
    """Base and analytic tables are partitioned by department and the steward's filter is on the
    partition: another department's files are neither read (EXPLAIN ANALYZE input, row-group
    pruning) nor counted in statistics (SHOW STATS)."""
    steward = "wang_police_steward"
    police = sql.query(settings, "ops_admin", "SELECT count(*) FROM base.detections WHERE department = 'police'").rows[0][0]
    total = sql.query(settings, "ops_admin", "SELECT count(*) FROM base.detections").rows[0][0]
    assert 0 < police < total
    assert _scan_input_rows(settings, steward, "SELECT count(*) FROM base.detections") == police
    other_plate = sql.query(settings, "ops_admin", "SELECT plate_no FROM base.detections WHERE department = 'traffic' "
                                                  "AND plate_no IS NOT NULL LIMIT 1").rows[0][0]
    assert _scan_input_rows(settings, steward, f"SELECT count(*) FROM base.detections WHERE plate_no = '{other_plate}'") <= police
    stats = {r[0]: r for r in sql.query(settings, steward, "SHOW STATS FOR (SELECT * FROM base.detections)").rows}
    assert stats[None][4] == police  # the row count: the steward's department's rows only
    files = sql.query(settings, "ops_admin", 'SELECT "$path", count(DISTINCT department) FROM base.detections GROUP BY 1').rows
    assert files and all(n == 1 for _, n in files)


def _sign_in_status(settings, user: str, password: str) -> int:
    """The HTTP status Trino answers a statement with these credentials (no client-side checks)."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.verify = str(trino_security.client_cert(settings))
    r = session.post(f"{settings.trino_endpoint}/v1/statement", data="SELECT 1", auth=(user, password),
                     headers={"X-Trino-User": user}, timeout=30)
    return r.status_code


def _audited(settings, actor: str, prefix: str, at_least: int, timeout: float = 20) -> list[dict]:
    from govlake.governance import audit

    t0 = time.monotonic()
    while True:
        found = [e for e in audit.entries(settings, 500, prefix) if e["actor"] == actor]
        if len(found) >= at_least or time.monotonic() - t0 > timeout:
            return found
        time.sleep(0.5)


def test_failed_sign_ins_are_audited_and_repeated_ones_lock_the_user_out(settings, lakehouse):
    user = "sun_transport_steward"  # no other test signs in as this steward
    good = trino_security.password(settings, user)
    assert _sign_in_status(settings, user, good) == 200
    for i in range(settings.sign_in_max_failures):
        assert _sign_in_status(settings, user, f"guess-{i}") == 401
    assert _sign_in_status(settings, user, good) == 401  # locked out, even with the right password
    assert _sign_in_status(settings, "mallory", "guess") == 401  # no such user
    entries = _audited(settings, user, "auth.", settings.sign_in_max_failures + 1)
    actions = sorted(e["action"] for e in entries)
    assert actions == ["auth.failed"] * (settings.sign_in_max_failures - 1) + ["auth.locked", "auth.lockout"], actions
    assert all(e["object"] == "trino:sign-in" and good not in e["detail"] for e in entries)
    assert [e["action"] for e in _audited(settings, "mallory", "auth.", 1)] == ["auth.failed"]
    # the scheduled ETL's account is never locked out by a guesser; its failures are still recorded
    service = "etl_service"
    for i in range(settings.sign_in_max_failures + 1):
        assert _sign_in_status(settings, service, f"guess-{i}") == 401
    assert _sign_in_status(settings, service, trino_security.password(settings, service)) == 200
    assert {e["action"] for e in _audited(settings, service, "auth.", settings.sign_in_max_failures + 1)} == {"auth.failed"}
    from govlake.governance import audit

    assert audit.verify(settings).ok


def test_registry_changes_reach_the_running_server_without_a_restart(settings, lakehouse):
    """A user removed from the identity registry loses their password, a user moved to another
    department their old groups, within seconds, with nobody running `govlake up`."""
    path = settings.identities_path
    original = path.read_text()
    leaving, moving = "li_transport_analyst", ANALYST
    leaving_pw = trino_security.password(settings, leaving)
    assert _sign_in_status(settings, leaving, leaving_pw) == 200
    data = yaml.safe_load(original)
    data["identities"] = [i for i in data["identities"] if i["user"] != leaving]
    for i in data["identities"]:
        if i["user"] == moving:
            i["department"] = "transport"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30:
            try:
                sql.query(settings, moving, f"SELECT count(*) FROM {GRANTED}")
            except QueryError as exc:
                if "Access Denied" in str(exc) and _sign_in_status(settings, leaving, leaving_pw) == 401:
                    break
            time.sleep(0.5)
        else:
            pytest.fail("30 s after the registry change the removed user still signs in or the moved user keeps old access")
        print(f"registry change reached Trino after {time.monotonic() - t0:.1f}s")
        assert sql.query(settings, moving, "SELECT count(*) FROM app_transport.traffic_flows_hourly").rows[0][0] > 0
    finally:
        path.write_text(original)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30:
        try:
            if sql.query(settings, moving, f"SELECT count(*) FROM {GRANTED}").rows and \
                    _sign_in_status(settings, leaving, trino_security.password(settings, leaving)) == 200:
                break
        except Exception:  # noqa: BLE001 - not yet restored
            pass
        time.sleep(0.5)
    else:
        pytest.fail("the restored registry did not reach Trino")
