"""The HTML pages of a night: ``index.html``, ``agents/<agent>.html`` and ``calls/<call>.html``.

Jinja2 templates from ``qc/report/templates`` with autoescape on; each page carries its CSS and
SVG charts inline (no CDN), and every file is written atomically.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from qc.emotion.summary import mood_label, outcome_text
import qc.report.charts as charts
from qc.report.exports import write_text_atomic
from qc.report.names import (
    COMPLAINT_TYPE_NAMES,
    RISK_NAMES,
    ROLE_NAMES,
    SEVERITY_NAMES,
    STATUS_NAMES,
    TRAJECTORY_NAMES,
)
from qc.run.store import CallResult
from qc.types import AgentScorecard

__all__ = ["page_name", "report_env", "write_agent_pages", "write_call_pages", "write_index"]

_SAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def page_name(key: str) -> str:
    """A safe file name for a call or agent page."""
    return (_SAFE.sub("_", key).strip(".") or "_") + ".html"


def ts(seconds: float | None) -> str:
    """``mm:ss`` for a time in seconds ('' for None)."""
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


def report_env():
    """The Jinja2 environment of the report templates (filters ``ts``, ``pct``, ``page``; the name tables as globals)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("qc.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ts"] = ts
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.1f}%"
    env.filters["page"] = page_name
    env.globals.update(SEVERITY_NAMES=SEVERITY_NAMES, STATUS_NAMES=STATUS_NAMES, ROLE_NAMES=ROLE_NAMES, TRAJECTORY_NAMES=TRAJECTORY_NAMES, mood_label=mood_label, outcome_text=outcome_text,
                       COMPLAINT_TYPE_NAMES=COMPLAINT_TYPE_NAMES, RISK_NAMES=RISK_NAMES)
    return env


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


def write_index(env, out: Path, css: str, **ctx: Any) -> Path:
    """``index.html``: the night report (``ctx``: what ``night.html.j2`` renders)."""
    index = out / "index.html"
    write_text_atomic(index, env.get_template("night.html.j2").render(css=css, **ctx))
    return index


def write_agent_pages(env, out: Path, css: str, cards: list[AgentScorecard], shown: list[CallResult], summary: dict[str, Any],
                      priority: dict[str, Any], call_pages: bool, fcr_target: float, reviewed: dict[str, Any] | None = None) -> list[Path]:
    """One scorecard page per agent under ``agents/``, with its calls worst first (machine score; the reviewed one beside it)."""
    agent_dir = out / "agents"
    agent_dir.mkdir(exist_ok=True)
    tpl = env.get_template("agent.html.j2")
    calls_by_agent: dict[str, list[CallResult]] = defaultdict(list)
    for r in shown:
        if r.transcript.agent_id:
            calls_by_agent[r.transcript.agent_id].append(r)
    pass_line = summary["pass_line"]
    written = []
    for c in cards:
        path = agent_dir / page_name(c.agent_id)
        write_text_atomic(path, tpl.render(
            css=css, c=c, s=summary, calls=sorted(calls_by_agent[c.agent_id], key=lambda r: r.score.score), call_pages=call_pages,
            chart_dims=charts.bars(sorted(c.dimensions.items()), suffix="%"), chart_trend=charts.trend([(t[0], t[1]) for t in c.trend], pass_line),
            fcr_target=fcr_target, priority=priority, reviewed=reviewed or {},
        ))
        written.append(path)
    return written


def write_call_pages(env, out: Path, css: str, shown: list[CallResult], summary: dict[str, Any], priority: dict[str, Any],
                     repeats: dict[str, Any], verdicts: dict[str, dict[str, str]], notes: dict[tuple[str, str], tuple[str, str]],
                     team_of: Any, reviewed: dict[str, Any] | None = None) -> None:
    """One page per call under ``calls/``: transcript by role, findings, the audio player."""
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
            notes=notes_by_call.get(r.call_id, {}), reviewed=(reviewed or {}).get(r.call_id),
        ))
