"""The ``qc serve`` web app (Starlette): queue, call review, disputes, calibration.

Every page needs a login; every POST needs the session's CSRF token. Roles: a *reviewer* works
the queue and reviews calls; a *lead* also sees their team (all teams without one), decides
disputes and reads calibration; an *agent* sees only their own reviewed calls and may dispute a
deduction; an *admin* may do everything. Text is masked as in the report (:mod:`qc.redact`) and
escaped by Jinja2's autoescape. Audio is served by the app with HTTP Range support, and only from
the night folder or the folders the night read its recordings from.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import mimetypes
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from qc.run.cache import cache_dir
from qc.redact import redact_text
from qc.report import (
    COMPLAINT_TYPE_NAMES,
    RISK_NAMES,
    ROLE_NAMES,
    SEVERITY_NAMES,
    STATUS_NAMES,
    redact_result,
)
from qc.run.store import CallResult
from qc.scoring import Scorecard, default_scorecard_path, load_scorecard
from qc.serve.audio_mask import masked_copy, masked_spans
from qc.serve.auth import check_csrf, csrf_token, new_session_id, sign, unsign
from qc.serve.nights import AudioRefused, Night, load_nights
from qc.serve.review import reviewed_score, reviewer_kappa, rule_agreement
from qc.serve.store import REVIEW_VERDICTS, ReviewStore, StoreError, User
from qc.types import CallScore, to_dict

__all__ = ["ServeConfig", "create_app"]

COOKIE = "qc_session"
SESSION_SECONDS = 12 * 3600
PAGE_SIZE = 100
VERDICT_NAMES = {"confirmed": "确认", "false_positive": "误报", "unsure": "不确定"}
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


class _Forbidden(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


def _ts(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


def _env():
    from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=ChoiceLoader([PackageLoader("qc.serve", "templates"), PackageLoader("qc.report", "templates")]),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["ts"] = _ts
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
        self.secret = self.store.secret()
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
            raise _Forbidden(404, f"no night {name}")
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
        except _Forbidden as e:
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


def _status(call_id: str, claims: dict[str, list[str]], reviewed: dict, disputed: set[str]) -> str:
    if call_id in disputed:
        return "disputed"
    if call_id in reviewed:
        return "reviewed"
    if claims.get(call_id):
        return "claimed"
    return "open"


async def queue_page(request: Request, wb: Workbench, user: User) -> Response:
    p = request.query_params
    night = wb.night(p.get("night") or max(wb.nights))
    f = {k: p.get(k, "") for k in ("team", "agent", "rule", "risk", "status", "scope")}
    claims = wb.store.claims(night.name)
    reviewed = wb.store.reviewed_calls(night.name)
    disputed = {d.call_id for d in wb.store.disputes(night=night.name) if d.status == "open"}
    rows = list(night.rows.values()) if f["scope"] == "all" else night.queue
    if user.role == "lead" and user.team:
        rows = [r for r in rows if r.team == user.team]
    if f["team"]:
        rows = [r for r in rows if r.team == f["team"]]
    if f["agent"]:
        rows = [r for r in rows if (r.agent_id or "") == f["agent"]]
    if f["rule"]:
        rows = [r for r in rows if f["rule"] in r.rules]
    if f["risk"]:
        rows = [r for r in rows if r.risk == (f["risk"] == "yes")]
    if f["status"]:
        rows = [r for r in rows if _status(r.call_id, claims, reviewed, disputed) == f["status"]]
    page = max(1, int(p.get("page") or 1) if (p.get("page") or "1").isdigit() else 1)
    shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    done = reviewed.keys()
    progress = {
        "queued": len(night.queued_ids), "reviewed": len(night.queued_ids & done),
        "claimed": len((night.queued_ids & claims.keys()) - done),
        "calibration": len(night.calibration_ids), "calibration_done": len(night.calibration_ids & done),
    }
    return wb.render(
        request, "queue.html.j2", _user=user, night=night, rows=shown, total=len(rows), page=page,
        pages=max(1, -(-len(rows) // PAGE_SIZE)), f=f, claims=claims, reviewed=reviewed, disputed=disputed,
        progress=progress, teams=night.teams, agents=night.agents, rules=night.rules,
        status_of=lambda cid: _status(cid, claims, reviewed, disputed),
    )


def _call_or_404(wb: Workbench, user: User, night_name: str, call_id: str) -> tuple[Night, CallResult]:
    night = wb.night(night_name)
    row = night.rows.get(call_id)
    result = night.result(call_id) if row else None
    if row is None or result is None:
        raise _Forbidden(404, f"no call {call_id} in night {night.name}")
    if user.role == "agent":
        if not user.agent_id or row.agent_id != user.agent_id or wb.store.latest_review(night.name, call_id) is None:
            raise _Forbidden(404, f"no call {call_id} in night {night.name}")  # 404, not 403: no probing other agents' calls
    elif user.role == "lead" and user.team and row.team != user.team:
        raise _Forbidden(403, f"call {call_id} belongs to team {row.team}")
    return night, result


async def call_page(request: Request, wb: Workbench, user: User) -> Response:
    night, result = _call_or_404(wb, user, request.path_params["night"], request.path_params["call_id"])
    return _render_call(request, wb, user, night, result)


def _render_call(request: Request, wb: Workbench, user: User, night: Night, result: CallResult,
                 status: int = 200, error: str | None = None) -> Response:
    row = night.rows[result.call_id]
    review = wb.store.latest_review(night.name, result.call_id)
    shown = wb.shown(result)
    reviewed = CallScore.from_dict(review.score) if review else None
    try:
        night.audio_path(result.call_id)
        audio = f"/call/{night.name}/{result.call_id}/audio"
        audio_error = None
    except AudioRefused as e:
        audio, audio_error = None, str(e)
    by_rule: dict[str, list] = {}
    for f in shown.inspection.findings:
        by_rule.setdefault(f.rule, []).append(f)
    machine_status: dict[str, str] = {}
    for item in result.score.items:
        for d in item.deductions:
            machine_status.setdefault(d.rule, d.status)
    marks: dict[int, list[str]] = {}
    for f in shown.inspection.findings:
        for e in f.evidence:
            if e.utterance is not None:
                marks.setdefault(e.utterance, []).append(f.rule)
    holders = wb.store.claims(night.name).get(result.call_id, [])
    can_review = user.can("reviewer", "lead") and user.role != "agent"
    return wb.render(
        request, "call.html.j2", status, _user=user, night=night, row=row, r=shown, review=review, reviewed=reviewed,
        reviews=wb.store.reviews_of_call(night.name, result.call_id), audio=audio, audio_error=audio_error, by_rule=by_rule,
        machine_status=machine_status, marks=marks, holders=holders, holds=user.name in holders, can_review=can_review,
        precision=wb.precision(), card_rules=[(code, item.name) for code, item in wb.rule_item.items()],
        disputes=wb.store.disputes(night=night.name, call_id=result.call_id), error=error,
        reviewed_shown=wb.shown(result, reviewed).score if reviewed else None,
    )


async def call_audio(request: Request, wb: Workbench, user: User) -> Response:
    night, result = _call_or_404(wb, user, request.path_params["night"], request.path_params["call_id"])
    try:
        path = night.audio_path(request.path_params["call_id"])
    except AudioRefused as e:
        return PlainTextResponse(str(e), 403)
    spans = masked_spans(result.transcript)
    if spans:  # personal numbers are spoken: serve the copy with a tone over them
        from qc.ingest import AudioError

        try:
            path = masked_copy(path, spans, wb.audio_cache)
        except AudioError as e:
            return PlainTextResponse(f"the recording cannot be masked: {e}", 500)
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix.lower() == ".wav":
        media = "audio/wav"
    return FileResponse(path, media_type=media)


async def claim(request: Request, wb: Workbench, user: User) -> Response:
    form = await request.form()
    night = wb.night(str(form.get("night", "")))
    call_id = str(form.get("call_id", ""))
    row = night.rows.get(call_id)
    if row is None:
        raise _Forbidden(404, f"no call {call_id} in night {night.name}")
    if user.role == "lead" and user.team and row.team != user.team:
        raise _Forbidden(403, f"call {call_id} belongs to team {row.team}")
    if not form.get("release"):
        reviewers = {r.reviewer for r in wb.store.reviews_of_call(night.name, call_id) if r.source == "workbench"}
        if row.calibration:  # two reviewers, each once
            others = (reviewers | set(wb.store.claims(night.name).get(call_id, []))) - {user.name}
            if user.name not in reviewers and len(others) >= 2:
                raise _Forbidden(409, f"call {call_id} already has two reviewers ({', '.join(sorted(others))})")
        elif user.role == "reviewer" and reviewers - {user.name}:
            raise _Forbidden(409, f"call {call_id} was reviewed by {', '.join(sorted(reviewers))}; a lead may review it again")
    try:
        if form.get("release"):
            wb.store.release(night.name, call_id, user.name)
        else:
            wb.store.claim(night.name, call_id, user.name, calibration=row.calibration)
    except StoreError as e:
        raise _Forbidden(409, str(e)) from None
    return RedirectResponse(f"/call/{night.name}/{call_id}" if not form.get("release") else f"/queue?night={night.name}", 303)


async def submit_review(request: Request, wb: Workbench, user: User) -> Response:
    night, result = _call_or_404(wb, user, request.path_params["night"], request.path_params["call_id"])
    row = night.rows[result.call_id]
    if not wb.store.holds(night.name, result.call_id, user.name):
        holders = wb.store.claims(night.name).get(result.call_id, [])
        msg = f"call {result.call_id} is being reviewed by {', '.join(holders)}" if holders else "claim the call before you submit"
        return _render_call(request, wb, user, night, result, 409, msg)
    form = await request.form()
    rules = {f.rule for f in result.inspection.findings}
    verdicts: dict[str, tuple[str, str]] = {}
    for rule in sorted(rules):
        v = str(form.get(f"v_{rule}", "") or "")
        note = str(form.get(f"n_{rule}", "") or "").strip()[:1000]
        if v:
            if v not in REVIEW_VERDICTS:
                return _render_call(request, wb, user, night, result, 400, f"verdict {v!r} on {rule} is not one of {', '.join(REVIEW_VERDICTS)}")
            verdicts[rule] = (v, note)
    added = []
    for rule, utt, note in zip(form.getlist("add_rule"), form.getlist("add_utt"), form.getlist("add_note")):
        rule, utt = str(rule).strip(), str(utt).strip()
        if not rule and not utt:
            continue
        if rule not in wb.rule_item or not utt.isdigit() or int(utt) >= len(result.transcript.utterances):
            return _render_call(request, wb, user, night, result, 400, f"missed finding: pick a scorecard rule and an utterance number (got {rule!r}, {utt!r})")
        added.append((rule, int(utt), str(note).strip()[:1000]))
    score = reviewed_score(result, wb.card, {r: v for r, (v, _) in verdicts.items()}, added)
    wb.store.add_review(
        night.name, result.call_id, user.name, agent_id=row.agent_id, team=row.team, machine_score=result.score.score,
        score=to_dict(wb.shown(result, score).score), verdicts=verdicts, added=added, calibration=row.calibration,
    )
    return RedirectResponse(f"/call/{night.name}/{result.call_id}#review", 303)


async def dispute(request: Request, wb: Workbench, user: User) -> Response:
    night, result = _call_or_404(wb, user, request.path_params["night"], request.path_params["call_id"])
    review = wb.store.latest_review(night.name, result.call_id)
    form = await request.form()
    rule = str(form.get("rule", ""))
    deducted = {d["rule"] for i in (review.score["items"] if review else []) for d in i["deductions"] if d["points"] > 0}
    if review is None or rule not in deducted:
        raise _Forbidden(400, f"{rule or 'that rule'} did not cost points in the reviewed score; nothing to dispute")
    try:
        wb.store.open_dispute(night.name, result.call_id, rule, user, str(form.get("reason", "")), review)
    except StoreError as e:
        raise _Forbidden(400, str(e)) from None
    return RedirectResponse(f"/call/{night.name}/{result.call_id}#disputes", 303)


async def disputes_page(request: Request, wb: Workbench, user: User) -> Response:
    team = user.team if user.role == "lead" else None
    return wb.render(request, "disputes.html.j2", _user=user, disputes=wb.store.disputes(team=team), redact=redact_text)


async def decide(request: Request, wb: Workbench, user: User) -> Response:
    d = wb.store.dispute(int(request.path_params["id"]))
    if d is None or (user.role == "lead" and user.team and d.team != user.team):
        raise _Forbidden(404, "no such dispute")
    form = await request.form()
    decision, note = str(form.get("decision", "")), str(form.get("note", ""))
    night = wb.night(d.night)
    result = night.result(d.call_id)
    new_review = None
    if decision == "overturned" and result is not None:
        latest = wb.store.latest_review(d.night, d.call_id)
        verdicts = dict(latest.verdicts) if latest else {}
        added = [a for a in (latest.added if latest else []) if a[0] != d.rule]
        verdicts[d.rule] = ("false_positive", f"申诉 #{d.id} 撤销: {note}".strip())
        score = reviewed_score(result, wb.card, {r: v for r, (v, _) in verdicts.items()}, added)
        row = night.rows[d.call_id]
        new_review = wb.store.add_review(
            d.night, d.call_id, user.name, agent_id=row.agent_id, team=row.team, machine_score=result.score.score,
            score=to_dict(wb.shown(result, score).score), verdicts=verdicts, added=added, calibration=row.calibration,
            source=f"dispute:{d.id}",
        )
    try:
        wb.store.decide_dispute(d.id, user, decision, note, new_review)
    except StoreError as e:
        raise _Forbidden(400, str(e)) from None
    return RedirectResponse("/disputes", 303)


async def my_calls(request: Request, wb: Workbench, user: User) -> Response:
    reviews = wb.store.agent_reviews(user.agent_id or "") if user.agent_id else []
    reviews = [r for r in reviews if r.night in wb.nights]
    return wb.render(request, "my.html.j2", _user=user, reviews=reviews,
                     disputes=wb.store.disputes(agent_id=user.agent_id) if user.agent_id else [])


async def teams_page(request: Request, wb: Workbench, user: User) -> Response:
    stats: dict[tuple[str, str], dict[str, Any]] = {}
    for night in wb.nights.values():
        reviewed = wb.store.reviewed_calls(night.name)
        for r in night.rows.values():
            if user.role == "lead" and user.team and r.team != user.team:
                continue
            s = stats.setdefault((r.team, r.agent_id or "—"), {"calls": 0, "machine": 0.0, "effective": 0.0, "reviewed": 0})
            s["calls"] += 1
            s["machine"] += r.score
            if r.call_id in reviewed:
                s["reviewed"] += 1
                s["effective"] += reviewed[r.call_id][0]
            else:
                s["effective"] += r.score
    open_disputes: dict[str, int] = {}
    for d in wb.store.disputes(team=user.team if user.role == "lead" else None):
        if d.status == "open":
            open_disputes[d.agent_id or "—"] = open_disputes.get(d.agent_id or "—", 0) + 1
    rows = [{"team": t, "agent": a, **s, "machine": round(s["machine"] / s["calls"], 1),
             "effective": round(s["effective"] / s["calls"], 1), "disputes": open_disputes.get(a, 0)} for (t, a), s in sorted(stats.items())]
    return wb.render(request, "teams.html.j2", _user=user, rows=rows)


def _flagged(wb: Workbench) -> dict[tuple[str, str], set[str]]:
    out = {}
    for night in wb.nights.values():
        for r in night.rows.values():
            out[(night.name, r.call_id)] = set(r.rules)
    return out


async def calibration_page(request: Request, wb: Workbench, user: User) -> Response:
    flagged = _flagged(wb)
    rules = list(wb.rule_item)
    labels = wb.store.reviewer_labels()
    sample = {(n.name, r.call_id) for n in wb.nights.values() for r in n.queue if r.calibration}
    kappa_sample = reviewer_kappa(labels, flagged, rules, calls=sample)
    kappa_all = reviewer_kappa(labels, flagged, rules)
    current: dict[tuple[str, str], tuple[dict[str, str], set[str]]] = {}
    for night, call_id, rule, verdict, *_ in wb.store.current_verdicts():
        current.setdefault((night, call_id), ({}, set()))[0][rule] = verdict
    for night, call_id, rule, _, _ in wb.store.current_added():
        current.setdefault((night, call_id), ({}, set()))[1].add(rule)
    reviewed_keys = {(n.name, c) for n in wb.nights.values() for c in wb.store.reviewed_calls(n.name)}
    reviews = [(flagged.get(k, set()), *current.get(k, ({}, set()))) for k in sorted(reviewed_keys) if k in flagged]
    agreement = rule_agreement(reviews, rules)
    names = {code: item.name for code, item in wb.rule_item.items()}
    return wb.render(request, "calibration.html.j2", _user=user, kappa_sample=kappa_sample, kappa_all=kappa_all,
                     agreement=agreement, names=names, sample_size=len(sample), reviewed=len(reviews))


async def export_verdicts(request: Request, wb: Workbench, user: User) -> Response:
    return Response(wb.store.verdicts_csv().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="verdicts.csv"'})


_ALIASES = {"通话ID": "call_id", "通话编号": "call_id", "规则": "rule", "规则编号": "rule", "结论": "verdict", "复核结论": "verdict", "备注": "note"}
_VERDICT_ALIASES = {"confirmed": "confirmed", "false_positive": "false_positive", "unsure": "unsure", "确认": "confirmed",
                    "误报": "false_positive", "fp": "false_positive", "tp": "confirmed", "不确定": "unsure"}


async def import_verdicts(request: Request, wb: Workbench, user: User) -> Response:
    """Re-import a verdicts CSV (the export, or a file for ``qc review import``): one review per call, by the importer."""
    form = await request.form()
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read"):
        raise _Forbidden(400, "choose a CSV file")
    text = (await upload.read()).decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = [_ALIASES.get((h or "").strip(), (h or "").strip()) for h in reader.fieldnames or []]
    if {"call_id", "rule", "verdict"} - set(reader.fieldnames):
        raise _Forbidden(400, f"{upload.filename}:1: needs columns call_id, rule, verdict (and note)")
    by_call: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    errors = []
    for line, row in enumerate(reader, start=2):
        call_id, rule = (row.get("call_id") or "").strip(), (row.get("rule") or "").strip()
        verdict = _VERDICT_ALIASES.get((row.get("verdict") or "").strip().lower(), _VERDICT_ALIASES.get((row.get("verdict") or "").strip()))
        night = (row.get("night") or "").strip()
        candidates = [night] if night else [n for n, x in wb.nights.items() if call_id in x.rows]
        if not call_id or not rule or verdict is None or len(candidates) != 1 or candidates[0] not in wb.nights:
            errors.append(f"{upload.filename}:{line}: call {call_id!r} rule {rule!r} verdict {row.get('verdict')!r} not found or ambiguous")
            continue
        by_call.setdefault((candidates[0], call_id), {})[rule] = (verdict, (row.get("note") or "").strip())
    if errors:
        raise _Forbidden(400, "\n".join(errors[:20]))
    for (night_name, call_id), verdicts in sorted(by_call.items()):
        night = wb.nights[night_name]
        result = night.result(call_id)
        if result is None:
            continue
        latest = wb.store.latest_review(night_name, call_id)
        merged = {**(latest.verdicts if latest else {}), **verdicts}
        added = latest.added if latest else []
        score = reviewed_score(result, wb.card, {r: v for r, (v, _) in merged.items()}, added)
        row = night.rows[call_id]
        wb.store.add_review(night_name, call_id, user.name, agent_id=row.agent_id, team=row.team, machine_score=result.score.score,
                            score=to_dict(wb.shown(result, score).score), verdicts=merged, added=added,
                            calibration=row.calibration, source=f"import:{upload.filename}")
    return RedirectResponse("/calibration", 303)


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
