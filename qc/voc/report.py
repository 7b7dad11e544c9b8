"""The VOC page of the night report: ``voc.html``, ``voc.xlsx`` (a sheet per department) and ``voc.json``.

:func:`write_voc_report` tags the night's calls, stores them in the history database (when given),
tests every tag and department for a spike against its own history, opens or refreshes closed-loop
items for the spikes, clusters the untagged reasons into emerging topics, and writes the page with
the report's own inline SVG charts: every bar links to the customer quotes behind it.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Callable

from qc.voc.model import CallVoc
from qc.voc.store import CallFlags, LoopItem, VocStore
from qc.voc.tagging import clean_text, tag_call
from qc.voc.taxonomy import Taxonomy, load_taxonomy
from qc.voc.topics import Topic, emerging_topics
from qc.voc.trends import Spike, detect_spikes, lift, pareto, period_change, quadrants, week_of, weekly

__all__ = ["VocReport", "write_voc_report", "call_flags"]

log = logging.getLogger(__name__)
QUOTES_PER_TAG = 5


@dataclass
class VocReport:
    """What :func:`write_voc_report` wrote and found."""

    page: Path
    xlsx: Path
    vocs: list[CallVoc]
    spikes: list[Spike] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    items: list[LoopItem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def call_flags(result: Any, team: str, repeats: set[str]) -> CallFlags:
    """Dissatisfaction (angry customer or a complaint), repeat contact and risk (a risk flag or a risk
    rule finding) of a call result, for lift and the four quadrants."""
    e = getattr(result, "emotion", None)
    inspection = getattr(result, "inspection", None)
    dissatisfied = bool(e is not None and (e.customer_angry or e.complaint is not None))
    risk = bool(e is not None and e.risks) or bool(inspection is not None and any(f.kind == "risk" for f in inspection.findings))
    return CallFlags(team=team, dissatisfied=dissatisfied, repeat=result.call_id in repeats, risk=risk)


def _trigger_text(result: Any, voc: CallVoc) -> str:
    us = result.transcript.utterances
    return " ".join(clean_text(us[i].text) for i in voc.trigger if i < len(us))


def write_voc_report(
    results: list[Any],
    out_dir: str | Path,
    night: str,
    db: str | Path | None = None,
    taxonomy: Taxonomy | str | Path | None = None,
    team_of: Callable[[Any], str] | None = None,
    repeats: set[str] | None = None,
    call_pages: bool = True,
    topic_seed: int = 0,
) -> VocReport:
    """Tag the night, update trends, spikes and the loop in ``db``, and write the VOC page and workbook.

    Args:
        results: the night's call results (already redacted if the report is).
        out_dir: the night report's folder; ``voc.html`` goes beside ``index.html``.
        night: YYYY-MM-DD.
        db: the history database (trends, spikes and the loop need it; without it, tonight only).
        taxonomy: a loaded taxonomy or its path (default: :func:`qc.voc.default_taxonomy_path`).
        team_of: the report's team of a call (for team-vs-team).
        repeats: ids of tonight's repeat contacts.

    Raises:
        TaxonomyError: the taxonomy file is broken (file:line:col for every problem).
    """
    out = Path(out_dir)
    tax = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
    team_of = team_of or (lambda r: str(r.transcript.meta.get("team") or "未分组"))
    repeats = repeats or set()
    vocs = [tag_call(r.transcript, tax, getattr(r, "emotion", None)) for r in results]
    by_id = {r.call_id: r for r in results}
    flags = {r.call_id: call_flags(r, team_of(r), repeats) for r in results}
    tags = {t.code: t for t in tax}

    # --- history: store tonight, read the series back ---
    series: dict[str, dict[str, int]] = {}
    dseries: dict[str, dict[str, int]] = {}
    calls: dict[str, int] = {night: len(vocs)}
    spikes: list[Spike] = []
    items: list[LoopItem] = []
    untagged = [v for v in vocs if not v.tags]
    topics = emerging_topics([(v.call_id, _trigger_text(by_id[v.call_id], v)) for v in untagged], seed=topic_seed)
    if db is not None:
        with VocStore(db) as store:
            store.record_night(night, vocs, flags)
            store.record_topics(night, topics)
            calls = {n: c for n, c in store.nights() if n <= night}
            series = {k: {n: c for n, c in v.items() if n <= night} for k, v in store.tag_counts().items()}
            dseries = {k: {n: c for n, c in v.items() if n <= night} for k, v in store.department_counts().items()}
            for code in tags:
                series.setdefault(code, {})
            spikes = detect_spikes({k: v for k, v in series.items() if k in tags}, calls, night)
            dept_spikes = detect_spikes(dseries, calls, night)
            for s in spikes:
                t = tags[s.key]
                store.raise_item("spike", t.code, t.department,
                                 f"{t.label}（{t.code}）突增：{s.count} 通，预期 {s.expected:.1f} 通", night)
            items = store.items()
    else:
        dept_spikes = []
        for v in vocs:
            for t in v.tags:
                series.setdefault(t.code, {}).setdefault(night, 0)
                series[t.code][night] += 1
        for code in tags:
            series.setdefault(code, {})

    # --- tonight's table per tag ---
    n = len(vocs) or 1
    codes_of = {v.call_id: set(v.codes) for v in vocs}
    order = [v.call_id for v in vocs]
    wseries, wcalls = weekly(series, calls)
    week = week_of(night)
    dissat_all = [flags[c].dissatisfied for c in order]
    overall_dissat = sum(dissat_all) / n
    spiked = {s.key: s for s in spikes}
    tag_rows = []
    for code, t in tags.items():
        members = [v for v in vocs if code in codes_of[v.call_id]]
        has = [code in codes_of[c] for c in order]
        quotes = []
        for v in members[:QUOTES_PER_TAG]:
            hit = next(h for h in v.tags if h.code == code)
            ev = hit.evidence
            quotes.append({"call_id": v.call_id, "start": ev.start if ev else None, "text": (ev.text if ev else v.reason)[:120],
                           "reason": v.quote(), "resolved": v.resolved})
        night_change = period_change(series.get(code, {}), calls, night)
        week_change = period_change(wseries.get(code, {}), wcalls, week)
        row = {
            "code": code, "label": t.label, "stage": t.stage, "department": t.department, "count": len(members),
            "share": len(members) / n, "unresolved": (sum(not v.resolved for v in members) / len(members)) if members else None,
            "dissatisfied": (sum(flags[v.call_id].dissatisfied for v in members) / len(members)) if members else None,
            "lift_dissatisfied": lift(has, dissat_all)[0],
            "lift_repeat": lift(has, [flags[c].repeat for c in order])[0],
            "lift_risk": lift(has, [flags[c].risk for c in order])[0],
            "night_change": night_change["change"], "week_change": week_change["change"],
            "spike": spiked.get(code), "quotes": quotes,
            "trend": [(nn, 100.0 * series.get(code, {}).get(nn, 0) / calls[nn]) for nn in sorted(calls)[-30:] if calls[nn]],
        }
        tag_rows.append(row)
    quad = quadrants({r["code"]: (r["count"], r["dissatisfied"] or 0.0) for r in tag_rows if r["count"]}, overall_dissat)
    for r in tag_rows:
        r["quadrant"] = quad.get(r["code"], "")
    tag_rows.sort(key=lambda r: (-r["count"], r["code"]))

    # --- departments: Pareto of their tags ---
    dept_rows = []
    depts = list(dict.fromkeys([*tax.departments, *(t.department for t in tax)]))
    for d in depts:
        rows = [r for r in tag_rows if r["department"] == d]
        dcalls = sum(1 for v in vocs if d in v.departments)
        dept_rows.append({
            "department": d, "calls": dcalls, "share": dcalls / n,
            "unresolved": (sum(1 for v in vocs if d in v.departments and not v.resolved) / dcalls) if dcalls else None,
            "pareto": pareto({r["code"]: r["count"] for r in rows if r["count"]}),
            "labels": {r["code"]: r["label"] for r in rows},
            "items": [i for i in items if i.department == d],
            "spike": next((s for s in dept_spikes if s.key == d), None),
        })
    dept_rows.sort(key=lambda r: (-r["calls"], r["department"]))

    # --- team vs team: share of each top tag per team ---
    teams: dict[str, list[str]] = defaultdict(list)
    for v in vocs:
        teams[flags[v.call_id].team].append(v.call_id)
    top_codes = [r["code"] for r in tag_rows if r["count"]][:8]
    team_rows = [{"team": tm, "calls": len(ids), "shares": [sum(1 for c in ids if code in codes_of[c]) / len(ids) for code in top_codes]}
                 for tm, ids in sorted(teams.items())]

    summary = {
        "night": night, "calls": len(vocs), "tagged": sum(1 for v in vocs if v.tags) / n,
        "unresolved": sum(1 for v in vocs if not v.resolved) / n,
        "model_resolution": sum(1 for v in vocs if v.resolution_source == "model"),
        "spikes": len(spikes), "open_items": len(items), "topics": len(topics), "history_nights": len(calls),
        "db": db is not None, "taxonomy": ", ".join(tax.files), "tags": len(tax),
    }
    page = out / "voc.html"
    page.write_text(_render(summary, tag_rows, dept_rows, spikes, dept_spikes, items, topics, team_rows, top_codes, tags,
                            vocs, call_pages, overall_dissat), encoding="utf-8")
    xlsx = out / "voc.xlsx"
    _write_xlsx(xlsx, vocs, tax, tag_rows, dept_rows, items, topics, by_id)
    from qc.report.exports import write_json

    write_json(out / "voc.json", {
        "summary": summary,
        "calls": [v.to_dict() for v in vocs],
        "tags": [{k: v for k, v in r.items() if k not in ("spike", "quotes", "trend")} | {"spike": r["spike"] is not None} for r in tag_rows],
        "spikes": [s.__dict__ for s in spikes + dept_spikes],
        "topics": [{k: v for k, v in t.__dict__.items()} for t in topics],
        "items": [i.__dict__ for i in items],
    })
    return VocReport(page, xlsx, vocs, spikes, topics, items, [page, xlsx, out / "voc.json"])


# --- charts (qc.report.charts' SVG; every bar and dot links to its quotes) ---


def _tag_bars(rows: list[dict[str, Any]], width: int = 640) -> str:
    from qc.report.charts import svg

    rows = [r for r in rows if r["count"]][:20]
    row_h = 22
    height = row_h * max(1, len(rows)) + 12
    label_w, plot_w = 150, width - 230
    top = max((r["count"] for r in rows), default=1) or 1
    body = []
    for i, r in enumerate(rows):
        y = 6 + i * row_h
        w = plot_w * r["count"] / top
        color = "#d9534f" if r["spike"] else "#5b9bd5"
        quote = r["quotes"][0]["text"] if r["quotes"] else ""
        body.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(r["label"][:12])}</text>')
        body.append(f'<a href="#tag-{r["code"]}"><rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{color}">'
                    f'<title>{escape(r["label"])}: {r["count"]} 通 — “{escape(quote[:60])}”</title></rect></a>')
        body.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 14}">{r["count"]} ({100 * r["share"]:.1f}%)</text>')
    return svg(width, height, body, "标签分布")


def _quadrant(rows: list[dict[str, Any]], overall: float, width: int = 520, height: int = 320) -> str:
    from qc.report.charts import svg

    pts = [r for r in rows if r["count"]]
    if not pts:
        return ""
    left, bottom, plot_w, plot_h = 44, height - 34, width - 70, height - 60
    vmax = max(r["count"] for r in pts)
    vols = sorted(r["count"] for r in pts)
    mid = vols[len(vols) // 2]
    body = [f'<rect x="{left}" y="{bottom - plot_h}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#888"/>']
    mx = left + plot_w * mid / vmax
    my = bottom - plot_h * overall
    body.append(f'<line x1="{mx:.1f}" y1="{bottom - plot_h}" x2="{mx:.1f}" y2="{bottom}" stroke="#bbb" stroke-dasharray="4 3"/>')
    body.append(f'<line x1="{left}" y1="{my:.1f}" x2="{left + plot_w}" y2="{my:.1f}" stroke="#bbb" stroke-dasharray="4 3"/>')
    for label, x, y, anchor in (("优先改进", left + plot_w - 4, bottom - plot_h + 14, "end"), ("重点关注", left + 4, bottom - plot_h + 14, "start"),
                                ("效率优化", left + plot_w - 4, bottom - 6, "end"), ("保持观察", left + 4, bottom - 6, "start")):
        body.append(f'<text x="{x}" y="{y}" text-anchor="{anchor}" fill="#999">{label}</text>')
    for r in pts:
        x = left + plot_w * r["count"] / vmax
        y = bottom - plot_h * (r["dissatisfied"] or 0.0)
        body.append(f'<a href="#tag-{r["code"]}"><circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#f0ad4e">'
                    f'<title>{escape(r["label"])}: {r["count"]} 通, 不满 {100 * (r["dissatisfied"] or 0):.0f}%</title></circle></a>')
        body.append(f'<text x="{x + 6:.1f}" y="{y + 4:.1f}">{escape(r["label"][:8])}</text>')
    body.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">来电量（通）</text>')
    body.append(f'<text x="12" y="{bottom - plot_h / 2}" transform="rotate(-90 12 {bottom - plot_h / 2})" text-anchor="middle">不满率</text>')
    body.append(f'<text x="{left - 4}" y="{bottom - plot_h + 4}" text-anchor="end">100%</text><text x="{left - 4}" y="{bottom}" text-anchor="end">0</text>')
    return svg(width, height, body, "四象限")


def _render(summary, tag_rows, dept_rows, spikes, dept_spikes, items, topics, team_rows, top_codes, tags, vocs, call_pages, overall) -> str:
    from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

    from qc.report.pages import page_name
    from qc.report.charts import line
    from qc.report.charts import pareto as pareto_chart

    # the VOC templates first, then the night report's (its stylesheet, style.css.j2)
    env = Environment(loader=ChoiceLoader([PackageLoader("qc.voc", "templates"), PackageLoader("qc.report", "templates")]), autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.1f}%"
    env.filters["pts"] = lambda v: "—" if v is None else f"{100 * v:+.1f}"
    env.filters["lift"] = lambda v: "—" if v is None else f"{v:.2f}"
    env.filters["ts"] = lambda s: "" if s is None else f"{int(s) // 60:02d}:{int(s) % 60:02d}"
    env.filters["page"] = page_name
    css = env.get_template("style.css.j2").render()
    return env.get_template("voc.html.j2").render(
        css=css, s=summary, tags=tag_rows, depts=dept_rows, spikes=spikes, dept_spikes=dept_spikes, items=items, topics=topics,
        teams=team_rows, top_codes=top_codes, tag_labels={c: t.label for c, t in tags.items()}, call_pages=call_pages,
        chart_tags=_tag_bars(tag_rows), chart_depts=pareto_chart([(d["department"], d["calls"]) for d in dept_rows if d["calls"]], unit="通"),
        chart_quadrant=_quadrant(tag_rows, overall) if any(r["dissatisfied"] for r in tag_rows) else "", trends={r["code"]: line(r["trend"], title="占比趋势") for r in tag_rows if r["count"] or r["spike"]},
        untagged=[v for v in vocs if not v.tags][:20],
    )


def _write_xlsx(path: Path, vocs, tax, tag_rows, dept_rows, items, topics, by_id) -> None:
    from qc.report.exports import write_xlsx

    pct = lambda v: "" if v is None else round(100 * v, 1)  # noqa: E731
    sheets = []
    used: set[str] = set()
    for d in dept_rows:
        name = re.sub(r"[\\/?*\[\]:]", "_", d["department"])[:28] or "未分配"
        while name in used:
            name += "_"
        used.add(name)
        rows = [[r["code"], r["label"], r["stage"], r["count"], pct(r["share"]), pct(r["unresolved"]), pct(r["night_change"]),
                 pct(r["week_change"]), "是" if r["spike"] else "", r["quadrant"], "", "", "", ""]
                for r in tag_rows if r["department"] == d["department"]]
        for v in vocs:
            for t in v.tags:
                if t.department == d["department"]:
                    ev = t.evidence
                    rows.append(["", "", "", "", "", "", "", "", "", "", v.call_id, t.code, "" if ev is None or ev.start is None else ev.start,
                                 (ev.text if ev else v.reason)[:200]])
        for i in d["items"]:
            rows.append([f"#{i.id}", i.title, i.status, "", "", "", "", "", "", "", "", i.tag or "", i.opened, i.note])
        sheets.append((name, ["标签", "名称", "旅程阶段", "来电量", "占比%", "未解决%", "环比(百分点)", "周环比(百分点)", "突增", "象限",
                              "通话", "标签编号", "时间(秒)", "客户原话"], rows))
    sheets.append(("闭环跟踪", ["编号", "类型", "标签", "责任部门", "事项", "状态", "备注", "首次", "最近"],
                   [[i.id, i.kind, i.tag or "", i.department, i.title, i.status, i.note, i.opened, i.last_seen] for i in items]))
    sheets.append(("新话题", ["话题", "通话数", "一致度", "关键词", "示例通话", "示例原话"],
                   [[t.name, t.size, t.coherence, "、".join(t.phrases), ex["call_id"], ex["quote"][:200]] for t in topics for ex in t.examples[:3]]))
    sheets.append(("通话标签", ["通话", "渠道", "标签", "责任部门", "来电原因", "时间(秒)", "未解决概率", "解决状态来源"],
                   [[v.call_id, v.channel, "、".join(v.codes), "、".join(v.departments), v.reason,
                     "" if v.reason_start is None else v.reason_start, v.unresolved, v.resolution_source] for v in vocs]))
    write_xlsx(path, sheets)
