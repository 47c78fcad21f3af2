"""The console's main journey in a real browser (Debian's headless Chromium, driven by Selenium
through chromium-driver) against the running console, Trino and governance store:

a contract an analyst requested waits in the provider steward's inbox; the steward approves it;
after the publish the analyst's query page returns the granted rows; the steward revokes; the
analyst's next query is refused; the compliance officer finds both decisions in the audit search.
Screenshots of each page go to `<state>/console-screenshots/` for review.
"""
from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml

from govlake.console.app import create_app
from govlake.context import Context
from govlake.core import times
from govlake.services import trino_security

pytestmark = pytest.mark.last  # it adds and revokes a contract on the shared lakehouse: after the tests that read it

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CONTRACT = "traffic-to-transport-flows-console"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def console(settings, lakehouse):
    import uvicorn

    ctx = Context(settings)
    _, (pem, _) = ctx.console_secrets()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, ssl_certfile=str(pem), ssl_keyfile=str(pem),
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.1)
    yield ctx, f"https://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(settings):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM.is_file() and DRIVER.is_file(), "Debian's chromium and chromium-driver are missing: `make setup` installs them"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US"):
        options.add_argument(arg)
    options.accept_insecure_certs = True  # the console's certificate is govlake's own, self-signed for loopback
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(settings) -> Path:
    out = settings.state / "console-screenshots"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return out


def submit(driver, button) -> None:
    """Click a form's button (or a link) and wait until the browser shows the response page: the
    old document carries a mark the new one does not."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.govlakeOldPage = true")
    button.click()
    WebDriverWait(driver, 60, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return document.readyState === 'complete' && window.govlakeOldPage === undefined"))


def sign_in(driver, base: str, ctx: Context, user: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(trino_security.password(ctx.settings, user))
    submit(driver, driver.find_element(By.ID, "sign-in"))


def run_query(driver, base: str, sql: str) -> str:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/query")
    box = driver.find_element(By.ID, "sql")
    box.clear()
    box.send_keys(sql)
    submit(driver, driver.find_element(By.ID, "run"))
    return driver.find_element(By.TAG_NAME, "main").text


def test_request_approve_query_revoke_refused_and_audited(console, browser, shots, tmp_path):
    from selenium.webdriver.common.by import By

    ctx, base = console
    data = yaml.safe_load(ctx.settings.path("policies", "contracts", "traffic-to-transport-flows.yaml").read_text())
    data |= {"id": CONTRACT, "table": "traffic_flows_console"}
    path = tmp_path / f"{CONTRACT}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    now = times.now()
    ctx.new_contract(path, "li_transport_analyst", now)  # the analyst's request (the request form is not built yet)
    ctx.submit_contract(CONTRACT, "li_transport_analyst", now)

    # the provider steward finds it in the inbox and approves
    sign_in(browser, base, ctx, "liu_traffic_steward")
    assert browser.current_url.endswith("/inbox")
    browser.save_screenshot(str(shots / "steward-inbox.png"))
    submit(browser, browser.find_element(By.LINK_TEXT, CONTRACT))
    browser.save_screenshot(str(shots / "steward-review.png"))
    submit(browser, browser.find_element(By.ID, "approve"))
    assert browser.find_element(By.ID, "status").text in ("approved", "active")

    # after the publish the analyst reads the granted table through Trino, as themselves
    ctx.publish(now)
    sign_in(browser, base, ctx, "li_transport_analyst")
    text = run_query(browser, base, "SELECT count(*) AS n FROM app_transport.traffic_flows_console")
    browser.save_screenshot(str(shots / "analyst-query.png"))
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#result td")]
    assert cells and int(cells[0]) > 0, text

    # the steward revokes; the analyst's next query is refused at once
    sign_in(browser, base, ctx, "liu_traffic_steward")
    browser.get(f"{base}/contracts/{CONTRACT}")
    browser.find_element(By.ID, "revoke-reason").send_keys("purpose ended")
    submit(browser, browser.find_element(By.ID, "revoke"))
    assert browser.find_element(By.ID, "status").text == "revoked"
    revoked_at = time.monotonic()
    sign_in(browser, base, ctx, "li_transport_analyst")
    text = run_query(browser, base, "SELECT count(*) AS n FROM app_transport.traffic_flows_console")
    assert time.monotonic() - revoked_at < 10
    assert browser.find_elements(By.ID, "query-error") and "Access Denied" in text, text
    why = browser.find_element(By.ID, "why").text
    assert f"contract `{CONTRACT}`" in why and "revoked" in why and "liu_traffic_steward" in why and "purpose ended" in why, why
    browser.save_screenshot(str(shots / "analyst-refused.png"))

    # the compliance officer finds both decisions in the audit search
    sign_in(browser, base, ctx, "zhao_compliance")
    browser.get(f"{base}/audit?actor=liu_traffic_steward")
    browser.save_screenshot(str(shots / "compliance-audit.png"))
    rows = browser.find_element(By.ID, "entries").text
    assert re.search(rf"approve.*{CONTRACT}", rows) and re.search(rf"revoke.*{CONTRACT}", rows), rows
    assert "intact" in browser.find_element(By.ID, "verification").text
    assert len(list(shots.glob("*.png"))) >= 5


# raw identifiers as the red-team and host tests know them: plates (GA 36), resident ID numbers,
# mobile numbers, and 20-digit GB/T 28181 device IDs
RAW = {
    "plate": re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}"),
    "resident id": re.compile(r"(?<!\d)[1-8]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX](?!\d)"),
    "mobile": re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),
    "device id": re.compile(r"(?<!\d)\d{20}(?!\d)"),
}
ROLES = ("liu_traffic_steward", "li_transport_analyst", "ops_admin")  # the audit pages are the compliance officer's evidence


@pytest.mark.parametrize("user", ROLES)
def test_every_page_a_role_reaches_shows_no_raw_identifier(console, browser, shots, user):
    from urllib.parse import urlparse

    from selenium.webdriver.common.by import By

    ctx, base = console
    sign_in(browser, base, ctx, user)
    seen, todo = set(), ["/"]
    while todo and len(seen) < 60:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        browser.get(base + path)
        text = browser.find_element(By.TAG_NAME, "body").text
        for kind, pattern in RAW.items():
            assert not pattern.search(text), f"{user} sees a raw {kind} on {path}"
        for a in browser.find_elements(By.CSS_SELECTOR, "a[href]"):
            link = urlparse(a.get_attribute("href"))
            if link.netloc == urlparse(base).netloc and not link.path.startswith(("/lang", "/logout", "/static")):
                todo.append(link.path + (f"?{link.query}" if link.query else ""))
    browser.save_screenshot(str(shots / f"crawl-{user}.png"))
    assert {"/contracts", "/query", "/my-data"} <= {p.split("?")[0] for p in seen}, seen


def test_the_approval_form_works_from_the_keyboard(console, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    ctx, base = console
    data = yaml.safe_load(ctx.settings.path("policies", "contracts", "traffic-to-transport-flows.yaml").read_text())
    data |= {"id": "traffic-to-transport-keyboard", "table": "traffic_flows_keyboard"}
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    ctx.new_contract(path, "li_transport_analyst", times.now())
    ctx.submit_contract(data["id"], "li_transport_analyst", times.now())
    sign_in(browser, base, ctx, "liu_traffic_steward")
    browser.get(f"{base}/contracts/{data['id']}")
    browser.find_element(By.TAG_NAME, "body").click()
    reached = []
    for _ in range(40):  # Tab through the page in document order until the Approve button has the focus
        browser.switch_to.active_element.send_keys(Keys.TAB)
        focused = browser.switch_to.active_element
        reached.append(focused.get_attribute("id") or focused.tag_name)
        if focused.get_attribute("id") == "approve":
            break
    assert reached[-1] == "approve", reached
    browser.execute_script("window.govlakeOldPage = true")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 60, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return document.readyState === 'complete' && window.govlakeOldPage === undefined"))
    assert browser.find_element(By.ID, "status").text in ("approved", "active")
    ctx.revoke_contract(data["id"], "liu_traffic_steward", "keyboard test over", times.now())  # leave no grant behind
