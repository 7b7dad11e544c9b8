"""Reports: the night report, per-call pages, per-agent scorecards, exports, history.

:func:`write_reports` takes the night's ``CallResult`` records and writes, under ``out_dir``::

    index.html              the night report (self-contained: CSS and SVG charts inline, no CDN)
    calls/<call>.html       one page per call: transcript by role, findings, audio player
    agents/<agent>.html     one scorecard per agent
    agents.xlsx             every agent's scorecard (summary, dimensions, top violations)
    calls.csv / findings.csv / queue.csv / agents.csv   Chinese column names, UTF-8 with BOM
    night.xlsx              the same tables as sheets
    night.json              everything for machines

Personal numbers (ID cards, phones, bank cards) and addresses are masked in all of it unless
``redact=False``; transcripts on disk are not touched (docs/security.md). With ``db`` the calls
are stored in the history database (replacing earlier runs of the same calls; always masked) and
trends, repeat contacts and reviewer precision come from it. Every file is written atomically.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

from qc.history import FCR_TARGET, Contact, History, RulePrecision, contact_of, find_repeats, first_contact_resolution
from qc.emotion.summary import mood_label, outcome_text, risk_names
from qc.queue import COMPLAINT_POINTS, COMPLAINT_TYPE_NAMES, PRIORITY_POINTS, RISK_NAMES, QueueEntry, build_queue, rule_precision_estimate
from qc.redact import redact_text
from qc.report import charts
from qc.report.exports import (
    AGENT_COLUMNS,
    CALL_COLUMNS,
    FAILED_COLUMNS,
    FINDING_COLUMNS,
    QUEUE_COLUMNS,
    write_csv,
    write_json,
    write_text_atomic,
    write_xlsx,
)
from qc.results import CallResult
from qc.types import AgentScorecard, Evidence, to_dict

__all__ = ["ReportOptions", "NightReport", "write_reports", "build_agent_cards", "redact_result"]

_SAFE = re.compile(r"[^\w.\-]+", re.UNICODE)
SEVERITY_NAMES = {"info": "提示", "minor": "轻微", "major": "严重", "critical": "致命"}
STATUS_NAMES = {"deducted": "扣分", "capped": "已达上限", "pending_review": "待复核", "rejected": "误报不扣", "fatal": "一票否决"}
ROLE_NAMES = {"agent": "坐席", "customer": "客户", "unknown": "未知"}
TRAJECTORY_NAMES = {"worsened": "恶化", "recovered": "好转", "stable": "平稳"}


@dataclass
class ReportOptions:
    """Knobs for :func:`write_reports` (defaults are what ``qc report`` uses)."""

    night: str | None = None
    db: str | Path | None = None
    redact: bool = True
    queue_limit: int | None = None
    queue_on_page: int = 200
    calibration: int | float = 0.05
    seed: int | str | None = None  # default: the night
    repeat_window_days: int = 7
    min_verdicts: int = 5
    precision_threshold: float = 0.6
    call_pages: bool = True
    team_of: Callable[[CallResult], str] | None = None
    #: calls the night could not score, as ``(call_id, source file, error)``: listed on the night
    #: page, in night.xlsx and night.json
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    voc: str | Path | bool | None = None  # VOC taxonomy for voc.html (None: voc/ or the shipped one; False: no VOC page)


@dataclass
class NightReport:
    """What :func:`write_reports` wrote and computed."""

    out_dir: Path
    night: str
    index: Path
    queue: list[QueueEntry]
    agents: list[AgentScorecard]
    precision: list[RulePrecision] = field(default_factory=list)
    repeats: dict[str, Contact] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    voc: Any = None  # qc.voc.report.VocReport when the VOC page was written


def page_name(key: str) -> str:
    """A safe file name for a call or agent page."""
    return (_SAFE.sub("_", key).strip(".") or "_") + ".html"


def _team(r: CallResult) -> str:
    return str(r.transcript.meta.get("team") or "未分组")


def _redact_evidence(e: Evidence | None) -> Evidence | None:
    return None if e is None else dataclasses.replace(e, text=redact_text(e.text))


def _redact_card(card: AgentScorecard) -> AgentScorecard:
    """A copy of an agent scorecard with its example quotes masked."""
    top = [{**v, "examples": [{**ex, "text": redact_text(ex.get("text") or "")} for ex in v["examples"]]} for v in card.top_violations]
    return dataclasses.replace(card, top_violations=top, team=redact_text(card.team))


def redact_result(r: CallResult) -> CallResult:
    """A copy of a result with personal numbers masked in every text a report shows.

    Word-level timings are dropped from the copy (reports show utterances, and a number split
    over words would escape the mask).
    """
    t = r.transcript
    transcript = dataclasses.replace(
        t,
        utterances=[dataclasses.replace(u, text=redact_text(u.text), words=[]) for u in t.utterances],
        meta={k: redact_text(v) if isinstance(v, str) else v for k, v in t.meta.items()},
    )
    inspection = dataclasses.replace(
        r.inspection,
        findings=[
            dataclasses.replace(f, message=redact_text(f.message), evidence=[_redact_evidence(e) for e in f.evidence])
            for f in r.inspection.findings
        ],
    )
    emotion = r.emotion
    if emotion is not None:
        emotion = dataclasses.replace(
            emotion,
            drivers=[_redact_evidence(e) for e in emotion.drivers],
            outcome_evidence=[_redact_evidence(e) for e in emotion.outcome_evidence],
            risks=[dataclasses.replace(x, evidence=_redact_evidence(x.evidence)) for x in emotion.risks],
            complaint=None if emotion.complaint is None else dataclasses.replace(
                emotion.complaint, evidence=[_redact_evidence(e) for e in emotion.complaint.evidence]
            ),
        )
    score = dataclasses.replace(
        r.score,
        items=[
            dataclasses.replace(i, deductions=[
                dataclasses.replace(d, message=redact_text(d.message), evidence=_redact_evidence(d.evidence)) for d in i.deductions
            ])
            for i in r.score.items
        ],
    )
    return CallResult(transcript=transcript, inspection=inspection, emotion=emotion, score=score)


def build_agent_cards(
    results: list[CallResult],
    night: str,
    team_of: Callable[[CallResult], str] = _team,
    trends: dict[str, list[tuple[str, float, int]]] | None = None,
    fcr: dict[str, tuple[float, int, int]] | None = None,
    repeat_calls: dict[str, int] | None = None,
    examples: int = 3,
) -> list[AgentScorecard]:
    """One :class:`AgentScorecard` per agent (calls without an agent id are left out), sorted by agent id."""
    trends, fcr, repeat_calls = trends or {}, fcr or {}, repeat_calls or {}
    by_agent: dict[str, list[CallResult]] = defaultdict(list)
    for r in results:
        if r.transcript.agent_id:
            by_agent[r.transcript.agent_id].append(r)
    cards = []
    for agent, calls in sorted(by_agent.items()):
        n = len(calls)
        mean = round(sum(r.score.score for r in calls) / n, 1)
        dims: dict[str, list[float]] = defaultdict(list)
        viol: dict[str, dict[str, Any]] = {}
        for r in calls:
            for d in r.score.dimensions:
                if d.points > 0:
                    dims[d.name].append(100.0 * d.earned / d.points)
            for item in r.score.items:
                for ded in item.deductions:
                    if ded.status not in ("deducted", "capped", "fatal"):
                        continue
                    v = viol.setdefault(ded.rule, {"rule": ded.rule, "item": item.name, "hits": 0, "points": 0.0, "examples": []})
                    v["hits"] += 1
                    v["points"] += ded.points
                    if len(v["examples"]) < examples and ded.evidence is not None:
                        v["examples"].append({"call_id": r.call_id, "start": ded.evidence.start, "text": ded.evidence.text})
        top = sorted(viol.values(), key=lambda v: (-v["points"], -v["hits"], v["rule"]))[:5]
        for v in top:
            v["points"] = round(v["points"], 1)
        teams = Counter(team_of(r) for r in calls)
        f = fcr.get(agent)
        history = [t for t in trends.get(agent, []) if t[0] < night]
        cards.append(AgentScorecard(
            agent_id=agent, night=night, team=teams.most_common(1)[0][0], calls=n, mean_score=mean,
            pass_rate=round(sum(r.score.passed for r in calls) / n, 3),
            fatal_calls=sum(r.score.fatal for r in calls),
            dimensions={k: round(sum(v) / len(v), 1) for k, v in dims.items()},
            top_violations=top, fcr=None if f is None else round(f[0], 3),
            repeat_calls=repeat_calls.get(agent, 0),
            trend=history + [(night, mean, n)],
        ))
    by_team: dict[str, list[AgentScorecard]] = defaultdict(list)
    for c in cards:
        by_team[c.team].append(c)
    for members in by_team.values():
        members.sort(key=lambda c: (-c.mean_score, c.agent_id))
        for rank, c in enumerate(members, start=1):
            c.rank_in_team, c.team_size = rank, len(members)
    return cards


def _env():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("qc.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ts"] = _ts
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.1f}%"
    env.filters["page"] = page_name
    env.globals.update(SEVERITY_NAMES=SEVERITY_NAMES, STATUS_NAMES=STATUS_NAMES, ROLE_NAMES=ROLE_NAMES, TRAJECTORY_NAMES=TRAJECTORY_NAMES, mood_label=mood_label, outcome_text=outcome_text,
                       COMPLAINT_TYPE_NAMES=COMPLAINT_TYPE_NAMES, RISK_NAMES=RISK_NAMES)
    return env


def _ts(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


def _audio_src(r: CallResult, page_dir: Path) -> str | None:
    if r.transcript.audio is None or not r.transcript.audio.path:
        return None
    audio = Path(r.transcript.audio.path)
    if not audio.is_absolute():
        audio = Path.cwd() / audio
    try:
        rel = os.path.relpath(audio, page_dir.resolve())
    except ValueError:  # another drive on Windows
        return audio.as_uri()
    return Path(rel).as_posix()


def _night_default(results: list[CallResult]) -> str:
    for r in results:
        for key in ("night", "date", "start_time", "started_at"):
            value = r.transcript.meta.get(key)
            if value and re.match(r"\d{4}-\d{2}-\d{2}", str(value)):
                return str(value)[:10]
    return date.today().isoformat()


def write_reports(results: list[CallResult], out_dir: str | Path, options: ReportOptions | None = None, **kwargs: Any) -> NightReport:
    """Write the night report, call and agent pages, exports and (with ``db``) history.

    Args:
        results: the night's call results (e.g. from :func:`qc.results.load_call_results`).
        out_dir: folder to write into (created).
        options: a :class:`ReportOptions`; keyword arguments override its fields.

    Returns:
        A :class:`NightReport` with the queue, agent scorecards and written files.
    """
    opts = dataclasses.replace(options or ReportOptions(), **kwargs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    night = opts.night or _night_default(results)
    team_of = opts.team_of or _team
    results = sorted(results, key=lambda r: r.call_id)

    history = History(opts.db) if opts.db else None
    try:
        # repeat contacts: tonight plus the stored window before it
        tonight = [c for c in (contact_of(r, night, team_of(r)) for r in results) if c is not None]
        earlier: list[Contact] = []
        trends: dict[str, list[tuple[str, float, int]]] = {}
        team_trends: dict[str, list[tuple[str, float, int]]] = {}
        verdicts: dict[str, dict[str, str]] = {}
        notes: dict[tuple[str, str], tuple[str, str]] = {}
        if history is not None:
            since = min((c.time for c in tonight), default=None)
            if since is not None:
                earlier = history.contacts(since - timedelta(days=opts.repeat_window_days), night)
            trends = history.all_agent_trends(before=night)
            team_trends = history.team_trend(before=night)
            verdicts = history.verdicts()
            notes = history.verdict_notes()
        contacts = earlier + tonight
        repeats = find_repeats(contacts, opts.repeat_window_days)
        tonight_ids = {c.call_id for c in tonight}
        repeats = {k: v for k, v in repeats.items() if k in tonight_ids}
        fcr_agent = first_contact_resolution(contacts, repeats, "agent_id")
        fcr_team = first_contact_resolution(contacts, repeats, "team")
        repeat_by_agent = Counter(c.agent_id for c in repeats.values() if c.agent_id)
        complaint_ids = {c.call_id for c in tonight if c.complaint}
        repeat_complaints = {k for k in repeats if k in complaint_ids}

        raw_cards = build_agent_cards(results, night, team_of, trends, fcr_agent if tonight else None, dict(repeat_by_agent))
        masked_cards = [_redact_card(c) for c in raw_cards]
        if history is not None:  # the history database never holds unmasked text, even with redact=False
            history.record_night(night, results, masked_cards, tonight, team_of)
            precision = history.rule_precision(opts.min_verdicts, opts.precision_threshold)
        else:
            precision = []
    finally:
        if history is not None:
            history.close()

    shown = [redact_result(r) for r in results] if opts.redact else results
    queue = build_queue(
        shown, limit=opts.queue_limit, calibration=opts.calibration,
        seed=opts.seed if opts.seed is not None else night, repeat_complaints=repeat_complaints, team_of=team_of,
        rule_precision={p.rule: rule_precision_estimate(p.confirmed, p.false_positive) for p in precision},
    )
    cards = masked_cards if opts.redact else raw_cards
    if opts.redact:
        notes = {k: (v, redact_text(n)) for k, (v, n) in notes.items()}

    written: list[Path] = []
    env = _env()
    by_id = {r.call_id: r for r in shown}
    priority = {q.call_id: q for q in queue}
    pass_line = results[0].score.pass_line if results else 80.0

    # --- tables shared by exports and pages ---
    call_rows, finding_rows = [], []
    for r in shown:
        e, s = r.emotion, r.score
        q = priority.get(r.call_id)
        rep = repeats.get(r.call_id)
        call_rows.append([
            r.call_id, r.transcript.agent_id or "", team_of(r), s.score, "是" if s.passed else "否",
            "是" if s.fatal else "否", s.pending_review, sum(1 for f in r.inspection.findings if f.kind == "violation"),
            round(e.customer_peak, 2) if e else "", mood_label(e, r.inspection.findings) if e else "",
            e.complaint.priority if e and e.complaint else "", "、".join(risk_names(r.inspection.findings, e)),
            rep.call_id if rep else "", q.priority if q and not q.calibration else 0,
            "" if e is None or e.dissatisfied is None else round(e.dissatisfied, 2),
            "" if e is None or e.unresolved is None else round(e.unresolved, 2),
        ])
        ded_by_finding: dict[tuple[str, float | None], Any] = {}
        for item in s.items:
            for d in item.deductions:
                ded_by_finding.setdefault((d.rule, d.evidence.start if d.evidence else None), d)
        for f in r.inspection.findings:
            ev = f.evidence[0] if f.evidence else None
            d = ded_by_finding.get((f.rule, ev.start if ev else None))
            status = STATUS_NAMES.get(d.status, d.status) if d else ("风险提示" if f.kind == "risk" else "未计分")
            verdict = notes.get((r.call_id, f.rule), ("", ""))[0]
            finding_rows.append([
                r.call_id, r.transcript.agent_id or "", f.rule, f.name, f.category, SEVERITY_NAMES.get(f.severity, f.severity),
                "违规" if f.kind == "violation" else "风险", d.points if d else 0, status,
                ev.start if ev and ev.start is not None else "", ROLE_NAMES.get(ev.role, ev.role or "") if ev else "",
                ev.text if ev else "", f.message, {"confirmed": "确认", "false_positive": "误报"}.get(verdict, ""),
            ])
    queue_rows = []
    for rank, q in enumerate(queue, start=1):
        ev = q.evidence[0] if q.evidence else None
        queue_rows.append([
            rank, q.call_id, q.agent_id or "", q.team, q.score, q.priority, "；".join(f"{x.text} (+{x.points:g})" if x.points else x.text for x in q.reasons),
            ev.start if ev and ev.start is not None else "", ev.text if ev else "", "是" if q.calibration else "",
        ])
    agent_rows = [[
        c.agent_id, c.team, c.calls, c.mean_score, c.pass_rate, c.fatal_calls, c.rank_in_team, c.team_size,
        "" if c.fcr is None else c.fcr, c.repeat_calls, "、".join(f"{v['rule']}×{v['hits']}" for v in c.top_violations),
    ] for c in cards]

    for name, cols, rows in (("calls.csv", CALL_COLUMNS, call_rows), ("findings.csv", FINDING_COLUMNS, finding_rows),
                             ("queue.csv", QUEUE_COLUMNS, queue_rows), ("agents.csv", AGENT_COLUMNS, agent_rows)):
        write_csv(out / name, cols, rows)
        written.append(out / name)
    failures = [(cid, src, redact_text(err) if opts.redact else err) for cid, src, err in opts.failures]
    failed_rows = [list(f) for f in failures]
    write_xlsx(out / "night.xlsx", [("通话明细", CALL_COLUMNS, call_rows), ("违规明细", FINDING_COLUMNS, finding_rows),
                                   ("复核队列", QUEUE_COLUMNS, queue_rows), ("坐席", AGENT_COLUMNS, agent_rows)]
               + ([("无法处理的文件", FAILED_COLUMNS, failed_rows)] if failed_rows else []))
    dim_names = [d.name for d in results[0].score.dimensions] if results else []
    write_xlsx(out / "agents.xlsx", [
        ("坐席评分卡", AGENT_COLUMNS, agent_rows),
        ("维度得分率", ["坐席工号", "班组"] + dim_names, [[c.agent_id, c.team] + [c.dimensions.get(d, "") for d in dim_names] for c in cards]),
        ("主要问题", ["坐席工号", "规则编号", "评分项", "次数", "扣分", "示例通话", "示例时间(秒)", "示例原文"],
         [[c.agent_id, v["rule"], v["item"], v["hits"], v["points"], ex["call_id"], ex["start"] if ex["start"] is not None else "", ex["text"]]
          for c in cards for v in c.top_violations for ex in (v["examples"] or [{"call_id": "", "start": None, "text": ""}])]),
        ("趋势", ["坐席工号", "日期", "平均分", "通话数"], [[c.agent_id, n, s, k] for c in cards for n, s, k in c.trend]),
    ])
    written += [out / "night.xlsx", out / "agents.xlsx"]

    # --- summary numbers and charts ---
    scores = [r.score.score for r in results]
    n = len(results)
    pareto_points: Counter[str] = Counter()
    pareto_hits: Counter[str] = Counter()
    rule_names: dict[str, str] = {}
    for r in results:
        for f in r.inspection.findings:
            if f.kind == "violation":
                pareto_hits[f.rule] += 1
                rule_names.setdefault(f.rule, f.name)
        for item in r.score.items:
            for d in item.deductions:
                pareto_points[d.rule] += d.points
    pareto_rows = sorted(
        ({"rule": k, "name": rule_names.get(k, ""), "hits": v, "points": round(pareto_points.get(k, 0.0), 1)} for k, v in pareto_hits.items()),
        key=lambda x: (-x["points"], -x["hits"], x["rule"]),
    )
    total_pts = sum(x["points"] for x in pareto_rows) or 1.0
    cum = 0.0
    for x in pareto_rows:
        cum += x["points"]
        x["cum"] = cum / total_pts
    teams: dict[str, list[CallResult]] = defaultdict(list)
    for r in results:
        teams[team_of(r)].append(r)
    team_rows = []
    for t, rs in sorted(teams.items()):
        f = fcr_team.get(t)
        team_rows.append({
            "team": t, "calls": len(rs), "mean": round(sum(x.score.score for x in rs) / len(rs), 1),
            "pass_rate": sum(x.score.passed for x in rs) / len(rs), "fatal": sum(x.score.fatal for x in rs),
            "fcr": None if f is None or not tonight else f[0], "agents": len({x.transcript.agent_id for x in rs if x.transcript.agent_id}),
            "trend": team_trends.get(t, []),
        })
    summary = {
        "night": night, "calls": n, "mean": round(sum(scores) / n, 1) if n else 0.0,
        "pass_rate": sum(r.score.passed for r in results) / n if n else 0.0,
        "fatal": sum(r.score.fatal for r in results), "pending_review": sum(r.score.pending_review for r in results),
        "queued": sum(1 for q in queue if not q.calibration), "calibration": sum(1 for q in queue if q.calibration),
        "repeats": len(repeats), "repeat_complaints": len(repeat_complaints), "pass_line": pass_line,
        "scorecard": results[0].score.scorecard if results else "", "redacted": opts.redact,
        "fcr": (sum(1 for c in contacts if c.call_id not in {x.call_id for x in repeats.values()}) / len(contacts)) if tonight else None,
    }
    write_json(out / "night.json", {
        "summary": summary,
        "calls": [{"call_id": r.call_id, "agent_id": r.transcript.agent_id, "team": team_of(r), "score": to_dict(r.score),
                   "repeat_of": repeats[r.call_id].call_id if r.call_id in repeats else None} for r in shown],
        "queue": [dataclasses.asdict(q) for q in queue],
        "agents": [to_dict(c) for c in cards],
        "teams": [{k: v for k, v in t.items() if k != "trend"} for t in team_rows],
        "pareto": pareto_rows,
        "rule_precision": [{"rule": p.rule, "confirmed": p.confirmed, "false_positive": p.false_positive,
                            "precision": p.precision, "cries_wolf": p.cries_wolf} for p in precision],
        "priority_points": PRIORITY_POINTS, "complaint_points": COMPLAINT_POINTS,
        "failed": [{"call_id": cid, "source": src, "error": err} for cid, src, err in failures],
    })
    written.append(out / "night.json")

    voc = None
    if opts.voc is not False:  # the voice-of-the-customer page (qc.voc); a broken taxonomy costs the page, not the night
        from qc.voc.report import write_voc_report
        from qc.voc.taxonomy import TaxonomyError

        try:
            voc = write_voc_report(shown, out, night, db=opts.db, taxonomy=None if opts.voc in (None, True) else opts.voc,
                                   team_of=team_of, repeats=set(repeats), call_pages=opts.call_pages)
            written += voc.files
        except TaxonomyError as e:
            import logging

            logging.getLogger(__name__).error("no VOC page: %d problem(s) in the taxonomy:\n%s", len(e.errors), e)

    css = env.get_template("style.css.j2").render()
    index = out / "index.html"
    write_text_atomic(index, env.get_template("night.html.j2").render(
        css=css, s=summary, queue=[q for q in queue if not q.calibration][: opts.queue_on_page],
        queue_total=summary["queued"], calibration=[q for q in queue if q.calibration], cards=cards, teams=team_rows,
        pareto=pareto_rows[:20], precision=precision, repeats=[(k, v, by_id[k]) for k, v in sorted(repeats.items())],
        repeat_complaints=repeat_complaints, priority_points=PRIORITY_POINTS, complaint_points=COMPLAINT_POINTS,
        fcr_target=FCR_TARGET, call_pages=opts.call_pages, failures=failures, voc_page=voc.page.name if voc else None,
        chart_hist=charts.histogram(scores, pass_line), chart_pareto=charts.pareto([(x["rule"], x["points"]) for x in pareto_rows]),
        chart_teams=charts.bars([(t["team"], t["mean"]) for t in team_rows], target=pass_line),
    ))
    written.append(index)

    agent_dir = out / "agents"
    agent_dir.mkdir(exist_ok=True)
    tpl = env.get_template("agent.html.j2")
    calls_by_agent: dict[str, list[CallResult]] = defaultdict(list)
    for r in shown:
        if r.transcript.agent_id:
            calls_by_agent[r.transcript.agent_id].append(r)
    for c in cards:
        path = agent_dir / page_name(c.agent_id)
        write_text_atomic(path, tpl.render(
            css=css, c=c, s=summary, calls=sorted(calls_by_agent[c.agent_id], key=lambda r: r.score.score), call_pages=opts.call_pages,
            chart_dims=charts.bars(sorted(c.dimensions.items()), suffix="%"), chart_trend=charts.trend([(t[0], t[1]) for t in c.trend], pass_line),
            fcr_target=FCR_TARGET, priority=priority,
        ))
        written.append(path)

    if opts.call_pages:
        call_dir = out / "calls"
        call_dir.mkdir(exist_ok=True)
        tpl = env.get_template("call.html.j2")
        notes_by_call: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
        for (cid, rule), value in notes.items():
            notes_by_call[cid][rule] = value
        for r in shown:
            path = call_dir / page_name(r.call_id)
            marks: dict[int, list[str]] = defaultdict(list)
            for f in r.inspection.findings:
                for e in f.evidence:
                    if e.utterance is not None:
                        marks[e.utterance].append(f.rule)
            write_text_atomic(path, tpl.render(
                css=css, r=r, s=summary, q=priority.get(r.call_id), marks=marks, audio=_audio_src(r, call_dir),
                repeat=repeats.get(r.call_id), verdicts=verdicts.get(r.call_id, {}), team=team_of(r),
                notes=notes_by_call.get(r.call_id, {}),
            ))
    return NightReport(out, night, index, queue, cards, precision, repeats, written, voc)
