"""The lead's pages of ``qc serve`` (disputes, teams, calibration, verdict import) and an agent's own calls.
Routes are in :func:`qc.serve.app.create_app`."""

from __future__ import annotations

import csv
import io
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from qc.report.redact import redact_text
from qc.serve.app import Forbidden, Workbench
from qc.serve.review import reviewed_score, reviewer_kappa, rule_agreement
from qc.serve.store import StoreError, User
from qc.types import to_dict


async def disputes_page(request: Request, wb: Workbench, user: User) -> Response:
    team = user.team if user.role == "lead" else None
    return wb.render(request, "disputes.html.j2", _user=user, disputes=wb.store.disputes(team=team), redact=redact_text)


async def decide(request: Request, wb: Workbench, user: User) -> Response:
    d = wb.store.dispute(int(request.path_params["id"]))
    if d is None or (user.role == "lead" and user.team and d.team != user.team):
        raise Forbidden(404, "no such dispute")
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
        raise Forbidden(400, str(e)) from None
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
        raise Forbidden(400, "choose a CSV file")
    text = (await upload.read()).decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = [_ALIASES.get((h or "").strip(), (h or "").strip()) for h in reader.fieldnames or []]
    if {"call_id", "rule", "verdict"} - set(reader.fieldnames):
        raise Forbidden(400, f"{upload.filename}:1: needs columns call_id, rule, verdict (and note)")
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
        raise Forbidden(400, "\n".join(errors[:20]))
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
