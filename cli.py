"""The `qc` command: a thin typer layer over the `qc` library.

Each command parses its arguments, calls one library function and formats the result.
Heavy modules (Whisper, torch, ray, pandas) are imported inside the commands that need them so
that `qc rules test` starts fast. Logs go to stderr, results to files or stdout.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(
    help="qc: call-quality inspection (智能质检) for contact-centre recordings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
rules_app = typer.Typer(help="Check and test YAML rule files (for CI).", no_args_is_help=True)
emotion_app = typer.Typer(help="Emotion model: score transcripts, recalibrate on your own labels.", no_args_is_help=True)
review_app = typer.Typer(help="Human reviewer verdicts on machine findings.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(emotion_app, name="emotion")
app.add_typer(review_app, name="review")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:  # per-channel VAD chatter from faster-whisper is for debugging, not for QA staff
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging on stderr.")) -> None:
    _setup_logging(verbose)


# --- transcription (issue 2) ---


@app.command()
def transcribe(
    paths: List[Path] = typer.Argument(..., help="Recordings or folders (wav, mp3, m4a, amr, ...)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for one <call_id>.json per call."),
    backend: str = typer.Option("faster-whisper", help="faster-whisper (default, fast) or openai-whisper."),
    model: Optional[str] = typer.Option(
        None, help="Model name (downloads where online) or local path; default: offline Whisper base."
    ),
    meta: Optional[Path] = typer.Option(None, "--meta", help="calls.csv: call_id, agent_id, agent_name, team, ..."),
    pattern: Optional[str] = typer.Option(None, help="File name pattern, e.g. '{agent_id}_{call_id}.wav'."),
    channel_map: str = typer.Option("agent,customer", help="Role of each stereo channel, left first."),
    language: str = typer.Option("zh", help="Spoken language."),
    beam_size: int = typer.Option(5, help="Beam size (1 = greedy, faster)."),
    force: bool = typer.Option(False, "--force", help="Transcribe again even if cached."),
) -> None:
    """Transcribe call recordings into role-tagged transcript JSON files."""
    from qc.asr import transcribe_files
    from qc.ingest import AudioError, MetadataError

    def show(outcome) -> None:
        if outcome.status == "failed":
            typer.echo(f"error: {outcome.error}", err=True)
        else:
            typer.echo(f"{outcome.status:11} {outcome.call_id}  ({outcome.file})", err=True)

    try:
        summary = transcribe_files(
            paths, out, backend=backend, model=model, meta_csv=meta, pattern=pattern,
            channel_map=channel_map, force=force, progress=show, language=language, beam_size=beam_size,
        )
    except (AudioError, MetadataError, ValueError, ImportError) as e:
        _fail(str(e))
    counts = ", ".join(f"{summary.count(s)} {s}" for s in ("transcribed", "cached", "skipped", "failed"))
    typer.echo(f"{len(summary.calls)} calls: {counts}; summary in {out / '_run_summary.json'}")
    if summary.failed:
        raise typer.Exit(1)


# --- rules (issue 3) ---


@rules_app.command("check")
def rules_check(paths: List[Path] = typer.Argument(..., help="Rule files or folders.")) -> None:
    """Validate rule files strictly; print every error as file:line:col: CODE message."""
    from qc.rules import check_rules

    n_errors = n_rules = 0
    for path in paths:
        rules, errors = check_rules(path)
        n_rules += len(rules)
        for e in errors:
            typer.echo(str(e))
        n_errors += len(errors)
    if n_errors:
        typer.echo(f"{n_errors} error(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{n_rules} rule(s) ok", err=True)


@rules_app.command("test")
def rules_test(
    paths: List[Path] = typer.Argument(..., help="Rule files or folders."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print passing cases too."),
) -> None:
    """Run every rule's `tests:` cases; print failures with file:line; exit 1 on any mismatch."""
    from qc.rules import check_rules, run_rule_tests

    failed = total = 0
    for path in paths:
        rules, errors = check_rules(path)
        for e in errors:
            typer.echo(str(e))
        failed += len(errors)
        for result in run_rule_tests(rules):
            total += 1
            if not result.ok:
                failed += 1
            if verbose or not result.ok:
                typer.echo(str(result))
    typer.echo(f"{total - failed if failed <= total else 0}/{total} case(s) passed", err=True)
    if failed:
        raise typer.Exit(1)


@app.command("inspect")
def inspect_cmd(
    transcripts: List[Path] = typer.Argument(..., help="Transcript JSON files or folders of them."),
    rules: Path = typer.Option(Path("rules"), "--rules", "-r", help="Rule file or folder."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write DIR/<call_id>.findings.json per call."),
) -> None:
    """Apply rules to transcripts; print findings as `CODE call_id@mm:ss role: message 「quote」`."""
    from qc.rules import RuleFileError, inspect, load_rules
    from qc.rules.report import finding_lines
    from qc.transcript import TranscriptError, load_transcript, write_json_atomic
    from qc.types import to_dict

    try:
        ruleset = load_rules(rules)
    except RuleFileError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    files: list[Path] = []
    for p in transcripts:
        files.extend(sorted(p.rglob("*.json")) if p.is_dir() else [p])
    files = [f for f in files if not f.name.endswith(".findings.json")]
    bad = 0
    for f in files:
        try:
            transcript = load_transcript(f)
        except TranscriptError as e:
            typer.echo(f"error: {e}", err=True)
            bad += 1
            continue
        result = inspect(transcript, ruleset)
        for line in finding_lines(result):
            typer.echo(line)
        if out is not None:
            write_json_atomic(to_dict(result), out / f"{transcript.call_id}.findings.json")
    if bad:
        raise typer.Exit(2)


# --- emotion (issue 4) ---


@emotion_app.command("score")
def emotion_score(
    transcripts: List[Path] = typer.Argument(..., help="Transcript JSON files.", exists=False),
    model: Optional[Path] = typer.Option(None, "--model", help="Text model file or folder from `qc emotion train` (default: $QC_EMOTION_MODEL or the shipped model)."),
    as_json: bool = typer.Option(False, "--json", help="Print one CallEmotion JSON object per line instead of the summary."),
) -> None:
    """Print each call's emotion summary: negativity, trajectory, volatility, complaint, risks, drivers."""
    import json

    from qc.emotion import analyze_call, summary_lines
    from qc.transcript import TranscriptError, load_transcript
    from qc.types import to_dict

    for path in transcripts:
        try:
            transcript = load_transcript(path)
            call = analyze_call(transcript, model=model)
        except (TranscriptError, FileNotFoundError) as e:
            _fail(str(e))
        if as_json:
            typer.echo(json.dumps(to_dict(call), ensure_ascii=False))
        else:
            typer.echo("\n".join(summary_lines(call)))


@emotion_app.command("train")
def emotion_train(
    labels: Path = typer.Argument(..., help="CSV with columns text,label (negative/neutral/positive, or 1 positive / 0 negative); or call labels: call_id,role,text,dissatisfied,unresolved (one row per utterance)."),
    out: Path = typer.Option(..., "--out", help="Folder for the recalibrated text_model.npz (or call_model.npz for call labels)."),
    base: Optional[Path] = typer.Option(None, "--base", help="Model to start from (default: $QC_EMOTION_MODEL / $QC_CALL_MODEL or the shipped model)."),
) -> None:
    """Recalibrate the text emotion model on your team's own labelled utterances, or the call
    outcome models (dissatisfied, unresolved) on your labelled calls."""
    from qc.emotion.train import LabelFileError, is_call_label_file, recalibrate, recalibrate_calls

    if is_call_label_file(labels):
        try:
            calls = recalibrate_calls(labels, out, base=base)
        except (LabelFileError, FileNotFoundError) as e:
            _fail(str(e))
        for o, r in calls.outcomes.items():
            held = (f"; held-out log loss {r['heldout_log_loss_before']:.3f} before, {r['heldout_log_loss_after']:.3f} after"
                    if r["heldout_log_loss_before"] is not None else "")
            typer.echo(f"{o}: {r['calls']} labelled calls (rate {r['positive_rate']:.2f}), scale {r['scale']:.2f} shift {r['shift']:+.2f}{held}")
        typer.echo(f"-> {calls.out}; use it with: export QC_CALL_MODEL={out}  (or put text_model.npz beside it and use --model {out})")
        return
    try:
        report = recalibrate(labels, out, base=base)
    except (LabelFileError, FileNotFoundError) as e:
        _fail(str(e))
    typer.echo(f"trained on {report.rows} labelled utterances -> {report.out}")
    if report.accuracy_before is not None:
        typer.echo(f"held-out accuracy ({report.heldout} rows): {report.accuracy_before:.3f} before, {report.accuracy_after:.3f} after")
    typer.echo(f"use it with: qc emotion score --model {out} ...  or  export QC_EMOTION_MODEL={out}")


# --- scoring, reports, history, review (issue 5) ---

scorecard_app = typer.Typer(help="Check scorecard files (for CI).", no_args_is_help=True)
app.add_typer(scorecard_app, name="scorecard")
DEFAULT_DB = "history.sqlite"


def _load_card_checked(scorecard: Optional[Path], rules: Optional[Path]):
    from qc.scoring import ScorecardError, default_scorecard_path, load_scorecard

    path = scorecard or default_scorecard_path()
    ruleset = None
    rules_path = rules or (Path("rules") if Path("rules").is_dir() else None)
    if rules_path is not None:
        from qc.rules import load_rules

        ruleset = load_rules(rules_path)
    try:
        return load_scorecard(path, rules=ruleset)
    except ScorecardError as e:
        _fail(f"{len(e.errors)} problem(s) in the scorecard:\n{e}", 1)


@scorecard_app.command("check")
def scorecard_check(
    files: List[Path] = typer.Argument(..., help="Scorecard YAML files."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Rule file or folder whose codes items must reference (default: ./rules if present)."),
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
    db: Optional[Path] = typer.Option(Path(DEFAULT_DB), "--db", help="History database (trends, repeat contacts, verdicts)."),
    no_history: bool = typer.Option(False, "--no-history", help="Do not read or write the history database."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Show ID-card, phone and bank-card numbers unmasked."),
    scorecard: Optional[Path] = typer.Option(None, "--scorecard", help="Re-score every call with this scorecard (checked against --rules)."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Rules the scorecard must match (default: ./rules if present)."),
    calibration: float = typer.Option(0.05, "--calibration", help="Random clean calls for calibration: a fraction (<1) or a count."),
    seed: Optional[str] = typer.Option(None, "--seed", help="Seed for the calibration sample (default: the night)."),
    repeat_days: int = typer.Option(7, "--repeat-days", help="A call from the same customer within this many days is a repeat contact."),
    queue_limit: Optional[int] = typer.Option(None, "--queue-limit", help="Keep at most this many calls in the ranked queue."),
) -> None:
    """Write the night report, per-call and per-agent pages, CSV/Excel/JSON exports, and history."""
    from qc.report import write_reports
    from qc.results import ResultsError, load_call_results

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
    rep = write_reports(
        results, out, night=night, db=None if no_history else db, redact=not no_redact,
        calibration=calib, seed=seed, repeat_window_days=repeat_days, queue_limit=queue_limit,
    )
    queued = sum(1 for q in rep.queue if not q.calibration)
    typer.echo(f"{rep.index}  ({len(results)} calls, {queued} to re-review, {len(rep.agents)} agents, night {rep.night})")


@app.command("agent")
def agent(
    agent_id: str = typer.Argument(..., help="Agent id (工号)."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="History database written by qc report."),
    night: Optional[str] = typer.Option(None, "--night", help="Night YYYY-MM-DD (default: the agent's latest)."),
) -> None:
    """Print an agent's scorecard and trend in the terminal."""
    from rich.console import Console
    from rich.table import Table

    from qc.history import History

    if not db.exists():
        _fail(f"{db}: no history database; run qc report --db {db} first")
    with History(db) as h:
        card = h.agent_card(agent_id, night)
        known = h.agents()
    if card is None:
        from qc.yamlfile import did_you_mean

        _fail(f"agent {agent_id!r} has no scorecard in {db}{' for ' + night if night else ''}{did_you_mean(agent_id, known)}")
    console = Console()
    fcr = "—" if card.fcr is None else f"{100 * card.fcr:.1f}%"
    console.print(f"[bold]{card.agent_id}[/bold]  {card.team}  {card.night}")
    console.print(f"通话 {card.calls}  平均分 {card.mean_score}  合格率 {100 * card.pass_rate:.1f}%  一票否决 {card.fatal_calls}  "
                  f"组内排名 {card.rank_in_team}/{card.team_size}  首次解决率 {fcr}")
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
        ex = v["examples"][0] if v["examples"] else None
        top.add_row(v["rule"], v["item"], str(v["hits"]), f"{v['points']:g}", f"{ex['call_id']} {ex['text']}" if ex else "")
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
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="History database."),
) -> None:
    """Store reviewer verdicts beside the machine results (re-importing a (call, rule) replaces it)."""
    from qc.history import History, HistoryError

    try:
        with History(db) as h:
            n = h.import_verdicts(verdicts)
            worst = [p for p in h.rule_precision() if p.cries_wolf]
    except HistoryError as e:
        _fail(str(e), 1)
    typer.echo(f"{n} verdicts stored in {db}")
    for p in worst:
        typer.echo(f"warning: {p.rule} precision {100 * p.precision:.0f}% over {p.reviewed} verdicts: the rule cries wolf", err=True)


# --- night batch (issue 6) ---


@app.command("score")
def score(
    inputs: List[Path] = typer.Argument(..., help="Recordings or folders of them; or folders of transcript JSON."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for calls/*.json, the report and night_summary.json."),
    meta: Optional[Path] = typer.Option(None, "--meta", help="calls.csv: call_id, agent_id, agent_name, team, started_at, ... (default: calls.csv in the input folder)."),
    pattern: Optional[str] = typer.Option(None, help="File name pattern when there is no calls.csv, e.g. '{agent_id}_{call_id}.wav'."),
    rules: Path = typer.Option(Path("rules"), "--rules", help="Rule file or folder."),
    scorecard: Optional[Path] = typer.Option(None, "--scorecard", help="Scorecard YAML (default: scorecards/default.yaml)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Worker processes (or Ray actors), each with one Whisper model (default: one per core)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads per worker (default: cores / workers)."),
    engine: str = typer.Option("local", "--engine", help="local (processes on this machine) or ray."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (default: a local Ray instance)."),
    backend: str = typer.Option("faster-whisper", help="faster-whisper (default, fast) or openai-whisper."),
    model: Optional[str] = typer.Option(None, help="ASR model name or local path; default: offline Whisper base."),
    channel_map: str = typer.Option("agent,customer", help="Role of each stereo channel, left first."),
    beam_size: int = typer.Option(5, help="Beam size (1 = greedy, faster, a little less accurate)."),
    force: bool = typer.Option(False, "--force", help="Score every call again, even those a previous run finished."),
    db: Optional[Path] = typer.Option(Path(DEFAULT_DB), "--db", help="History database (trends, repeat contacts, verdicts)."),
    no_history: bool = typer.Option(False, "--no-history", help="Do not read or write the history database."),
    no_report: bool = typer.Option(False, "--no-report", help="Score only; write the report later with qc report."),
) -> None:
    """Score a night: transcribe (cached), inspect, emotion, score, then write the report.

    Exit status: 0 every call scored, 1 some calls failed (the rest are scored and reported),
    2 usage error, 130 interrupted (finished calls are kept; run again to resume).
    """
    from qc.batch import UsageError, console_progress, score_night

    try:
        with console_progress() as progress:
            summary = score_night(
                inputs, out, meta=meta, pattern=pattern, rules=rules, scorecard=scorecard, workers=workers,
                threads=threads, engine=engine, address=address, backend=backend, model=model, channel_map=channel_map,
                asr_options={"beam_size": beam_size}, force=force, report=not no_report,
                report_options={"db": None if no_history else db}, progress=progress,
            )
    except UsageError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        typer.echo("interrupted: finished calls are saved; run the same command again to resume", err=True)
        raise typer.Exit(130)
    for line in summary.lines():
        typer.echo(line, err=line.startswith("FAILED"))
    raise typer.Exit(summary.exit_code)


if __name__ == "__main__":
    app()
