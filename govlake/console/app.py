"""The governance console: server-rendered pages over `govlake.context.Context`.

Every page finds who is asking from the server's session table and the identity registry, and
every decision goes through the same Context method the CLI calls, so the workflow's rules
(separation of duties, co-approval, hash-bound approvals, revocation at once) hold here exactly
as there; the console only presents them. Output is escaped by Jinja2's autoescape; every POST
carries the session's CSRF token; pages send a strict Content-Security-Policy (no script from
anywhere but govlake itself, no framing).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from govlake.console import i18n
from govlake.console.auth import COOKIE, LOGIN_COOKIE, Session, Sessions, csrf_ok
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
        return page(request, "inbox.html", session=session, who=who, waiting=ctx.inbox(who.user))

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
        decides = any(r.id == rec.id for r, _ in ctx.inbox(who.user)) if who.role.value in DECIDERS else False
        may_revoke = rec.status in ("approved", "active") and who.role.value in DECIDERS
        return page(request, "contract.html", status, session=session, who=who, rec=rec, spec=rec.spec, problems=check.problems,
                    diff=ctx.contract_diff(contract_id),
                    decides=decides, may_revoke=may_revoke, outcome=outcome, error=error)

    @app.get("/contracts/{contract_id}", response_class=HTMLResponse)
    def contract(request: Request, contract_id: str):
        session, who = signed_in(request)
        return review(request, session, who, contract_id)

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

    @app.get("/my-data", response_class=HTMLResponse)
    def my_data(request: Request):
        session, who = signed_in(request)
        granted = [r for r in ctx.contracts() if r.consumer == who.department and r.status == "active"]
        return page(request, "my_data.html", session=session, who=who, granted=granted, connection=ctx.connection(who.user))

    # -- query -----------------------------------------------------------------------------------

    @app.get("/query", response_class=HTMLResponse)
    def query_form(request: Request):
        session, who = signed_in(request)
        return page(request, "query.html", session=session, who=who, sql="", result=None, error=None, reasons=[], limit=QUERY_ROW_LIMIT)

    @app.post("/query", response_class=HTMLResponse)
    def query(request: Request, sql: str = Form(""), csrf: str = Form("")):
        session, who = signed_in(request)
        checked_form(session, csrf)
        result, error, reasons = None, None, []
        try:
            result = ctx.sql(who.user, sql)  # as the signed-in user: Trino's rules and audit apply
        except GovlakeError as exc:
            error, reasons = str(exc), ctx.explain_refusal(who.user, sql)
        return page(request, "query.html", session=session, who=who, sql=sql, result=result, error=error, reasons=reasons,
                    limit=QUERY_ROW_LIMIT)

    # -- audit -----------------------------------------------------------------------------------

    @app.get("/audit", response_class=HTMLResponse)
    def audit(request: Request, action: str = "", actor: str = ""):
        session, who = signed_in(request)
        need(who, ("compliance",))  # entries may quote what a query or an erasure named: compliance officers only
        entries = ctx.audit_entries(AUDIT_PAGE if not actor else 10 * AUDIT_PAGE, action or None)
        if actor:
            entries = [e for e in entries if e["actor"] == actor][:AUDIT_PAGE]
        return page(request, "audit.html", session=session, who=who, entries=entries, verification=ctx.verify_audit(),
                    action=action, actor=actor)

    @app.get("/static/{name}")
    def static(name: str):
        path = HERE / "static" / name
        if "/" in name or not path.is_file():
            return Response(status_code=404)
        return Response(path.read_bytes(), media_type="text/css" if name.endswith(".css") else "application/octet-stream")

    return app
