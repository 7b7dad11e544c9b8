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
trends, repeat contacts and reviewer precision come from it, and so do reviewed scores (``qc serve``):
they are shown beside the machine scores and count in every average (docs/scoring.md). Every file
is written atomically.

The pieces: :mod:`~qc.report.cards` (agent scorecards), :mod:`~qc.report.tables` (export rows, Pareto,
teams), :mod:`~qc.report.pages` (HTML), :mod:`~qc.report.queue` (re-review queue),
:mod:`~qc.report.contacts` (repeat contacts, FCR), :mod:`~qc.report.verdicts` (verdicts, reviewed
scores), :mod:`~qc.report.history` (SQLite) and :mod:`~qc.report.redact` (masking); this module runs
them in order for one night.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

from qc.report import charts
from qc.report.cards import build_agent_cards, team_of_call
from qc.report.contacts import FCR_TARGET, Contact, contact_of, find_repeats, first_contact_resolution
from qc.report.exports import write_json
from qc.report.history import History, ReviewedScore, RulePrecision
from qc.report.names import (
    COMPLAINT_TYPE_NAMES,
    RISK_NAMES,
    ROLE_NAMES,
    SEVERITY_NAMES,
    STATUS_NAMES,
    TRAJECTORY_NAMES,
)
from qc.report.pages import page_name, report_env, write_agent_pages, write_call_pages, write_index
from qc.report.queue import (
    COMPLAINT_POINTS,
    PRIORITY_POINTS,
    QueueEntry,
    build_queue,
    rule_precision_estimate,
)
from qc.report.redact import redact_card, redact_result, redact_text
from qc.report.tables import night_tables, pareto_rows, score_basis, team_rows, write_exports
from qc.run.store import CallResult
from qc.types import AgentScorecard, CallScore, to_dict

__all__ = [
    "ReportOptions", "NightReport", "write_reports", "build_agent_cards", "redact_result", "page_name",
    "SEVERITY_NAMES", "STATUS_NAMES", "ROLE_NAMES", "TRAJECTORY_NAMES", "COMPLAINT_TYPE_NAMES", "RISK_NAMES",
]



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


def _night_default(results: list[CallResult]) -> str:
    for r in results:
        for key in ("night", "date", "start_time", "started_at"):
            value = r.transcript.meta.get(key)
            if value and re.match(r"\d{4}-\d{2}-\d{2}", str(value)):
                return str(value)[:10]
    return date.today().isoformat()


@dataclass
class _Context:
    """What the history database and the night's contacts say about the night."""

    contacts: list[Contact] = field(default_factory=list)
    tonight: list[Contact] = field(default_factory=list)
    repeats: dict[str, Contact] = field(default_factory=dict)
    repeat_complaints: set[str] = field(default_factory=set)
    trends: dict[str, list[tuple[str, float, int]]] = field(default_factory=dict)
    team_trends: dict[str, list[tuple[str, float, int]]] = field(default_factory=dict)
    verdicts: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    precision: list[RulePrecision] = field(default_factory=list)
    raw_cards: list[AgentScorecard] = field(default_factory=list)
    masked_cards: list[AgentScorecard] = field(default_factory=list)
    fcr_team: dict[str, tuple[float, int, int]] | None = None
    reviewed: dict[str, CallScore] = field(default_factory=dict)  # call id -> latest workbench review's score
    reviewers: dict[str, ReviewedScore] = field(default_factory=dict)


def _night_context(results: list[CallResult], night: str, opts: ReportOptions, team_of: Callable[[CallResult], str]) -> _Context:
    """Repeat contacts, FCR, trends, verdicts and agent cards; with ``opts.db`` the night is stored too."""
    ctx = _Context()
    history = History(opts.db) if opts.db else None
    try:
        # repeat contacts: tonight plus the stored window before it
        ctx.tonight = [c for c in (contact_of(r, night, team_of(r)) for r in results) if c is not None]
        earlier: list[Contact] = []
        if history is not None:
            since = min((c.time for c in ctx.tonight), default=None)
            if since is not None:
                earlier = history.contacts(since - timedelta(days=opts.repeat_window_days), night)
            ctx.trends = history.all_agent_trends(before=night)
            ctx.team_trends = history.team_trend(before=night)
            ctx.verdicts = history.verdicts()
            ctx.notes = history.verdict_notes()
            ctx.reviewers = history.reviewed_scores(night, [r.call_id for r in results])
            ctx.reviewed = {c: CallScore.from_dict(x.score) for c, x in ctx.reviewers.items()}
            for call_id, x in ctx.reviewers.items():  # workbench verdicts where no imported one exists
                for rule, verdict in x.verdicts.items():
                    ctx.verdicts.setdefault(call_id, {}).setdefault(rule, verdict)
                    ctx.notes.setdefault((call_id, rule), (verdict, ""))
        ctx.contacts = earlier + ctx.tonight
        tonight_ids = {c.call_id for c in ctx.tonight}
        ctx.repeats = {k: v for k, v in find_repeats(ctx.contacts, opts.repeat_window_days).items() if k in tonight_ids}
        fcr_agent = first_contact_resolution(ctx.contacts, ctx.repeats, "agent_id")
        ctx.fcr_team = first_contact_resolution(ctx.contacts, ctx.repeats, "team") if ctx.tonight else None
        repeat_by_agent = Counter(c.agent_id for c in ctx.repeats.values() if c.agent_id)
        complaint_ids = {c.call_id for c in ctx.tonight if c.complaint}
        ctx.repeat_complaints = {k for k in ctx.repeats if k in complaint_ids}

        ctx.raw_cards = build_agent_cards(results, night, team_of, ctx.trends, fcr_agent if ctx.tonight else None, dict(repeat_by_agent),
                                          reviewed=ctx.reviewed)
        ctx.masked_cards = [redact_card(c) for c in ctx.raw_cards]
        if history is not None:  # the history database never holds unmasked text, even with redact=False
            history.record_night(night, results, ctx.masked_cards, ctx.tonight, team_of)
            ctx.precision = history.rule_precision(opts.min_verdicts, opts.precision_threshold)
    finally:
        if history is not None:
            history.close()
    return ctx


def _summary(results: list[CallResult], queue: list[QueueEntry], ctx: _Context, night: str, redacted: bool,
             machine: list[CallResult]) -> dict[str, Any]:
    """The night's headline numbers; ``results`` carry reviewed scores where they exist, ``machine`` the machine's."""
    n = len(results)
    repeated = {x.call_id for x in ctx.repeats.values()}
    return {
        "night": night, "calls": n, "mean": round(sum(r.score.score for r in results) / n, 1) if n else 0.0,
        "machine_mean": round(sum(r.score.score for r in machine) / n, 1) if n else 0.0,
        "reviewed": len(ctx.reviewed), "score_basis": score_basis(len(ctx.reviewed), n),
        "pass_rate": sum(r.score.passed for r in results) / n if n else 0.0,
        "fatal": sum(r.score.fatal for r in results), "pending_review": sum(r.score.pending_review for r in results),
        "queued": sum(1 for q in queue if not q.calibration), "calibration": sum(1 for q in queue if q.calibration),
        "repeats": len(ctx.repeats), "repeat_complaints": len(ctx.repeat_complaints),
        "pass_line": results[0].score.pass_line if results else 80.0,
        "scorecard": results[0].score.scorecard if results else "", "redacted": redacted,
        "fcr": (sum(1 for c in ctx.contacts if c.call_id not in repeated) / len(ctx.contacts)) if ctx.tonight else None,
    }


def _voc_page(shown: list[CallResult], out: Path, night: str, opts: ReportOptions, team_of: Callable[[CallResult], str],
              repeats: dict[str, Contact]) -> Any:
    """The voice-of-the-customer page (:mod:`qc.voc`); a broken taxonomy costs the page, not the night."""
    from qc.voc.report import write_voc_report
    from qc.voc.taxonomy import TaxonomyError

    try:
        return write_voc_report(shown, out, night, db=opts.db, taxonomy=None if opts.voc in (None, True) else opts.voc,
                                team_of=team_of, repeats=set(repeats), call_pages=opts.call_pages)
    except TaxonomyError as e:
        import logging

        logging.getLogger(__name__).error("no VOC page: %d problem(s) in the taxonomy:\n%s", len(e.errors), e)
        return None


def write_reports(results: list[CallResult], out_dir: str | Path, options: ReportOptions | None = None, **kwargs: Any) -> NightReport:
    """Write the night report, call and agent pages, exports and (with ``db``) history.

    Args:
        results: the night's call results (e.g. from :func:`qc.run.store.load_call_results`).
        out_dir: folder to write into (created).
        options: a :class:`ReportOptions`; keyword arguments override its fields.

    Returns:
        A :class:`NightReport` with the queue, agent scorecards and written files.
    """
    opts = dataclasses.replace(options or ReportOptions(), **kwargs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    night = opts.night or _night_default(results)
    team_of = opts.team_of or team_of_call
    results = sorted(results, key=lambda r: r.call_id)
    ctx = _night_context(results, night, opts, team_of)

    shown = [redact_result(r) for r in results] if opts.redact else results
    queue = build_queue(
        shown, limit=opts.queue_limit, calibration=opts.calibration,
        seed=opts.seed if opts.seed is not None else night, repeat_complaints=ctx.repeat_complaints, team_of=team_of,
        rule_precision={p.rule: rule_precision_estimate(p.confirmed, p.false_positive) for p in ctx.precision},
    )
    cards = ctx.masked_cards if opts.redact else ctx.raw_cards
    notes = {k: (v, redact_text(n)) for k, (v, n) in ctx.notes.items()} if opts.redact else ctx.notes
    failures = [(cid, src, redact_text(err) if opts.redact else err) for cid, src, err in opts.failures]

    tables = night_tables(shown, cards, queue, ctx.repeats, notes, team_of, failures, ctx.reviewers)
    written = write_exports(out, tables, cards, [d.name for d in results[0].score.dimensions] if results else [])

    # the night's averages, Pareto and teams count a call's reviewed score where a reviewer submitted one
    scored = [dataclasses.replace(r, score=ctx.reviewed[r.call_id]) if r.call_id in ctx.reviewed else r for r in results]
    summary = _summary(scored, queue, ctx, night, opts.redact, results)
    pareto = pareto_rows(scored)
    teams = team_rows(scored, team_of, ctx.fcr_team, ctx.team_trends, {r.call_id: r.score.score for r in results if r.call_id in ctx.reviewed})
    write_json(out / "night.json", {
        "summary": summary,
        "calls": [{"call_id": r.call_id, "agent_id": r.transcript.agent_id, "team": team_of(r), "score": to_dict(r.score),
                   "repeat_of": ctx.repeats[r.call_id].call_id if r.call_id in ctx.repeats else None,
                   "reviewed_score": ctx.reviewers[r.call_id].score if r.call_id in ctx.reviewers else None,
                   "reviewer": ctx.reviewers[r.call_id].reviewer if r.call_id in ctx.reviewers else None} for r in shown],
        "queue": [dataclasses.asdict(q) for q in queue],
        "agents": [to_dict(c) for c in cards],
        "teams": [{k: v for k, v in t.items() if k != "trend"} for t in teams],
        "pareto": pareto,
        "rule_precision": [{"rule": p.rule, "confirmed": p.confirmed, "false_positive": p.false_positive,
                            "precision": p.precision, "cries_wolf": p.cries_wolf} for p in ctx.precision],
        "priority_points": PRIORITY_POINTS, "complaint_points": COMPLAINT_POINTS,
        "failed": [{"call_id": cid, "source": src, "error": err} for cid, src, err in failures],
    })
    written.append(out / "night.json")

    voc = _voc_page(shown, out, night, opts, team_of, ctx.repeats) if opts.voc is not False else None
    written += voc.files if voc else []

    env = report_env()
    css = env.get_template("style.css.j2").render()
    by_id = {r.call_id: r for r in shown}
    priority = {q.call_id: q for q in queue}
    pass_line = summary["pass_line"]
    index = write_index(
        env, out, css, s=summary, queue=[q for q in queue if not q.calibration][: opts.queue_on_page],
        queue_total=summary["queued"], calibration=[q for q in queue if q.calibration], cards=cards, teams=teams,
        pareto=pareto[:20], precision=ctx.precision, repeats=[(k, v, by_id[k]) for k, v in sorted(ctx.repeats.items())],
        repeat_complaints=ctx.repeat_complaints, priority_points=PRIORITY_POINTS, complaint_points=COMPLAINT_POINTS,
        fcr_target=FCR_TARGET, call_pages=opts.call_pages, failures=failures, voc_page=voc.page.name if voc else None,
        chart_hist=charts.histogram([r.score.score for r in scored], pass_line),
        chart_pareto=charts.pareto([(x["rule"], x["points"]) for x in pareto]),
        chart_teams=charts.bars([(t["team"], t["mean"]) for t in teams], target=pass_line),
    )
    written.append(index)
    written += write_agent_pages(env, out, css, cards, shown, summary, priority, opts.call_pages, FCR_TARGET, ctx.reviewers)
    if opts.call_pages:
        write_call_pages(env, out, css, shown, summary, priority, ctx.repeats, ctx.verdicts, notes, team_of, ctx.reviewers)
    return NightReport(out, night, index, queue, cards, ctx.precision, ctx.repeats, written, voc)
