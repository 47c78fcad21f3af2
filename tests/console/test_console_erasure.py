"""The compliance officer's Spark-backed pages, on a private copy of the shared lakehouse: erasure
(a pasted plate is never shown back; the dry-run plan per table; the run with a request
reference and its verdict; the audit names the officer and the subject by fingerprint) and the
compliance report with its charts."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from govlake.console.app import create_app
from govlake.context import Context
from govlake.core import times
from govlake.core.settings import Settings
from govlake.services import trino_security
from tests.conftest import copy_of_lakehouse


@pytest.fixture(scope="module")
def private(lakehouse, settings, tmp_path_factory) -> Settings:
    return copy_of_lakehouse(settings, tmp_path_factory, "console-erasure")


def signed_in_officer(ctx: Context, app) -> TestClient:
    c = TestClient(app, base_url="https://127.0.0.1")
    token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
    c.post("/login", data={"user": "zhao_compliance", "password": trino_security.password(ctx.settings, "zhao_compliance"), "login_token": token})
    return c


@pytest.mark.spark
@pytest.mark.trino
def test_the_compliance_report_page_has_its_charts_and_downloads(private, spark):
    ctx = Context(private)
    c = signed_in_officer(ctx, create_app(ctx, clock=times.now))
    page = c.get("/reports", params={"kind": "compliance"}, headers={"accept-language": "en"}).text
    assert "Operations indicators" in page and "data-security incidents per 10,000 accesses" in page
    for chart in ("incidents", "accesses", "turnaround", "fairness"):
        assert f'id="chart-{chart}"' in page, chart
    html = c.get("/reports/download/compliance.html")
    assert html.status_code == 200 and "Operations indicators" in html.text


@pytest.mark.spark
@pytest.mark.trino
def test_a_compliance_officer_erases_a_subject_from_the_console(private, spark):
    from pyspark.sql import functions as F

    ctx = Context(private)
    base = spark.read.format("delta").load(f"{private.warehouse_root}/base/detections")
    plate = (base.where("plate_no IS NOT NULL").groupBy("plate_no").count().orderBy(F.desc("count"), "plate_no").first().plate_no)
    c = signed_in_officer(ctx, create_app(ctx, clock=times.now))
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/erasure").text).group(1)

    plan = c.post("/erasure/plan", data={"csrf": csrf, "identifier": plate})
    assert plan.status_code == 200 and plate not in plan.text
    assert "base.detections" in plan.text and 'id="erasure-run"' in plan.text
    plan_id = re.search(r'name="plan" value="([^"]+)"', plan.text).group(1)
    assert base.where(F.col("plate_no") == plate).count() > 0  # a dry run removes nothing

    assert c.post("/erasure/run", data={"csrf": csrf, "plan": plan_id, "reference": ""}).status_code == 422
    done = c.post("/erasure/run", data={"csrf": csrf, "plan": plan_id, "reference": "REQ-2026-118"})
    assert done.status_code == 200 and plate not in done.text, done.text[-2000:]
    assert re.search(r'id="verdict" class="ok"', done.text), done.text[-3000:]
    assert spark.read.format("delta").load(f"{private.warehouse_root}/base/detections").where(F.col("plate_no") == plate).count() == 0
    entry = ctx.search_audit(action="erasure.run", limit=1)[0][0]
    assert entry["actor"] == "zhao_compliance" and "REQ-2026-118" in entry["detail"] and plate not in entry["detail"]
    # the plan is used up: the same form cannot run it twice
    assert c.post("/erasure/run", data={"csrf": csrf, "plan": plan_id, "reference": "REQ-2026-118"}).status_code == 409
