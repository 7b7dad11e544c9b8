"""The ``qc serve`` web app (Starlette): queue, call review, disputes, calibration.

Every page needs a login; every POST needs the session's CSRF token. Roles: a *reviewer* works
the queue and reviews calls; a *lead* also sees their team (all teams without one), decides
disputes and reads calibration; an *agent* sees only their own reviewed calls and may dispute a
deduction; an *admin* may do everything. Text is masked as in the report (:mod:`qc.report.redact`) and
escaped by Jinja2's autoescape; spoken personal numbers get a tone. An admin, or a user given the
permission, may unmask one call for 15 minutes with a reason, and every unmask is logged
(:mod:`qc.serve.accounts`). Audio is served by the app with HTTP Range support, and only from
the night folder or the folders the night read its recordings from.

This module holds the app's state (:class:`Workbench`), the login/role/CSRF guard and the routes;
the pages are in :mod:`qc.serve.call_pages` (reviewers) and :mod:`qc.serve.lead_pages` (leads, agents).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from qc.run.cache import cache_dir
from qc.report import (
    COMPLAINT_TYPE_NAMES,
    RISK_NAMES,
    ROLE_NAMES,
    SEVERITY_NAMES,
    STATUS_NAMES,
    redact_result,
)
from qc.report.names import VERDICT_NAMES as REPORT_VERDICT_NAMES
from qc.report.pages import ts
from qc.run.store import CallResult
from qc.scoring import Scorecard, default_scorecard_path, load_scorecard
from qc.serve.auth import check_csrf, csrf_token, load_secret, new_session_id, sign, unsign
from qc.serve.nights import Night, load_nights
from qc.serve.store import REVIEW_VERDICTS, ReviewStore, User
from qc.types import CallScore

__all__ = ["ServeConfig", "create_app"]

COOKIE = "qc_session"
SESSION_SECONDS = 12 * 3600
PAGE_SIZE = 100
VERDICT_NAMES = {**REPORT_VERDICT_NAMES, "unsure": "不确定"}  # the workbench adds "unsure"
DISPUTE_NAMES = {"open": "待处理", "upheld": "维持扣分", "overturned": "已撤销扣分"}


@dataclass
class ServeConfig:
    """What :func:`create_app` serves."""

    nights: list[Path]
    db: Path
    scorecard: Path | None = None
    audio_roots: list[Path] = field(default_factory=list)
    secure_cookies: bool = False  # set when served over HTTPS (behind a proxy)
    audio_cache: Path | None = None  # masked copies of recordings (default: ~/.cache/qc/serve-audio)


class Forbidden(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


def _env():
    from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=ChoiceLoader([PackageLoader("qc.serve", "templates"), PackageLoader("qc.report", "templates")]),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["ts"] = ts
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.0f}%"
    env.filters["num"] = lambda v, d=2: "—" if v is None else f"{v:.{d}f}"
    env.filters["q"] = lambda d: urlencode({k: v for k, v in d.items() if v not in (None, "")})
    env.globals.update(SEVERITY_NAMES=SEVERITY_NAMES, STATUS_NAMES=STATUS_NAMES, ROLE_NAMES=ROLE_NAMES, RISK_NAMES=RISK_NAMES,
                       COMPLAINT_TYPE_NAMES=COMPLAINT_TYPE_NAMES, VERDICT_NAMES=VERDICT_NAMES, DISPUTE_NAMES=DISPUTE_NAMES,
                       REVIEW_VERDICTS=REVIEW_VERDICTS)
    return env


class _SecurityHeaders:
    """Pure ASGI middleware: a strict CSP (scripts and media from this app only) and no framing."""

    HEADERS = [
        (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; media-src 'self'; "
                                     b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
        (b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
        (b"cache-control", b"no-store"),
    ]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(k, v) for k, v in self.HEADERS if k not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Workbench:
    """State shared by the request handlers (one per app)."""

    def __init__(self, config: ServeConfig):
        self.config = config
        self.nights: dict[str, Night] = load_nights(config.nights, config.audio_roots)
        self.store = ReviewStore(config.db, check_same_thread=False)
        legacy = self.store.take_legacy_secret()
        self.secret = load_secret(config.db, legacy)
        self.card: Scorecard = load_scorecard(config.scorecard or default_scorecard_path())
        self.rule_item = self.card.item_for_rule()
        self.env = _env()
        self.css = self.env.get_template("style.css.j2").render() + "\n" + self.env.get_template("serve.css.j2").render()
        self.js = (Path(__file__).parent / "static" / "serve.js").read_text(encoding="utf-8")
        self.audio_cache = config.audio_cache or cache_dir() / "serve-audio"

    # --- sessions ---

    def session(self, request: Request) -> dict[str, Any]:
        payload = unsign(request.cookies.get(COOKIE), self.secret)
        if payload is not None and payload.get("user") and self.store.session_ended(str(payload.get("sid"))):
            payload = None  # logged out: the old cookie is dead even if someone kept a copy
        if payload is None:
            payload = {"sid": new_session_id(), "exp": int(time.time()) + SESSION_SECONDS, "new": True}
        return payload

    def user(self, session: dict[str, Any]) -> User | None:
        name = session.get("user")
        return self.store.user(name) if name else None

    def set_session(self, response: Response, payload: dict[str, Any]) -> Response:
        payload = {k: v for k, v in payload.items() if k != "new"}
        response.set_cookie(COOKIE, sign(payload, self.secret), max_age=SESSION_SECONDS, httponly=True,
                            samesite="strict", secure=self.config.secure_cookies, path="/")
        return response

    def render(self, request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        session = ctx.pop("_session", None) or self.session(request)
        html = self.env.get_template(name).render(
            user=ctx.pop("_user", None), csrf=csrf_token(session["sid"], self.secret), nights=self.nights, **ctx)
        response = HTMLResponse(html, status_code=status)
        if session.get("new"):
            self.set_session(response, session)
        return response

    # --- data helpers ---

    def night(self, name: str) -> Night:
        night = self.nights.get(name)
        if night is None:
            raise Forbidden(404, f"no night {name}")
        return night

    def shown(self, result: CallResult, score: CallScore | None = None) -> CallResult:
        r = result if score is None else dataclasses.replace(result, score=score)
        return redact_result(r)

    def precision(self) -> dict[str, tuple[int, int]]:
        """Rule -> (confirmed, false positives): workbench verdicts and ones imported with ``qc review import``."""
        return self.store.rule_precision_counts()


Handler = Callable[[Request, "Workbench", User], Awaitable[Response]]


def _guard(wb: Workbench, handler: Handler, roles: tuple[str, ...]) -> Callable[[Request], Awaitable[Response]]:
    """Login, role and (for POST) CSRF checks in front of a handler."""

    async def endpoint(request: Request) -> Response:
        session = wb.session(request)
        user = wb.user(session)
        if user is None:
            if request.method == "GET":
                return wb.set_session(RedirectResponse("/login?" + urlencode({"next": request.url.path}), 303), session)
            return PlainTextResponse("login required", 401)
        if request.method == "POST":
            form = await request.form()
            if not check_csrf(session.get("sid"), form.get("csrf"), wb.secret):
                return PlainTextResponse("CSRF token missing or wrong: reload the page and try again", 403)
        if roles and not user.can(*roles):
            return wb.render(request, "error.html.j2", 403, _session=session, _user=user, message="你的角色无权访问此页面")
        try:
            return await handler(request, wb, user)
        except Forbidden as e:
            return wb.render(request, "error.html.j2", e.status, _session=session, _user=user, message=e.message)

    return endpoint


# --- pages ---


async def login_page(request: Request, wb: Workbench) -> Response:
    session = wb.session(request)
    if request.method == "GET":
        return wb.render(request, "login.html.j2", _session=session, next=request.query_params.get("next", "/"))
    form = await request.form()
    if not check_csrf(session.get("sid"), form.get("csrf"), wb.secret):
        return PlainTextResponse("CSRF token missing or wrong: reload the login page", 403)
    user = wb.store.login(str(form.get("name", "")), str(form.get("password", "")))
    if user is None:
        return wb.render(request, "login.html.j2", 401, _session=session, error="用户名或密码错误", next=form.get("next", "/"))
    nxt = str(form.get("next") or "/")
    if not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
        nxt = "/"
    fresh = {"sid": new_session_id(), "user": user.name, "exp": int(time.time()) + SESSION_SECONDS}  # new sid: no fixation
    return wb.set_session(RedirectResponse(nxt, 303), fresh)


async def logout(request: Request, wb: Workbench, user: User) -> Response:
    session = wb.session(request)
    wb.store.end_session(str(session["sid"]), int(session.get("exp", time.time() + SESSION_SECONDS)))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def home(request: Request, wb: Workbench, user: User) -> Response:
    return RedirectResponse("/my" if user.role == "agent" else "/queue", 303)


async def static(request: Request, wb: Workbench) -> Response:
    name = request.path_params["name"]
    if name == "qc.css":
        return Response(wb.css, media_type="text/css; charset=utf-8")
    if name == "serve.js":
        return Response(wb.js, media_type="text/javascript; charset=utf-8")
    return PlainTextResponse("not found", 404)


def create_app(config: ServeConfig) -> Starlette:
    """The ASGI app for :class:`ServeConfig` (run it with uvicorn, or test it with Starlette's TestClient).

    Raises:
        qc.serve.nights.NightError: a night folder cannot be served.
        qc.scoring.ScorecardError: the scorecard is invalid.
    """
    wb = Workbench(config)

    def g(handler: Handler, *roles: str):
        return _guard(wb, handler, roles)

    def open_(handler):
        async def endpoint(request: Request) -> Response:
            return await handler(request, wb)
        return endpoint

    from qc.serve.call_pages import call_audio, call_page, claim, dispute, queue_page, submit_review, unmask_call
    from qc.serve.lead_pages import calibration_page, decide, disputes_page, export_verdicts, import_verdicts, my_calls, teams_page

    reviewers = ("reviewer", "lead")
    routes = [
        Route("/login", open_(login_page), methods=["GET", "POST"]),
        Route("/static/{name}", open_(static)),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/logout", g(logout), methods=["POST"]),
        Route("/", g(home)),
        Route("/queue", g(queue_page, *reviewers)),
        Route("/claim", g(claim, *reviewers), methods=["POST"]),
        Route("/call/{night}/{call_id}", g(call_page, "reviewer", "lead", "agent")),
        Route("/call/{night}/{call_id}/audio", g(call_audio, "reviewer", "lead", "agent")),
        Route("/call/{night}/{call_id}/review", g(submit_review, *reviewers), methods=["POST"]),
        Route("/call/{night}/{call_id}/dispute", g(dispute, "agent"), methods=["POST"]),
        Route("/call/{night}/{call_id}/unmask", g(unmask_call, *reviewers), methods=["POST"]),
        Route("/my", g(my_calls, "agent")),
        Route("/disputes", g(disputes_page, "lead")),
        Route("/disputes/{id:int}", g(decide, "lead"), methods=["POST"]),
        Route("/teams", g(teams_page, "lead")),
        Route("/calibration", g(calibration_page, "lead")),
        Route("/export/verdicts.csv", g(export_verdicts, *reviewers)),
        Route("/import/verdicts", g(import_verdicts, "lead"), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.workbench = wb
    app.add_middleware(_SecurityHeaders)
    return app
