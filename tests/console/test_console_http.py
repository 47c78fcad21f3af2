"""The console's server-side guarantees over HTTP (no browser, no Trino): sign-in, sessions, CSRF,
lockout, roles and departments enforced on the server, escaping, and decisions taken by the
same workflow the CLI uses. The journeys in a real browser are in test_console_browser.py."""
from __future__ import annotations

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
