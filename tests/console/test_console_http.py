"""The console's server-side guarantees over HTTP (no browser, no Trino): sign-in, sessions, CSRF,
lockout, roles and departments enforced on the server, escaping, and decisions taken by the
same workflow the CLI uses. The journeys in a real browser are in test_console_browser.py."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest
import yaml
from fastapi.testclient import TestClient

from govlake.console.app import create_app
from govlake.context import Context
from govlake.services import console_process, trino_security

NOW = datetime(2026, 11, 21, tzinfo=timezone.utc)
FLOWS = "traffic-to-transport-flows"  # provider traffic, consumer transport; no compliance co-approval


@pytest.fixture
def ctx(make_settings):
    return Context(make_settings(sign_in_max_failures=3))


@pytest.fixture
def app(ctx):
    return create_app(ctx, clock=lambda: NOW)


def client(app) -> TestClient:
    return TestClient(app, base_url="https://127.0.0.1")


def sign_in(app, ctx, user: str, password: str | None = None) -> TestClient:
    c = client(app)
    token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"user": user, "password": password or trino_security.password(ctx.settings, user), "login_token": token},
               follow_redirects=False)
    assert r.status_code == 303
    return c


def csrf(c: TestClient, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', c.get(path).text).group(1)


def submitted(ctx, tmp_path, **changes) -> str:
    data = yaml.safe_load(ctx.settings.path("policies", "contracts", f"{FLOWS}.yaml").read_text()) | changes
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    ctx.new_contract(path, data["requester"], NOW)
    ctx.submit_contract(data["id"], data["requester"], NOW)
    return data["id"]


def test_pages_need_a_session_and_the_sign_in_is_audited(app, ctx):
    c = client(app)
    assert c.get("/inbox", follow_redirects=False).headers["location"] == "/login"
    r = c.get("/login")
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=strict" in r.headers["set-cookie"] and "Secure" in r.headers["set-cookie"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    signed = sign_in(app, ctx, "liu_traffic_steward")
    assert signed.get("/", follow_redirects=False).headers["location"] == "/inbox"
    assert any(e["action"] == "auth.signed_in" and e["actor"] == "liu_traffic_steward" for e in ctx.audit_entries(20, "auth."))


def test_a_sign_in_without_the_form_token_is_refused(app, ctx):
    c = client(app)
    c.get("/login")
    r = c.post("/login", data={"user": "liu_traffic_steward", "password": trino_security.password(ctx.settings, "liu_traffic_steward")},
               follow_redirects=False)
    assert r.status_code == 403


def test_repeated_failures_lock_the_user_out_even_with_the_right_password(app, ctx):
    for _ in range(3):
        c = client(app)
        token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"user": "zhou_traffic_analyst", "password": "wrong", "login_token": token}, follow_redirects=False)
    c = client(app)
    token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"user": "zhou_traffic_analyst", "password": trino_security.password(ctx.settings, "zhou_traffic_analyst"),
                               "login_token": token}, follow_redirects=False)
    assert r.headers["location"] == "/login?error=locked"
    actions = [e["action"] for e in ctx.audit_entries(20, "auth.") if e["actor"] == "zhou_traffic_analyst"]
    assert actions.count("auth.failed") == 2 and "auth.lockout" in actions and "auth.locked_out" in actions


def test_the_provider_steward_approves_from_the_inbox_and_the_workflow_records_it(app, ctx, tmp_path):
    cid = submitted(ctx, tmp_path)
    steward = sign_in(app, ctx, "liu_traffic_steward")
    assert cid in steward.get("/inbox").text
    r = steward.post(f"/contracts/{cid}/approve", data={"csrf": csrf(steward, f"/contracts/{cid}")})
    assert r.status_code == 200
    assert ctx.contract(cid).status in ("approved", "active")
    assert cid not in steward.get("/inbox").text


def test_a_post_without_the_session_csrf_token_changes_nothing(app, ctx, tmp_path):
    cid = submitted(ctx, tmp_path)
    steward = sign_in(app, ctx, "liu_traffic_steward")
    assert steward.post(f"/contracts/{cid}/approve", data={"csrf": "forged"}).status_code == 403
    assert steward.post(f"/contracts/{cid}/approve").status_code == 403
    assert ctx.contract(cid).status == "submitted"


def test_the_workflow_refusal_is_shown_not_bypassed(app, ctx, tmp_path):
    cid = submitted(ctx, tmp_path)
    consumer_steward = sign_in(app, ctx, "sun_transport_steward")  # a steward, but of the consumer
    assert cid not in consumer_steward.get("/inbox").text
    r = consumer_steward.post(f"/contracts/{cid}/approve", data={"csrf": csrf(consumer_steward, f"/contracts/{cid}")})
    assert r.status_code == 409 and "only a steward of the provider" in r.text
    assert ctx.contract(cid).status == "submitted"


def test_roles_and_departments_are_enforced_on_the_server(app, ctx, tmp_path):
    cid = submitted(ctx, tmp_path)
    analyst = sign_in(app, ctx, "zhou_traffic_analyst")
    assert analyst.get("/inbox").status_code == 403
    assert analyst.get("/audit").status_code == 403
    assert sign_in(app, ctx, "ops_admin").get("/audit").status_code == 403  # audit evidence is the compliance officer's
    outsider = sign_in(app, ctx, "wang_police_steward")  # police is neither provider nor consumer
    assert outsider.get(f"/contracts/{cid}").status_code == 404
    assert cid not in outsider.get("/contracts").text
    assert outsider.post(f"/contracts/{cid}/approve", data={"csrf": csrf(outsider, "/contracts")}).status_code == 404
    forged = client(app)
    forged.cookies.set("govlake_session", "forged.cookie")
    assert forged.get("/inbox", follow_redirects=False).status_code == 303


def test_text_from_a_contract_is_escaped(app, ctx, tmp_path):
    cid = submitted(ctx, tmp_path, legal_basis="<script>alert(1)</script> agreement 2026")
    page = sign_in(app, ctx, "liu_traffic_steward").get(f"/contracts/{cid}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_language_follows_the_browser_unless_chosen(app, ctx):
    c = client(app)
    assert "登录" in c.get("/login", headers={"accept-language": "zh-CN,zh;q=0.9"}).text
    assert "Sign in" in c.get("/login", headers={"accept-language": "en-US,en;q=0.8"}).text
    c.get("/lang/zh-CN")
    assert "登录" in c.get("/login", headers={"accept-language": "en-US"}).text


def test_sign_out_ends_the_session(app, ctx):
    c = sign_in(app, ctx, "zhao_compliance")
    assert c.get("/audit").status_code == 200
    c.post("/logout", data={"csrf": csrf(c, "/audit")})
    assert c.get("/audit", follow_redirects=False).status_code == 303


def test_the_console_runs_as_a_local_service_over_https(make_settings):
    import socket
    import ssl
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = make_settings(console_port=port)
    try:
        st = console_process.start(settings)
        assert st.state == "running" and st.url == f"https://127.0.0.1:{port}/"
        tls = ssl.create_default_context(cafile=str(trino_security.tls_files(settings)[1]))  # govlake's own certificate, verified
        with urllib.request.urlopen(f"{st.url}login", context=tls, timeout=10) as r:
            assert r.status == 200 and "SameSite=strict" in r.headers["set-cookie"]
        assert console_process.status(settings).pid == st.pid
    finally:
        assert console_process.stop(settings).state == "stopped"


def test_my_data_lists_only_what_is_shared_with_my_department(app, ctx, tmp_path):
    cid = submitted(ctx, tmp_path)
    ctx.approve_contract(cid, "liu_traffic_steward", NOW)
    assert ctx.contract(cid).status == "active"  # its window has started: the workflow activates it at approval
    consumer = sign_in(app, ctx, "li_transport_analyst").get("/my-data").text
    other = sign_in(app, ctx, "chen_police_analyst").get("/my-data").text
    assert cid in consumer and "traffic_flows_hourly" in consumer and cid not in other
    assert "--show-password" in consumer and trino_security.password(ctx.settings, "li_transport_analyst") not in consumer


def test_the_review_shows_who_still_must_approve_and_the_change_since_approval(app, ctx, tmp_path):
    data = yaml.safe_load(ctx.settings.path("policies", "contracts", "police-to-traffic-vehicle-sightings.yaml").read_text())
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    ctx.new_contract(path, data["requester"], NOW)
    ctx.submit_contract(data["id"], data["requester"], NOW)
    ctx.approve_contract(data["id"], "wang_police_steward", NOW)  # important data: compliance must co-approve
    officer = sign_in(app, ctx, "zhao_compliance")
    assert data["id"] in officer.get("/inbox").text
    page = officer.get(f"/contracts/{data['id']}").text
    assert re.search(r'class="waiting">[^<]*: compliance<', page) and 'id="approve"' in page
    ctx.approve_contract(data["id"], "zhao_compliance", NOW)
    changed = dict(data, retention_days=data["retention_days"] + 30)
    path.write_text(yaml.safe_dump(changed, allow_unicode=True))
    ctx.submit_contract(data["id"], data["requester"], NOW, path)
    page = sign_in(app, ctx, "wang_police_steward").get(f"/contracts/{data['id']}").text
    assert f"+retention_days: {changed['retention_days']}" in page and "waiting" in page


def test_audit_search_filters_paginates_and_shows_an_entry(app, ctx, tmp_path):
    cid = submitted(ctx, tmp_path)
    for i in range(130):  # more than one page of one actor's entries
        ctx.record_sign_in("zhou_traffic_analyst", "failed" if i % 2 else "signed_in")
    officer = sign_in(app, ctx, "zhao_compliance")
    first = officer.get("/audit", params={"actor": "zhou_traffic_analyst"}).text
    seqs = [int(s) for s in re.findall(r'href="/audit/(\d+)"', first)]
    assert len(seqs) == 100 and seqs == sorted(seqs, reverse=True)
    older = re.search(r'href="([^"]+)" id="next-page"', first).group(1).replace("&amp;", "&")
    second = officer.get(older).text
    rest = [int(s) for s in re.findall(r'href="/audit/(\d+)"', second)]
    assert len(rest) == 30 and max(rest) < min(seqs) and 'id="next-page"' not in second
    refused = officer.get("/audit", params={"actor": "zhou_traffic_analyst", "outcome": "refused"}).text
    assert len(re.findall(r'href="/audit/(\d+)"', refused)) == 65 and "auth.signed_in" not in refused
    by_object = officer.get("/audit", params={"object": cid, "action": "contract."}).text
    assert "contract.new" in by_object and "contract.submit" in by_object and "auth." not in by_object
    entry_seq = int(re.search(r'href="/audit/(\d+)"', by_object).group(1))
    entry = html.unescape(officer.get(f"/audit/{entry_seq}").text)
    assert ctx.audit_entry(entry_seq)["hash"] in entry and '"spec_hash"' in entry
    assert officer.get("/audit", params={"until": "2000-01-01T00:00"}).text.count('href="/audit/') == 0
    assert officer.get("/audit/999999").status_code == 404
    assert sign_in(app, ctx, "liu_traffic_steward").get(f"/audit/{entry_seq}").status_code == 403
    assert 'id="verification" class="ok"' in first


def test_the_audit_page_reports_a_tampered_chain(app, ctx, tmp_path):
    from govlake.governance import store

    submitted(ctx, tmp_path)
    officer = sign_in(app, ctx, "zhao_compliance")
    assert 'id="verification" class="ok"' in officer.get("/audit").text
    with store.engine(ctx.settings).begin() as conn:
        conn.execute(store.audit_log.update().where(store.audit_log.c.seq == 2).values(actor="someone_else"))
    officer.post("/audit/verify", data={"csrf": csrf(officer, "/audit")})
    page = officer.get("/audit").text
    assert 'id="verification" class="error"' in page and "entry 2 was altered" in page
    assert officer.post("/audit/verify", data={"csrf": "forged"}).status_code == 403


def request_fields(**changes) -> dict:
    return {"provider": "traffic", "dataset": "analytic.flow_hourly", "purpose": "traffic_management",
            "legal_basis": "Road Traffic Safety Law art. 5", "table": "flows_by_region", "valid_from": "2026-12-01",
            "valid_to": "2027-06-30", "retention_days": "90", "grant_region_code": "1", "grant_observed_hour": "1",
            "grant_detections": "1", "f_col_1": "object_type", "f_op_1": "in", "f_val_1": "motor_vehicle, non_motor_vehicle"} | changes


def test_an_analyst_asks_for_data_through_the_form(app, ctx):
    analyst = sign_in(app, ctx, "li_transport_analyst")
    offer = analyst.get("/request", params={"provider": "traffic", "dataset": "analytic.detections_deidentified",
                                            "purpose": "traffic_management"}).text
    # the purpose limits the offer: plate tokens (pseudonymous tracks) are not for traffic management
    assert 'name="grant_plate_token"' not in offer and "purpose-category" in offer and 'name="grant_camera_id"' in offer
    token = csrf(analyst, "/request?provider=traffic&dataset=analytic.flow_hourly&purpose=traffic_management")
    live = analyst.post("/request/check", data={"csrf": token, **request_fields(valid_to="2020-01-01")}).json()
    assert [p["rule"] for p in live["problems"]] == ["window-empty"]
    live = analyst.post("/request/check", data={"csrf": token, **request_fields(grant_detections="", grant_region_code="", grant_observed_hour="")}).json()
    assert [p["field"] for p in live["problems"]] == ["columns"]  # nothing asked for: the specification's own shape
    live = analyst.post("/request/check", data={"csrf": token, **request_fields()}).json()
    assert live["problems"] == []
    assert live["row_filter"] == "department = 'traffic' AND object_type IN ('motor_vehicle', 'non_motor_vehicle')"
    assert "is one of" in live["row_filter_words"] or "属于" in live["row_filter_words"]
    hostile = analyst.post("/request/check", data={"csrf": token, **request_fields(f_val_1="x') OR (1=1", f_op_1="=")}).json()
    assert hostile["row_filter"] == "department = 'traffic' AND object_type = 'x'') OR (1=1'"  # a value stays a literal
    assert analyst.post("/request/check", data={"csrf": "forged", **request_fields()}).status_code == 403
    r = analyst.post("/request", data={"csrf": token, **request_fields()}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/contracts/traffic-to-transport-flows-by-region?outcome=requested"
    rec = ctx.contract("traffic-to-transport-flows-by-region")
    assert rec.status == "submitted" and rec.requester == "li_transport_analyst" and rec.waiting_for == ["steward"]
    assert [e["action"] for e in rec.events] == ["new", "submit"]
    assert rec.id in [r.id for r, _ in ctx.inbox("liu_traffic_steward")]
    again = analyst.post("/request", data={"csrf": token, **request_fields()})
    assert again.status_code == 409 and "already exists" in again.text


def test_a_request_the_rules_refuse_is_not_created(app, ctx):
    analyst = sign_in(app, ctx, "li_transport_analyst")
    token = csrf(analyst, "/request")
    r = analyst.post("/request", data={"csrf": token, **request_fields(provider="police", dataset="analytic.detections_deidentified",
                                                                         grant_plate_token="1", grant_region_code="1")})
    assert r.status_code == 422 and "purpose-category" in r.text
    assert not [c for c in ctx.contracts() if c.id.startswith("police-to-transport")]
    assert sign_in(app, ctx, "ops_admin").get("/request").status_code == 403


def test_the_lineage_page_draws_a_column_and_refuses_analysts(app, ctx):
    officer = sign_in(app, ctx, "zhao_compliance")
    page = officer.get("/lineage", params={"target": "base.detections.plate_no"}).text
    assert 'id="lineage-graph"' in page and 'data-node="base.detections.plate_no"' in page
    assert "base.detections.plate_no" in page and 'id="known-targets"' in page
    bad = officer.get("/lineage", params={"target": "no.such.column.at.all"}).text
    assert 'role="alert"' in bad and "lineage-graph" not in bad
    assert sign_in(app, ctx, "li_transport_analyst").get("/lineage").status_code == 403


def test_the_review_page_shows_levels_masks_filter_in_words_and_only_deciders_preview(app, ctx, tmp_path):
    cid = submitted(ctx, tmp_path)
    page = sign_in(app, ctx, "liu_traffic_steward").get(f"/contracts/{cid}", headers={"accept-language": "en"}).text
    assert 'id="columns"' in page and "/ L2" in page  # the level each column arrives at against the purpose's max_level
    assert "department is &#39;traffic&#39; and object_type is one of" in page
    assert f'href="/contracts/{cid}/preview"' in page
    analyst = sign_in(app, ctx, "li_transport_analyst")  # the consumer: no rows before approval
    assert f'/contracts/{cid}/preview' not in analyst.get(f"/contracts/{cid}").text
    assert analyst.get(f"/contracts/{cid}/preview").status_code == 403
    assert sign_in(app, ctx, "wang_police_steward").get(f"/contracts/{cid}/preview").status_code == 404


def test_department_operator_and_report_pages_by_role(app, ctx):
    steward = sign_in(app, ctx, "liu_traffic_steward")
    page = steward.get("/department").text
    assert "traffic" in page and 'id="feeds"' in page and 'id="proposals"' in page
    assert steward.get("/department", params={"id": "police"}).status_code == 404  # another department's feeds
    assert steward.get("/operator").status_code == 403 and steward.get("/reports").status_code == 403
    operator = sign_in(app, ctx, "ops_admin")
    ops = operator.get("/operator").text
    assert 'id="services"' in ops and 'href="/department?id=police"' in ops and "trino" in ops
    assert 'id="feeds"' in operator.get("/department", params={"id": "police"}).text
    assert operator.get("/department", params={"id": "nowhere"}).status_code == 404
    officer = sign_in(app, ctx, "zhao_compliance")
    report = officer.get("/reports", params={"kind": "transparency"}).text
    assert "Data shared between departments" in report and 'id="chart-sharing"' in report
    download = officer.get("/reports/download/transparency.json")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"] and "sharing" in download.json()
    assert 'role="alert"' in officer.get("/reports", params={"kind": "transparency", "start": "yesterday"}).text
    assert sign_in(app, ctx, "li_transport_analyst").get("/reports/download/transparency.json").status_code == 403


def test_erasure_never_echoes_what_was_typed_and_needs_a_plan_and_a_reference(app, ctx):
    officer = sign_in(app, ctx, "zhao_compliance")
    token = csrf(officer, "/erasure")
    typed = "京A12345"
    r = officer.post("/erasure/plan", data={"csrf": token, "identifier": typed})
    assert typed not in r.text and "京A" not in r.text
    r = officer.post("/erasure/plan", data={"csrf": token, "token": "not-a-token"})
    assert r.status_code == 422 and 'id="erasure-error"' in r.text
    r = officer.post("/erasure/run", data={"csrf": token, "plan": "made-up", "reference": "REQ-1"})
    assert r.status_code == 409
    assert officer.post("/erasure/plan", data={"csrf": "forged", "token": "x"}).status_code == 403
    assert sign_in(app, ctx, "liu_traffic_steward").get("/erasure").status_code == 403


def test_the_inbox_says_how_long_each_waited_and_what_ends_soon(make_settings, tmp_path):
    from datetime import timedelta

    ctx = Context(make_settings())
    later = NOW + timedelta(days=2, hours=3)
    app = create_app(ctx, clock=lambda: later)
    cid = submitted(ctx, tmp_path)
    ending = submitted(ctx, tmp_path, id="traffic-to-transport-ending", table="flows_ending", valid_to=datetime(2026, 12, 10, tzinfo=timezone.utc))
    ctx.approve_contract(ending, "liu_traffic_steward", NOW)
    page = sign_in(app, ctx, "liu_traffic_steward").get("/inbox").text
    assert re.search(rf'{cid}</a>.*?<td>2 d 3 h</td>', page, re.S)
    expiring = page[page.index('id="expiring"'):]
    assert ending in expiring and "<td>16</td>" in expiring and cid not in expiring
    assert 'id="expiring"' not in sign_in(app, ctx, "wang_police_steward").get("/inbox").text  # not police's contract


def test_review_findings_stay_fixed(app, ctx, tmp_path):
    """Each of these was a defect found in review: a 500 from a filter value holding comment marks,
    a 500 from a bad report window, a message from the URL shown as the page's own, a preview of a
    contract that is no longer being decided, an ended contract listed as ending soon, and a
    steward shown another department's contracts in the lineage graph."""
    import sqlalchemy as sa

    from govlake.governance import store

    analyst = sign_in(app, ctx, "li_transport_analyst")
    token = csrf(analyst, "/request")
    live = analyst.post("/request/check", data={"csrf": token, **request_fields(f_op_1="=", f_val_1="a--b; /*c*/")})
    assert live.status_code == 200 and live.json()["problems"] == []
    officer = sign_in(app, ctx, "zhao_compliance")
    assert officer.get("/reports/download/transparency.json", params={"start": "yesterday"}).status_code == 422
    spoof = officer.get("/department", params={"id": "traffic", "error": "Session expired, sign in at https://evil.example"}).text
    assert "evil.example" not in spoof

    cid = submitted(ctx, tmp_path)
    steward = sign_in(app, ctx, "liu_traffic_steward")
    assert f"/contracts/{cid}/preview" in steward.get(f"/contracts/{cid}").text
    ctx.approve_contract(cid, "liu_traffic_steward", NOW)
    assert f"/contracts/{cid}/preview" not in steward.get(f"/contracts/{cid}").text
    assert steward.get(f"/contracts/{cid}/preview").status_code == 404  # decided: nothing to preview

    ended = submitted(ctx, tmp_path, id="traffic-to-transport-ended", table="flows_ended",
                      valid_from=datetime(2026, 11, 1, tzinfo=timezone.utc), valid_to=datetime(2026, 11, 22, tzinfo=timezone.utc))
    ctx.approve_contract(ended, "liu_traffic_steward", NOW)
    later = create_app(ctx, clock=lambda: datetime(2026, 11, 25, tzinfo=timezone.utc))
    assert ended not in sign_in(later, ctx, "liu_traffic_steward").get("/inbox").text

    edge = {"transformation": "identity", "subtype": "IDENTITY", "masking": False, "job": "publish", "run_id": "r", "event_time": "t"}
    with store.engine(ctx.settings).begin() as conn:
        conn.execute(sa.insert(store.lineage_column_edges), [
            {**edge, "in_dataset": "analytic.flow_hourly", "in_column": "region_code", "out_dataset": "app_transport.traffic_flows_hourly",
             "out_column": "region_code", "contract": cid, "consumer": "transport"},
            {**edge, "in_dataset": "analytic.flow_hourly", "in_column": "region_code", "out_dataset": "app_traffic.other_flows",
             "out_column": "region_code", "contract": "police-to-traffic-other", "consumer": "traffic"}])
    police = sign_in(app, ctx, "wang_police_steward").get("/lineage", params={"target": "analytic.flow_hourly.region_code"}).text
    assert cid not in police and "app_transport" not in police and "police-to-traffic-other" not in police
    assert sign_in(app, ctx, "wang_police_steward").get("/lineage", params={"target": "app_transport.traffic_flows_hourly"}).status_code == 404
    traffic = steward.get("/lineage", params={"target": "analytic.flow_hourly.region_code"}).text
    assert cid in traffic and "app_transport.traffic_flows_hourly" in traffic
    assert "app_transport.traffic_flows_hourly" in officer.get("/lineage", params={"target": "analytic.flow_hourly.region_code"}).text
