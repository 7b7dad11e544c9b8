"""The reviewer's pages of ``qc serve``: the queue, the call page (audio, verdicts, unmasking),
claims, review submission and an agent's dispute. Routes are in :func:`qc.serve.app.create_app`."""

from __future__ import annotations

import mimetypes

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

from qc.run.store import CallResult
from qc.serve.app import PAGE_SIZE, Forbidden, Workbench
from qc.serve.audio_mask import masked_copy, masked_spans
from qc.serve.nights import AudioRefused, Night
from qc.serve.review import reviewed_score
from qc.serve.store import REVIEW_VERDICTS, StoreError, User
from qc.types import CallScore, to_dict


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
        raise Forbidden(404, f"no call {call_id} in night {night.name}")
    if user.role == "agent":
        if not user.agent_id or row.agent_id != user.agent_id or wb.store.latest_review(night.name, call_id) is None:
            raise Forbidden(404, f"no call {call_id} in night {night.name}")  # 404, not 403: no probing other agents' calls
    elif user.role == "lead" and user.team and row.team != user.team:
        raise Forbidden(403, f"call {call_id} belongs to team {row.team}")
    return night, result


async def call_page(request: Request, wb: Workbench, user: User) -> Response:
    night, result = _call_or_404(wb, user, request.path_params["night"], request.path_params["call_id"])
    return _render_call(request, wb, user, night, result, grant=request.query_params.get("unmask"))


def _render_call(request: Request, wb: Workbench, user: User, night: Night, result: CallResult,
                 status: int = 200, error: str | None = None, grant: str | None = None) -> Response:
    row = night.rows[result.call_id]
    review = wb.store.latest_review(night.name, result.call_id)
    unmasked = wb.store.unmask_granted(grant, user, night.name, result.call_id)
    shown = result if unmasked else wb.shown(result)
    reviewed = CallScore.from_dict(review.score) if review else None
    try:
        night.audio_path(result.call_id)
        audio = f"/call/{night.name}/{result.call_id}/audio" + (f"?unmask={grant}" if unmasked else "")
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
        reviewed_shown=wb.shown(result, reviewed).score if reviewed else None, unmasked=unmasked,
        unmask_log=wb.store.unmasks(night.name, result.call_id)[:10] if user.may_unmask else [],
    )


async def call_audio(request: Request, wb: Workbench, user: User) -> Response:
    night, result = _call_or_404(wb, user, request.path_params["night"], request.path_params["call_id"])
    try:
        path = night.audio_path(request.path_params["call_id"])
    except AudioRefused as e:
        return PlainTextResponse(str(e), 403)
    spans = masked_spans(result.transcript)
    if wb.store.unmask_granted(request.query_params.get("unmask"), user, night.name, result.call_id):
        spans = []  # an unmask, logged when it was granted: the original recording
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
        raise Forbidden(404, f"no call {call_id} in night {night.name}")
    if user.role == "lead" and user.team and row.team != user.team:
        raise Forbidden(403, f"call {call_id} belongs to team {row.team}")
    if not form.get("release"):
        reviewers = {r.reviewer for r in wb.store.reviews_of_call(night.name, call_id) if r.source == "workbench"}
        if row.calibration:  # two reviewers, each once
            others = (reviewers | set(wb.store.claims(night.name).get(call_id, []))) - {user.name}
            if user.name not in reviewers and len(others) >= 2:
                raise Forbidden(409, f"call {call_id} already has two reviewers ({', '.join(sorted(others))})")
        elif user.role == "reviewer" and reviewers - {user.name}:
            raise Forbidden(409, f"call {call_id} was reviewed by {', '.join(sorted(reviewers))}; a lead may review it again")
    try:
        if form.get("release"):
            wb.store.release(night.name, call_id, user.name)
        else:
            wb.store.claim(night.name, call_id, user.name, calibration=row.calibration)
    except StoreError as e:
        raise Forbidden(409, str(e)) from None
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
        raise Forbidden(400, f"{rule or 'that rule'} did not cost points in the reviewed score; nothing to dispute")
    try:
        wb.store.open_dispute(night.name, result.call_id, rule, user, str(form.get("reason", "")), review)
    except StoreError as e:
        raise Forbidden(400, str(e)) from None
    return RedirectResponse(f"/call/{night.name}/{result.call_id}#disputes", 303)



async def unmask_call(request: Request, wb: Workbench, user: User) -> Response:
    """Log an unmask (who, when, which call, why) and show the call unmasked for :data:`UNMASK_TTL`."""
    night, result = _call_or_404(wb, user, request.path_params["night"], request.path_params["call_id"])
    form = await request.form()
    try:
        grant = wb.store.log_unmask(user, night.name, result.call_id, str(form.get("reason", "")))
    except StoreError as e:
        raise Forbidden(403 if not user.may_unmask else 400, str(e)) from None
    return RedirectResponse(f"/call/{night.name}/{result.call_id}?unmask={grant}", 303)
