"""The governance console: server-rendered pages over `govlake.context.Context`.

Every page finds who is asking from the server's session table and the identity registry, and
every decision goes through the same Context method the CLI calls, so the workflow's rules
(separation of duties, co-approval, hash-bound approvals, revocation at once) hold here exactly
as there; the console only presents them. Output is escaped by Jinja2's autoescape; every POST
carries the session's CSRF token; pages send a strict Content-Security-Policy (no script from
anywhere but govlake itself, no framing).
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from govlake.console import charts, graph, i18n
from govlake.console.auth import COOKIE, LOGIN_COOKIE, Session, Sessions, csrf_ok
from govlake.console.chain import ChainWatch
from govlake.context import Context
from govlake.core import times
from govlake.core.errors import GovlakeError

HERE = Path(__file__).parent
QUERY_ROW_LIMIT = 200
AUDIT_PAGE = 100
DECIDERS = ("steward", "compliance")
SEE_ALL = ("compliance", "operator")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Refused(Exception):
    def __init__(self, status: int, key: str):
        self.status, self.key = status, key


def create_app(ctx: Context, *, clock: Callable = times.now, secure_cookies: bool = True) -> FastAPI:
    key, _ = ctx.console_secrets()
    s = ctx.settings
    sessions = Sessions(key, s.console_session_s, s.sign_in_max_failures, s.sign_in_lockout_s)
    templates = Jinja2Templates(directory=str(HERE / "templates"))  # .html: autoescaped
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sessions = sessions
    chain = ChainWatch(ctx.verify_audit, s.console_verify_every_s, clock)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    def lang(request: Request) -> str:
        return i18n.pick(request.headers.get("accept-language"), request.cookies.get("lang"))

    def page(request: Request, name: str, status: int = 200, **values) -> HTMLResponse:
        language = lang(request)
        return templates.TemplateResponse(request, name, {"t": i18n.words(language), "lang": language, **values}, status_code=status)

    def signed_in(request: Request) -> tuple[Session, object]:
        session = sessions.find(request.cookies.get(COOKIE))
        if session is None:
            raise Refused(401, "sign_in")
        try:
            who = ctx.identity(session.user)  # the registry decides, every request (a removed user is out at once)
        except GovlakeError:
            sessions.close(session)
            raise Refused(401, "sign_in") from None
        return session, who

    def need(who, roles: tuple[str, ...]) -> None:
        if who.role.value not in roles:
            raise Refused(403, "forbidden")

    def checked_form(session: Session, token: str | None) -> None:
        if not csrf_ok(session, token):
            raise Refused(403, "forbidden")

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        if exc.status == 401:
            return RedirectResponse("/login", status_code=303)
        session = sessions.find(request.cookies.get(COOKIE))
        return page(request, "error.html", exc.status, message_key=exc.key, session=session, who=None)

    def visible(who, rec) -> bool:
        return who.role.value in SEE_ALL or who.department in (rec.provider, rec.consumer)

    # -- signing in ------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, error: str | None = None):
        token, cookie = sessions.login_token()
        response = page(request, "login.html", login_token=token, error=error if error in ("bad_login", "locked") else None,
                        session=None, who=None)
        response.set_cookie(LOGIN_COOKIE, cookie, httponly=True, secure=secure_cookies, samesite="strict", max_age=900)
        return response

    @app.post("/login")
    def login(request: Request, user: str = Form(""), password: str = Form(""), login_token: str = Form("")):
        if not sessions.login_token_ok(request.cookies.get(LOGIN_COOKIE), login_token):
            raise Refused(403, "forbidden")
        user = user.strip()[:64]
        if sessions.locked(user):
            ctx.record_sign_in(user, "locked_out")
            return RedirectResponse("/login?error=locked", status_code=303)
        try:
            known = ctx.identity(user) is not None
        except GovlakeError:
            known = False
        if not (known and ctx.check_password(user, password)):
            locked_now = sessions.failed(user)
            ctx.record_sign_in(user, "lockout" if locked_now else "failed")
            return RedirectResponse("/login?error=" + ("locked" if locked_now else "bad_login"), status_code=303)
        sessions.succeeded(user)
        ctx.record_sign_in(user, "signed_in")
        _, cookie = sessions.open(user)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, cookie, httponly=True, secure=secure_cookies, samesite="strict", max_age=s.console_session_s)
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")):
        session, _ = signed_in(request)
        checked_form(session, csrf)
        sessions.close(session)
        ctx.record_sign_in(session.user, "signed_out")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/lang/{code}")
    def choose_language(code: str):
        response = RedirectResponse("/", status_code=303)
        if code in i18n.LANGS:
            response.set_cookie("lang", code, secure=secure_cookies, samesite="strict", max_age=365 * 86400)
        return response

    @app.get("/")
    def home(request: Request):
        _, who = signed_in(request)
        return RedirectResponse("/inbox" if who.role.value in DECIDERS else "/query", status_code=303)

    # -- contracts -------------------------------------------------------------------------------

    @app.get("/inbox", response_class=HTMLResponse)
    def inbox(request: Request):
        session, who = signed_in(request)
        need(who, DECIDERS)
        now = clock()
        waiting = [(rec, capacity, waited(rec, now)) for rec, capacity in ctx.inbox(who.user)]
        return page(request, "inbox.html", session=session, who=who, waiting=waiting,
                    expiring=[(r, (r.valid_to - now).days) for r in ctx.expiring_contracts(who.user, now)])

    def waited(rec, now: datetime) -> str:
        """How long a submitted contract has waited, from its last submission: `3 d 4 h`, `5 h 12 min`."""
        submitted = next((e["at"] for e in reversed(rec.events) if e["action"] == "submit"), None)
        if submitted is None:
            return ""
        minutes = max(0, int((now - datetime.fromisoformat(submitted)).total_seconds() // 60))
        d, h, m = minutes // 1440, minutes % 1440 // 60, minutes % 60
        return f"{d} d {h} h" if d else f"{h} h {m} min"

    @app.get("/contracts", response_class=HTMLResponse)
    def contracts(request: Request):
        session, who = signed_in(request)
        rows = [r for r in ctx.contracts() if visible(who, r)]
        return page(request, "contracts.html", session=session, who=who, contracts=rows)

    def review(request: Request, session: Session, who, contract_id: str, outcome: str | None = None, error: str | None = None, status: int = 200):
        try:
            rec = ctx.contract(contract_id)
        except GovlakeError:
            raise Refused(404, "not_found") from None
        if not visible(who, rec):
            raise Refused(404, "not_found")  # another department's contract: as if it did not exist
        check = ctx.check_contract(contract_id, clock())
        decides = ctx.decides(rec, who.user) is not None
        may_revoke = rec.status in ("approved", "active") and who.role.value in DECIDERS
        spec = rec.spec
        try:
            words = ctx.row_filter_words(spec.row_filter, lang(request))
        except ValueError:  # an unsafe filter: its problem is listed with the others
            words = None
        return page(request, "contract.html", status, session=session, who=who, rec=rec, spec=spec, problems=check.problems,
                    columns=ctx.contract_columns(spec), filter_words=words, may_preview=may_preview(who, rec),
                    diff=ctx.contract_diff(contract_id),
                    decides=decides, may_revoke=may_revoke, outcome=outcome, error=error)

    def may_preview(who, rec) -> bool:
        """Rows, even masked, to decide on a submitted contract: the provider's stewards and
        compliance officers only (never the consumer, who has not been granted anything yet)."""
        deciders = who.role.value == "compliance" or (who.role.value == "steward" and who.department == rec.provider)
        return deciders and rec.status == "submitted"

    @app.get("/contracts/{contract_id}/preview", response_class=HTMLResponse)
    def preview(request: Request, contract_id: str):
        session, who = signed_in(request)
        try:
            rec = ctx.contract(contract_id)
        except GovlakeError:
            raise Refused(404, "not_found") from None
        if not visible(who, rec):
            raise Refused(404, "not_found")
        if not may_preview(who, rec):
            raise Refused(403 if rec.status == "submitted" else 404, "forbidden" if rec.status == "submitted" else "not_found")
        try:
            shown, error = ctx.preview_contract(contract_id, clock()), None
        except GovlakeError as exc:
            shown, error = None, str(exc)
        return page(request, "preview.html", session=session, who=who, rec=rec, shown=shown, error=error)

    @app.get("/contracts/{contract_id}", response_class=HTMLResponse)
    def contract(request: Request, contract_id: str, outcome: str = ""):
        session, who = signed_in(request)
        return review(request, session, who, contract_id, outcome="requested" if outcome == "requested" else None)

    @app.post("/contracts/{contract_id}/{action}", response_class=HTMLResponse)
    def decide(request: Request, contract_id: str, action: str, csrf: str = Form(""), reason: str = Form("")):
        session, who = signed_in(request)
        checked_form(session, csrf)
        if action not in ("approve", "reject", "revoke"):
            raise Refused(404, "not_found")
        review(request, session, who, contract_id)  # 404 for a contract the user may not see
        try:
            if action == "approve":
                ctx.approve_contract(contract_id, who.user, clock())
            else:
                getattr(ctx, f"{action}_contract")(contract_id, who.user, reason.strip() or None, clock())
        except GovlakeError as exc:  # the workflow's own reason, shown as it is
            return review(request, session, who, contract_id, error=str(exc), status=409)
        return review(request, session, who, contract_id, outcome=action)

    # -- asking for data -------------------------------------------------------------------------

    REQUESTERS = ("analyst", "steward")  # the workflow then checks the requester belongs to the consumer

    def request_page(request: Request, session: Session, who, form: dict, problems=None, status: int = 200, checked: bool = False):
        choices = ctx.request_choices(who.user)
        provider, dataset, purpose = form.get("provider", ""), form.get("dataset", ""), form.get("purpose", "")
        ready = provider in {d.id for d in choices["providers"]} and dataset in choices["datasets"] and purpose in choices["purposes"]
        offers = ctx.request_offers(dataset, purpose) if ready else []
        return page(request, "request.html", status, session=session, who=who, choices=choices, form=form, ready=ready, offers=offers,
                    problems=problems or [], checked=checked, today=clock().date().isoformat())

    def form_fields(form) -> dict:
        return {k: str(v)[:500] for k, v in form.items() if k != "csrf"}

    @app.get("/request", response_class=HTMLResponse)
    def request_form(request: Request, provider: str = "", dataset: str = "", purpose: str = ""):
        session, who = signed_in(request)
        need(who, REQUESTERS)
        return request_page(request, session, who, {"provider": provider, "dataset": dataset, "purpose": purpose})

    @app.post("/request/check")
    async def request_check(request: Request):
        """The form's fields checked against the contract rules as they are filled (JSON)."""
        session, who = signed_in(request)
        need(who, REQUESTERS)
        form = await request.form()
        checked_form(session, form.get("csrf"))
        spec, problems = ctx.draft_request(who.user, form_fields(form), clock())
        return JSONResponse({
            "problems": [{"field": p.field, "rule": p.rule, "message": p.message} for p in problems],
            "row_filter": spec.row_filter if spec else None,
            "row_filter_words": ctx.row_filter_words(spec.row_filter, lang(request)) if spec else None,
            "id": spec.id if spec else None,
        })

    @app.post("/request", response_class=HTMLResponse)
    async def request_submit(request: Request):
        session, who = signed_in(request)
        need(who, REQUESTERS)
        form = await request.form()
        checked_form(session, form.get("csrf"))
        fields = form_fields(form)
        spec, problems = ctx.draft_request(who.user, fields, clock())
        if spec is None or problems:
            return request_page(request, session, who, fields, problems, 422, checked=True)
        try:
            ctx.request_contract(spec, who.user, clock())
        except GovlakeError as exc:  # e.g. the id or the table is taken: the workflow's own words
            return request_page(request, session, who, fields, [{"field": "contract", "rule": "workflow", "message": str(exc)}], 409, checked=True)
        return RedirectResponse(f"/contracts/{spec.id}?outcome=requested", status_code=303)

    @app.get("/my-data", response_class=HTMLResponse)
    def my_data(request: Request):
        session, who = signed_in(request)
        granted = [r for r in ctx.contracts() if r.consumer == who.department and r.status == "active"]
        return page(request, "my_data.html", session=session, who=who, granted=granted, connection=ctx.connection(who.user))

    # -- query -----------------------------------------------------------------------------------

    @app.get("/query", response_class=HTMLResponse)
    def query_form(request: Request):
        session, who = signed_in(request)
        return page(request, "query.html", session=session, who=who, sql="", result=None, error=None, reasons=[], masked=[],
                    limit=QUERY_ROW_LIMIT)

    @app.post("/query", response_class=HTMLResponse)
    def query(request: Request, sql: str = Form(""), csrf: str = Form("")):
        session, who = signed_in(request)
        checked_form(session, csrf)
        result, error, reasons, masked = None, None, [], []
        try:
            result = ctx.sql(who.user, sql, max_rows=QUERY_ROW_LIMIT)  # as the signed-in user: Trino's rules and audit apply
            masked = ctx.explain_masks(who.user, sql, result.columns)
        except GovlakeError as exc:
            error, reasons = str(exc), ctx.explain_refusal(who.user, sql)
        return page(request, "query.html", session=session, who=who, sql=sql, result=result, error=error, reasons=reasons,
                    masked=masked, limit=QUERY_ROW_LIMIT)

    # -- a department's feeds, the platform's services ------------------------------------------------

    def department_page(request: Request, session: Session, who, dept_id: str, outcome: str | None = None, error: str | None = None,
                        status: int = 200):
        dept = who.department if who.role.value == "steward" else (dept_id or None)  # a steward sees their own department only
        if who.role.value == "steward" and dept_id and dept_id != who.department:
            raise Refused(404, "not_found")
        known = [d.id for d in ctx.departments()]
        if dept is not None and dept not in known:
            raise Refused(404, "not_found")
        health = ctx.department_health(dept, clock()) if dept else None
        return page(request, "department.html", status, session=session, who=who, health=health, known=known, outcome=outcome, error=error)

    @app.get("/department", response_class=HTMLResponse)
    def department(request: Request, id: str = "", outcome: str = ""):
        session, who = signed_in(request)
        need(who, ("steward", "compliance", "operator"))
        return department_page(request, session, who, id, outcome if outcome in ("accepted", "rejected") else None)

    @app.post("/proposals/{proposal_id}/{decision}", response_class=HTMLResponse)
    def decide_proposal(request: Request, proposal_id: int, decision: str, csrf: str = Form(""), reason: str = Form(""),
                        back: str = Form("")):
        session, who = signed_in(request)
        checked_form(session, csrf)
        need(who, ("steward", "compliance"))
        if decision not in ("accept", "reject"):
            raise Refused(404, "not_found")
        try:
            ctx.decide_proposal(proposal_id, who.user, decision == "accept", reason.strip() or None)
        except GovlakeError as exc:  # who may decide is the proposals' own rule, shown as it is
            return department_page(request, session, who, back, error=str(exc), status=409)
        target = "/department?" + urlencode({**({"id": back} if back and who.role.value != "steward" else {}), "outcome": f"{decision}ed"})
        return RedirectResponse(target, status_code=303)

    @app.get("/operator", response_class=HTMLResponse)
    def operator(request: Request):
        session, who = signed_in(request)
        need(who, ("operator", "compliance"))
        return page(request, "operator.html", session=session, who=who, report=ctx.services(), runs=ctx.dag_runs(),
                    departments=ctx.departments())

    # -- reports ---------------------------------------------------------------------------------

    @app.get("/reports", response_class=HTMLResponse)
    def reports_page(request: Request, kind: str = "transparency", start: str = "", end: str = ""):
        session, who = signed_in(request)
        need(who, ("compliance",))
        kind = kind if kind in ("compliance", "transparency") else "transparency"
        try:
            report, sections = ctx.report(kind, start or None, end or None)
            error = None
        except GovlakeError as exc:
            report, sections, error = None, [], str(exc)
        trend = ctx.report_trend(clock()) if kind == "compliance" else []
        return page(request, "reports.html", session=session, who=who, kind=kind, start=start[:32], end=end[:32], report=report,
                    sections=sections, error=error, trend=trend, charts=charts.report_charts(report, trend) if report else [])

    @app.get("/reports/download/{kind}.{fmt}")
    def report_download(request: Request, kind: str, fmt: str, start: str = "", end: str = ""):
        session, who = signed_in(request)
        need(who, ("compliance",))
        if kind not in ("compliance", "transparency") or fmt not in ("json", "html"):
            raise Refused(404, "not_found")
        try:
            report, sections = ctx.report(kind, start or None, end or None)
        except GovlakeError as exc:
            return Response(str(exc), status_code=422, media_type="text/plain")
        title = f"govlake {kind} report"
        body = json.dumps(report, indent=2, ensure_ascii=False, default=str) if fmt == "json" else ctx.render_report(title, sections, html=True)
        return Response(body, media_type="application/json" if fmt == "json" else "text/html",
                        headers={"Content-Disposition": f'attachment; filename="govlake-{kind}-report.{fmt}"'})

    # -- erasure ---------------------------------------------------------------------------------

    plans: dict[str, tuple[str, str | None, str, float]] = {}  # plan id -> (token, identifier, user, expiry): never sent back
    plans_lock = threading.Lock()

    def keep_plan(token: str, identifier: str | None, user: str) -> str:
        now_s = time.monotonic()
        pid = secrets.token_urlsafe(16)
        with plans_lock:
            for old in [k for k, v in plans.items() if v[3] < now_s]:
                del plans[old]
            plans[pid] = (token, identifier, user, now_s + 900)
        return pid

    def take_plan(pid: str, user: str) -> tuple[str, str | None, str, float] | None:
        """The plan, removed so it runs once; None if it is not this user's or has expired."""
        with plans_lock:
            kept = plans.get(pid)
            if kept is None or kept[2] != user or kept[3] < time.monotonic():
                return None
            return plans.pop(pid)

    @app.get("/erasure", response_class=HTMLResponse)
    def erasure_form(request: Request):
        session, who = signed_in(request)
        need(who, ("compliance",))
        return page(request, "erasure.html", session=session, who=who, plan=None, report=None, plan_id=None, error=None, subject=None)

    @app.post("/erasure/plan", response_class=HTMLResponse)
    def erasure_plan(request: Request, csrf: str = Form(""), token: str = Form(""), identifier: str = Form("")):
        session, who = signed_in(request)
        need(who, ("compliance",))
        checked_form(session, csrf)
        try:
            subject = ctx.subject_token(identifier=identifier.strip(), token=None) if identifier.strip() else ctx.subject_token(token=token)
            report = ctx.erase(subject, identifier=identifier.strip() or None, dry_run=True, actor=who.user)
        except GovlakeError as exc:  # the message never quotes what was typed (erasure scrubs the subject's values)
            return page(request, "erasure.html", 422, session=session, who=who, plan=None, report=None, plan_id=None,
                        error=str(exc), subject=None)
        return page(request, "erasure.html", session=session, who=who, plan=report.as_dict(), report=None,
                    plan_id=keep_plan(subject, identifier.strip() or None, who.user), error=None,
                    subject=ctx.subject_fingerprint(subject))

    @app.post("/erasure/run", response_class=HTMLResponse)
    def erasure_run(request: Request, csrf: str = Form(""), plan: str = Form(""), reference: str = Form("")):
        session, who = signed_in(request)
        need(who, ("compliance",))
        checked_form(session, csrf)
        kept = take_plan(plan, who.user)
        if kept is None:
            return page(request, "erasure.html", 409, session=session, who=who, plan=None, report=None, plan_id=None,
                        error=i18n.words(lang(request))("plan_gone"), subject=None)
        subject, identifier, _, _ = kept
        if not reference.strip():
            with plans_lock:
                plans[plan] = kept
            return page(request, "erasure.html", 422, session=session, who=who, plan=None, report=None, plan_id=plan,
                        error=i18n.words(lang(request))("need_reference"), subject=ctx.subject_fingerprint(subject))
        try:
            report = ctx.erase(subject, identifier=identifier, request=reference.strip()[:120], actor=who.user)
        except GovlakeError as exc:
            return page(request, "erasure.html", 500, session=session, who=who, plan=None, report=None, plan_id=None, error=str(exc),
                        subject=ctx.subject_fingerprint(subject))
        return page(request, "erasure.html", session=session, who=who, plan=None, report=report.as_dict(), plan_id=None, error=None,
                    subject=ctx.subject_fingerprint(subject))

    # -- lineage ---------------------------------------------------------------------------------

    @app.get("/lineage", response_class=HTMLResponse)
    def lineage_graph(request: Request, target: str = ""):
        session, who = signed_in(request)
        need(who, ("compliance", "steward", "operator"))  # column names and levels, never values
        target = target.strip()[:200]
        drawn, error = None, None
        scope = steward_scope(who) if who.role.value == "steward" else None  # their department's contracts and application tables only
        if target:
            try:
                up, down = ctx.lineage(target, "upstream"), ctx.lineage(target, "downstream")
                if scope is not None:
                    mine, visible_node = scope
                    allowed = lambda e: e["contract"] in mine if e.get("contract") else visible_node(e["from"]) and visible_node(e["to"])  # noqa: E731
                    up["edges"], down["edges"] = [e for e in up["edges"] if allowed(e)], [e for e in down["edges"] if allowed(e)]
                    down["contracts"] = [c for c in down["contracts"] if c["contract"] in mine]
                    if not visible_node(target):
                        raise Refused(404, "not_found")
                drawn = graph.layout(up["start"], up["edges"], down["edges"], down["contracts"])
            except GovlakeError as exc:
                error = str(exc)
        known = ctx.lineage_targets()
        if scope is not None:
            known = [k for k in known if scope[1](k)]
        return page(request, "lineage.html", session=session, who=who, target=target, g=drawn, error=error,
                    known=known, W=graph.NODE_W, H=graph.NODE_H)

    def steward_scope(who):
        """The contracts a steward's department is party to, and a test for the lineage nodes they
        may see: anything but another department's application schema."""
        ours = [r for r in ctx.contracts() if who.department in (r.provider, r.consumer)]
        schemas_ = {f"app_{who.department}"} | {f"app_{r.consumer}" for r in ours}
        return {r.id for r in ours}, lambda name: not name.startswith("app_") or name.split(".", 1)[0] in schemas_

    # -- audit -----------------------------------------------------------------------------------

    def utc_field(text: str) -> datetime | None:
        """A `datetime-local` field, read as UTC (the page says so); an unreadable one is ignored."""
        try:
            return datetime.fromisoformat(text).replace(tzinfo=timezone.utc) if text else None
        except ValueError:
            return None

    @app.get("/audit", response_class=HTMLResponse)
    def audit(request: Request, action: str = "", actor: str = "", object: str = "", outcome: str = "", since: str = "",
              until: str = "", before: int | None = None):
        session, who = signed_in(request)
        need(who, ("compliance",))  # entries may quote what a query or an erasure named: compliance officers only
        filters = {"action": action.strip()[:48], "actor": actor.strip()[:64], "object": object.strip()[:300],
                   "outcome": outcome if outcome in Context.AUDIT_OUTCOMES else "", "since": since[:16], "until": until[:16]}
        entries, next_before = ctx.search_audit(
            actor=filters["actor"] or None, action=filters["action"] or None, obj=filters["object"] or None,
            outcome=filters["outcome"] or None, since=utc_field(filters["since"]), until=utc_field(filters["until"]),
            before=before, limit=AUDIT_PAGE)
        query = {k: v for k, v in filters.items() if v}
        return page(request, "audit.html", session=session, who=who, entries=entries, chain=chain.state(), head=ctx.audit_head(),
                    filters=filters, outcomes=Context.AUDIT_OUTCOMES, next_page=f"/audit?{urlencode({**query, 'before': next_before})}" if next_before else None,
                    first_page=f"/audit?{urlencode(query)}" if before is not None else None)

    @app.post("/audit/verify")
    def verify_now(request: Request, csrf: str = Form("")):
        session, who = signed_in(request)
        need(who, ("compliance",))
        checked_form(session, csrf)
        chain.now()
        return RedirectResponse("/audit", status_code=303)

    @app.get("/audit/{seq}", response_class=HTMLResponse)
    def audit_entry(request: Request, seq: int):
        session, who = signed_in(request)
        need(who, ("compliance",))
        found = ctx.audit_entry(seq)
        if found is None:
            raise Refused(404, "not_found")
        return page(request, "audit_entry.html", session=session, who=who, e=found,
                    detail=json.dumps(found["detail"], indent=2, ensure_ascii=False, sort_keys=True))

    @app.get("/static/{name}")
    def static(name: str):
        path = HERE / "static" / name
        if "/" in name or not path.is_file():
            return Response(status_code=404)
        types = {".css": "text/css", ".js": "text/javascript"}
        return Response(path.read_bytes(), media_type=types.get(path.suffix, "application/octet-stream"))

    return app
