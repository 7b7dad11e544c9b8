"""`qc scorecard check`, `qc report`, `qc agent`, `qc review import` (issue 5)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from qc.commands.base import DB_HELP, app, _db, _fail, _shipped_rules, _shown


review_app = typer.Typer(help="Human reviewer verdicts on machine findings.", no_args_is_help=True)
app.add_typer(review_app, name="review")


scorecard_app = typer.Typer(help="Check scorecard files (for CI).", no_args_is_help=True)
app.add_typer(scorecard_app, name="scorecard")
def _load_card_checked(scorecard: Optional[Path], rules: Optional[Path]):
    from qc.rules import load_rules
    from qc.scoring import ScorecardError, default_scorecard_path, load_scorecard

    path = scorecard or default_scorecard_path()
    ruleset = load_rules(_shipped_rules(rules))
    try:
        return load_scorecard(path, rules=ruleset)
    except ScorecardError as e:
        _fail(f"{len(e.errors)} problem(s) in the scorecard:\n{e}", 1)


@scorecard_app.command("check")
def scorecard_check(
    files: List[Path] = typer.Argument(..., help="Scorecard YAML files."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Rule file or folder whose codes items must reference (default: the shipped rules)."),
) -> None:
    """Validate scorecards strictly; print every problem as file:line:col: CODE message."""
    for f in files:
        card = _load_card_checked(f, rules)
        typer.echo(f"{f}: ok ({len(card.items)} items, {card.total:g} points, pass line {card.pass_line:g})")


@app.command("report")
def report(
    results_dir: Path = typer.Argument(..., help="Folder the night batch wrote (holds calls/*.json)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the reports."),
    night: Optional[str] = typer.Option(None, "--night", help="Night as YYYY-MM-DD (default: from the calls' metadata, else today)."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database: trends, repeat contacts, verdicts ({DB_HELP})."),
    no_history: bool = typer.Option(False, "--no-history", help="Do not read or write the history database."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Show ID-card, phone, bank-card numbers and addresses unmasked (never in the history database)."),
    scorecard: Optional[Path] = typer.Option(None, "--scorecard", help="Re-score every call with this scorecard (checked against --rules)."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Rules the scorecard must match (default: the shipped rules)."),
    calibration: float = typer.Option(0.05, "--calibration", help="Random clean calls for calibration: a fraction (<1) or a count."),
    seed: Optional[str] = typer.Option(None, "--seed", help="Seed for the calibration sample (default: the night)."),
    repeat_days: int = typer.Option(7, "--repeat-days", help="A call from the same customer within this many days is a repeat contact."),
    queue_limit: Optional[int] = typer.Option(None, "--queue-limit", help="Keep at most this many calls in the ranked queue."),
) -> None:
    """Write the night report, per-call and per-agent pages, CSV/Excel/JSON exports, and history."""
    from qc.report import write_reports
    from qc.run.store import ResultsError, load_call_results

    try:
        results = load_call_results(results_dir)
    except ResultsError as e:
        _fail(str(e))
    if scorecard is not None:
        from qc.scoring import score_call

        card = _load_card_checked(scorecard, rules)
        for r in results:
            r.score = score_call(r.transcript, r.inspection, r.emotion, card)
    if night is not None:
        import re

        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", night):
            _fail(f"--night {night!r}: write the night as YYYY-MM-DD")
    calib = int(calibration) if calibration >= 1 else calibration
    failures = []
    summary_file = results_dir / "night_summary.json"  # the night batch's list of files it could not score
    if summary_file.is_file():
        import json

        try:
            failures = [(f["call_id"], f["source"], f["error"]) for f in json.loads(summary_file.read_text(encoding="utf-8")).get("failures", [])]
        except (ValueError, KeyError, TypeError, OSError):
            typer.echo(f"warning: {summary_file}: unreadable; the report will not list the files the night could not score", err=True)
    from qc.report.history import HistoryError

    try:
        rep = write_reports(
            results, out, night=night, db=None if no_history else _db(db), redact=not no_redact,
            calibration=calib, seed=seed, repeat_window_days=repeat_days, queue_limit=queue_limit, failures=failures,
        )
    except HistoryError as e:
        _fail(str(e), 1)
    except OSError as e:  # ExportError names the file; a folder that cannot be made names itself
        _fail(str(e) if e.filename is None else f"{e.filename}: cannot write ({e.strerror}); free disk space or choose another --out", 1)
    queued = sum(1 for q in rep.queue if not q.calibration)
    typer.echo(f"{rep.index}  ({len(results)} calls, {queued} to re-review, {len(rep.agents)} agents, night {rep.night})")


@app.command("agent")
def agent(
    agent_id: str = typer.Argument(..., help="Agent id (工号)."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database written by qc score / qc report ({DB_HELP})."),
    night: Optional[str] = typer.Option(None, "--night", help="Night YYYY-MM-DD (default: the agent's latest)."),
) -> None:
    """Print an agent's scorecard and trend in the terminal."""
    from rich.console import Console
    from rich.table import Table

    from qc.report.history import History

    db = _db(db)
    if not db.exists():
        _fail(f"{db}: no history database; run qc score or qc report first (or pass --db / set QC_DB)")
    with History(db) as h:
        card = h.agent_card(agent_id, night)
        known = h.agents()
    if card is None:
        from qc.yamlfile import did_you_mean

        _fail(f"agent {agent_id!r} has no scorecard in {db}{' for ' + night if night else ''}{did_you_mean(agent_id, known)}")
    from qc.report.redact import redact_card

    card = redact_card(card)  # stored masked; an older database may not be
    card.team = _shown(card.team)
    console = Console()
    fcr = "—" if card.fcr is None else f"{100 * card.fcr:.1f}%"
    console.print(f"[bold]{card.agent_id}[/bold]  {card.team}  {card.night}")
    console.print(f"通话 {card.calls}  平均分 {card.mean_score}  合格率 {100 * card.pass_rate:.1f}%  一票否决 {card.fatal_calls}  "
                  f"组内排名 {card.rank_in_team}/{card.team_size}  首次解决率 {fcr}")
    if card.reviewed_calls:  # the averages count reviewed scores (qc serve) where they exist
        console.print(f"平均分按复核分优先: 已复核 {card.reviewed_calls}/{card.calls} 通, 机器平均分 {card.machine_mean_score}")
    else:
        console.print("平均分按机器得分 (没有复核)")
    dims = Table(title="维度得分率")
    dims.add_column("维度")
    dims.add_column("得分率", justify="right")
    for name, value in card.dimensions.items():
        dims.add_row(name, f"{value:.1f}%")
    console.print(dims)
    top = Table(title="主要问题")
    for col in ("规则", "评分项", "次数", "扣分", "示例"):
        top.add_column(col)
    for v in card.top_violations:
        ex = v.examples[0] if v.examples else None
        top.add_row(v.rule, v.item, str(v.hits), f"{v.points:g}", f"{ex.call_id} {ex.text}" if ex else "")
    console.print(top)
    trend = Table(title="趋势")
    for col in ("日期", "平均分", "通话"):
        trend.add_column(col)
    for n, s, c in card.trend:
        trend.add_row(n, f"{s:.1f}", str(c))
    console.print(trend)


@review_app.command("import")
def review_import(
    verdicts: Path = typer.Argument(..., help="CSV with call_id, rule, verdict (confirmed|false_positive), note."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database ({DB_HELP})."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite stored verdicts that differ (and let a file's last row win)."),
) -> None:
    """Store reviewer verdicts beside the machine results (calls and rules must be in the history database)."""
    from qc.report.history import History, HistoryError

    db = _db(db)
    if not db.is_file():
        _fail(f"{db}: no history database; run qc report --db {db} on the night first", 1)
    try:
        with History(db) as h:
            n = h.import_verdicts(verdicts, replace=replace)
            worst = [p for p in h.rule_precision() if p.cries_wolf]
    except HistoryError as e:
        _fail(str(e), 1)
    typer.echo(f"{n} verdicts stored in {db}")
    for p in worst:
        typer.echo(f"warning: {p.rule} precision {100 * p.precision:.0f}% over {p.reviewed} verdicts: the rule cries wolf", err=True)
