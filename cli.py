"""The `qc` command: a thin typer layer over the `qc` library.

Each command parses its arguments, calls one library function and formats the result.
Heavy modules (Whisper, torch, ray, pandas) are imported inside the commands that need them so
that `qc rules test` starts fast. Logs go to stderr, results to files or stdout.
"""

from __future__ import annotations

import logging
import os
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
    from qc.report.redact import redact_logs

    redact_logs()  # logs never show personal numbers or addresses (docs/security.md)


def _shown(text: str, raw: bool = False) -> str:
    """Terminal output is masked like the reports unless --no-redact."""
    if raw:
        return text
    from qc.report.redact import redact_text

    return redact_text(text)


def _exit_now(code: int) -> None:
    """Leave without the interpreter's shutdown: after an interrupt everything is saved, and shutting
    down a stopped process pool can print a spurious traceback (Python 3.11) or, during that
    shutdown, let a second Ctrl-C kill the process instead of exiting with ``code``."""
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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
    from qc.run.transcribe import transcribe_files
    from qc.ingest import AudioError, MetadataError

    def show(outcome) -> None:
        if outcome.status == "failed":
            typer.echo(f"error: {outcome.error}", err=True)
        else:
            typer.echo(f"{outcome.status:11} {outcome.call_id}  ({outcome.source})", err=True)

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

    _check_files(paths, check_rules, "rule")


@rules_app.command("test")
def rules_test(
    paths: List[Path] = typer.Argument(..., help="Rule files or folders."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print passing cases too."),
) -> None:
    """Run every rule's `tests:` cases; print failures with file:line; exit 1 on any mismatch."""
    from qc.rules import check_rules, run_rule_tests

    _run_cases(paths, check_rules, run_rule_tests, verbose)


def _check_files(paths: List[Path], check, noun: str) -> None:
    """`qc rules check` / `qc voc check`: every error of every file, then exit 1 if there was one."""
    n_errors = n_items = 0
    for path in paths:
        items, errors = check(path)
        n_items += len(items)
        for e in errors:
            typer.echo(str(e))
        n_errors += len(errors)
    if n_errors:
        typer.echo(f"{n_errors} error(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{n_items} {noun}(s) ok", err=True)


def _run_cases(paths: List[Path], check, run, verbose: bool) -> None:
    """`qc rules test` / `qc voc test`: load errors count as failures; exit 1 on any."""
    failed = total = 0
    for path in paths:
        items, errors = check(path)
        for e in errors:
            typer.echo(str(e))
        failed += len(errors)
        for result in run(items):
            total += 1
            failed += not result.ok
            if verbose or not result.ok:
                typer.echo(str(result))
    typer.echo(f"{max(0, total - failed)}/{total} case(s) passed", err=True)
    if failed:
        raise typer.Exit(1)


@app.command("inspect")
def inspect_cmd(
    transcripts: List[Path] = typer.Argument(..., help="Transcript JSON files or folders of them."),
    rules: Optional[Path] = typer.Option(None, "--rules", "-r", help="Rule file or folder (default: the shipped rules)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write DIR/<call_id>.findings.json per call."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Show ID-card, phone, bank-card numbers and addresses unmasked."),
) -> None:
    """Apply rules to transcripts; print findings as `CODE call_id@mm:ss role: message 「quote」`."""
    from qc.rules import RuleFileError, inspect, load_rules
    from qc.rules.report import finding_lines
    from qc.transcript import TranscriptError, load_transcript, write_json_atomic
    from qc.types import to_dict

    try:
        ruleset = load_rules(_shipped_rules(rules))
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
            typer.echo(_shown(line, no_redact))
        if out is not None:
            from qc.report.redact import redact_data

            data = to_dict(result)
            write_json_atomic(data if no_redact else redact_data(data), out / f"{transcript.call_id}.findings.json")
    if bad:
        raise typer.Exit(2)


@app.command("import-chat")
def import_chat_cmd(
    logs: List[Path] = typer.Argument(..., help="Chat logs: CSV or JSON with sender, time and text (and conversation_id, role)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for one <conversation_id>.json transcript per conversation."),
    agent: List[str] = typer.Option([], "--agent", help="A sender name that is an agent (repeat for several)."),
) -> None:
    """Import chat logs as transcripts (channel chat, message times kept) for `qc inspect` / `qc score`."""
    from qc.chat import ChatLogError, import_chat

    try:
        written = import_chat(logs, out, agents=agent)
    except ChatLogError as e:
        _fail(str(e))
    typer.echo(f"{len(written)} conversation(s) written to {out}", err=True)


# --- emotion (issue 4) ---


@emotion_app.command("score")
def emotion_score(
    transcripts: List[Path] = typer.Argument(..., help="Transcript JSON files.", exists=False),
    model: Optional[Path] = typer.Option(None, "--model", help="Text model file or folder from `qc emotion train` (default: $QC_EMOTION_MODEL or the shipped model)."),
    as_json: bool = typer.Option(False, "--json", help="Print one CallEmotion JSON object per line instead of the summary."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Show ID-card, phone, bank-card numbers and addresses unmasked."),
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
            typer.echo(_shown(json.dumps(to_dict(call), ensure_ascii=False), no_redact))
        else:
            typer.echo(_shown("\n".join(summary_lines(call)), no_redact))


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
DB_HELP = "default: $QC_DB, else history.sqlite in the user data folder (~/.local/share/qc)"


def _db(db: Optional[Path]) -> Path:
    from qc.report.history import default_db_path

    if db is not None:
        return db
    path = default_db_path()
    if Path("history.sqlite").is_file() and Path("history.sqlite").resolve() != path.resolve():
        typer.echo(f"note: using {path}; ./history.sqlite (the old default) is not read: pass --db history.sqlite or set QC_DB", err=True)
    return path


def _shipped_rules(rules: Optional[Path]) -> Path:
    from qc.defaults import rules_path

    return rules if rules is not None else rules_path()


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


# --- night batch (issue 6) ---


@app.command("score")
def score(
    inputs: List[Path] = typer.Argument(..., help="Recordings or folders of them; or folders of transcript JSON."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for calls/*.json, the report and night_summary.json."),
    meta: Optional[Path] = typer.Option(None, "--meta", help="calls.csv: call_id, agent_id, agent_name, team, started_at, ... (default: calls.csv in the input folder)."),
    pattern: Optional[str] = typer.Option(None, help="File name pattern when there is no calls.csv, e.g. '{agent_id}_{call_id}.wav'."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Rule file or folder (default: the shipped rules)."),
    scorecard: Optional[Path] = typer.Option(None, "--scorecard", help="Scorecard YAML (default: the shipped scorecards/default.yaml)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Worker processes (or Ray actors), each with one Whisper model (default: one per core)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads per worker (default: cores / workers)."),
    engine: str = typer.Option("local", "--engine", help="local (processes on this machine) or ray."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (default: a local Ray instance)."),
    backend: str = typer.Option("faster-whisper", help="faster-whisper (default, fast) or openai-whisper."),
    model: Optional[str] = typer.Option(None, help="ASR model name or local path; default: offline Whisper base."),
    channel_map: str = typer.Option("agent,customer", help="Role of each stereo channel, left first."),
    beam_size: int = typer.Option(5, help="Beam size (1 = greedy, faster, a little less accurate)."),
    force: bool = typer.Option(False, "--force", help="Score every call again, even those a previous run finished."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database: trends, repeat contacts, verdicts ({DB_HELP})."),
    no_history: bool = typer.Option(False, "--no-history", help="Do not read or write the history database."),
    no_report: bool = typer.Option(False, "--no-report", help="Score only; write the report later with qc report."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Reports show ID-card, phone, bank-card numbers and addresses unmasked (never in the history database)."),
    max_duration: float = typer.Option(7200.0, "--max-duration", help="Refuse recordings longer than this many seconds, from the file header, before decoding (memory grows with it; 0 = no limit)."),
) -> None:
    """Score a night: transcribe (cached), inspect, emotion, score, then write the report.

    Exit status: 0 every call scored, 1 some calls failed (the rest are scored and reported),
    2 usage error, 130 interrupted (finished calls are kept; run again to resume).
    """
    import os

    from qc.run.night import OutputError, UsageError, score_night
    from qc.run.progress import console_progress

    if max_duration < 0:
        _fail(f"--max-duration must be 0 (no limit) or a number of seconds (got {max_duration:g})")
    os.environ["QC_MAX_DURATION"] = str(max_duration)  # read by decode_audio, in the worker processes too

    try:
        with console_progress() as progress:
            summary = score_night(
                inputs, out, meta=meta, pattern=pattern, rules=_shipped_rules(rules), scorecard=scorecard, workers=workers,
                threads=threads, engine=engine, address=address, backend=backend, model=model, channel_map=channel_map,
                asr_options={"beam_size": beam_size}, force=force, report=not no_report,
                report_options={"db": None if no_history else _db(db), "redact": not no_redact}, progress=progress,
            )
    except (UsageError, OutputError) as e:
        _fail(str(e))
    except KeyboardInterrupt as e:
        typer.echo("interrupted: finished calls are saved; run the same command again to resume", err=True)
        _exit_now(getattr(e, "exit_code", 130))
    for line in summary.lines():
        typer.echo(line, err=line.startswith("FAILED"))
    raise typer.Exit(summary.exit_code)


# --- reviewer workbench (issue 13) ---

users_app = typer.Typer(help="Accounts for the reviewer workbench (qc serve).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Login name (no spaces)."),
    role: str = typer.Option(..., "--role", help="reviewer, lead, agent or admin."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database the workbench serves ({DB_HELP})."),
    team: Optional[str] = typer.Option(None, "--team", help="A lead's team (班组): they see that team only."),
    agent_id: Optional[str] = typer.Option(None, "--agent-id", help="An agent's 工号 (default: the login name)."),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                 envvar="QC_USER_PASSWORD", help="Prompted for when not given (or $QC_USER_PASSWORD)."),
    replace: bool = typer.Option(False, "--replace", help="Change an existing user's role, team or password."),
    unmask: bool = typer.Option(False, "--unmask", help="A reviewer or lead may unmask personal data (logged; admins always may)."),
) -> None:
    """Add a workbench user; the password is stored as a scrypt hash."""
    db = _db(db)
    from qc.serve.store import ReviewStore, StoreError

    try:
        with ReviewStore(db) as store:
            user = store.add_user(name, role, password, team=team, agent_id=agent_id, replace=replace, unmask=unmask)
    except StoreError as e:
        _fail(str(e))
    extra = f", team {user.team}" if user.team else ""
    extra += f", agent id {user.agent_id}" if user.agent_id else ""
    extra += ", may unmask personal data" if user.may_unmask else ""
    typer.echo(f"user {user.name} ({user.role}{extra}) saved in {db}")


@users_app.command("list")
def users_list(db: Optional[Path] = typer.Option(None, "--db", help=f"History database ({DB_HELP}).")) -> None:
    """List workbench users and their roles."""
    db = _db(db)
    from qc.serve.store import ReviewStore

    with ReviewStore(db) as store:
        for u in store.users():
            typer.echo(f"{u.name}\t{u.role}\t{u.team or ''}\t{u.agent_id or ''}{chr(9) + 'unmask' if u.may_unmask else ''}")


@app.command("serve")
def serve(
    nights: List[Path] = typer.Argument(..., help="Night folders (what qc score --out wrote: calls/*.json, night.json)."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database: users, claims, reviews, disputes live here too ({DB_HELP})."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this machine only)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    scorecard: Optional[Path] = typer.Option(None, "--scorecard", help="Scorecard for reviewed scores (default: scorecards/default.yaml)."),
    audio_root: List[Path] = typer.Option([], "--audio-root", help="Another folder the recordings may be served from."),
    secure_cookies: bool = typer.Option(False, "--secure-cookies", help="Mark cookies Secure (when behind an HTTPS proxy)."),
) -> None:
    """Run the reviewer workbench: queue, call review with audio, disputes, calibration."""
    db = _db(db)
    try:
        import uvicorn

        from qc.serve.app import ServeConfig, create_app
    except ImportError as e:
        _fail(f"qc serve needs the serve extra ({e.name} is missing): pip install 'qc[serve]'")
    from qc.scoring import ScorecardError
    from qc.serve.auth import SecretError
    from qc.serve.nights import NightError
    from qc.serve.store import ReviewStore

    with ReviewStore(db) as store:
        if not store.users():
            _fail(f"{db} has no users yet; add one first: qc users add NAME --role admin --db {db}")
    try:
        application = create_app(ServeConfig(nights=list(nights), db=db, scorecard=scorecard, audio_roots=list(audio_root),
                                             secure_cookies=secure_cookies))
    except (NightError, ScorecardError, SecretError) as e:
        _fail(str(e))
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: serving on {host}: anyone who can reach this address sees the login page; use HTTPS in front", err=True)
    typer.echo(f"qc serve: http://{host}:{port}/  ({len(nights)} night(s), database {db})", err=True)
    uvicorn.run(application, host=host, port=port, log_level="warning")


# --- voice of the customer (issue 14) ---

voc_app = typer.Typer(help="Voice of the customer: taxonomy checks, tags, trends and the closed loop.", no_args_is_help=True)
app.add_typer(voc_app, name="voc")


@voc_app.command("check")
def voc_check(paths: List[Path] = typer.Argument(..., help="Taxonomy files or folders (voc/).")) -> None:
    """Validate VOC taxonomy files strictly; print every error as file:line:col: CODE message."""
    from qc.voc import check_taxonomy

    _check_files(paths, check_taxonomy, "tag")


@voc_app.command("test")
def voc_test(
    paths: List[Path] = typer.Argument(..., help="Taxonomy files or folders (voc/)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print passing cases too."),
) -> None:
    """Run every tag's `tests:` cases; print failures with file:line; exit 1 on any mismatch."""
    from qc.voc import check_taxonomy, run_tag_tests

    _run_cases(paths, check_taxonomy, run_tag_tests, verbose)


@voc_app.command("tag")
def voc_tag(
    transcripts: List[Path] = typer.Argument(..., help="Transcript JSON files, folders of them, or a night's results folder."),
    taxonomy: Optional[Path] = typer.Option(None, "--taxonomy", "-t", help="Taxonomy file or folder (default: ./voc or the shipped one)."),
) -> None:
    """Print each call's tags, departments, resolution state and the customer's reason for calling."""
    import json

    from qc.run.store import CallResult
    from qc.transcript import TranscriptError, load_transcript
    from qc.voc import TaxonomyError, load_taxonomy, tag_call

    try:
        tax = load_taxonomy(taxonomy)
    except TaxonomyError as e:
        _fail(f"{len(e.errors)} problem(s) in the taxonomy:\n{e}", 1)
    files: list[Path] = []
    for p in transcripts:
        files.extend(sorted(p.rglob("*.json")) if p.is_dir() else [p])
    bad = 0
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "transcript" in data and "score" in data:  # a night's call result
                r = CallResult.from_dict(data)
                v = tag_call(r.transcript, tax, r.emotion)
            elif isinstance(data, dict) and "utterances" in data:
                v = tag_call(load_transcript(f), tax)
            else:
                continue  # night.json, findings, summaries
        except (TranscriptError, ValueError, KeyError, TypeError) as e:
            typer.echo(f"error: {f}: {e}", err=True)
            bad += 1
            continue
        state = "未解决" if not v.resolved else "已解决"
        typer.echo(f"{v.call_id}\t{','.join(v.codes) or '-'}\t{'、'.join(v.departments) or '-'}\t{state} ({v.unresolved:.2f})\t{v.quote()}")
    if bad:
        raise typer.Exit(2)


def _voc_store(db: Optional[Path]):
    from qc.voc.store import VocStore

    db = _db(db)
    if not db.exists():
        _fail(f"{db}: no history database; run qc score / qc report --db {db} first")
    return VocStore(db)


@voc_app.command("list")
def voc_list(
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database written by qc report ({DB_HELP})."),
    all_: bool = typer.Option(False, "--all", help="Closed items (完结 / 不采纳) too."),
    department: Optional[str] = typer.Option(None, "--department", "-d", help="Only this department's items."),
) -> None:
    """List closed-loop items: spikes and tag issues assigned to departments, with status and note."""
    with _voc_store(db) as store:
        items = store.items(include_closed=all_, department=department)
    if not items:
        typer.echo("no open VOC items" if not all_ else "no VOC items", err=True)
    for i in items:
        typer.echo(f"#{i.id}\t{i.status}\t{i.department}\t{i.title}\t{i.opened}..{i.last_seen}\t{i.note}")


@voc_app.command("update")
def voc_update(
    item: int = typer.Argument(..., help="Item number from `qc voc list`."),
    status: Optional[str] = typer.Option(None, "--status", "-s", help="待办 / 已采纳 / 完结 / 不采纳."),
    note: Optional[str] = typer.Option(None, "--note", "-n", help="What the department decided or did."),
    department: Optional[str] = typer.Option(None, "--department", "-d", help="Re-assign to this department."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database ({DB_HELP})."),
) -> None:
    """Update an item's status, note or department (the change is logged; closed items leave the report)."""
    from qc.voc.store import VocStoreError

    if status is None and note is None and department is None:
        _fail("give --status, --note or --department")
    with _voc_store(db) as store:
        try:
            i = store.update_item(item, status=status, note=note, department=department)
        except VocStoreError as e:
            _fail(str(e), 1)
    typer.echo(f"#{i.id}\t{i.status}\t{i.department}\t{i.title}\t{i.note}")


@voc_app.command("add")
def voc_add(
    tag: str = typer.Argument(..., help="Tag code (e.g. BILL01); its department owns the item."),
    title: str = typer.Argument(..., help="What the department should look at."),
    night: Optional[str] = typer.Option(None, "--night", help="Night YYYY-MM-DD (default: today)."),
    note: str = typer.Option("", "--note", "-n", help="A first note."),
    taxonomy: Optional[Path] = typer.Option(None, "--taxonomy", "-t", help="Taxonomy (default: ./voc or the shipped one)."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database ({DB_HELP})."),
) -> None:
    """Raise a tag issue by hand (a spike raises one itself), assigned to the tag's department as 待办."""
    from datetime import date

    from qc.voc import TaxonomyError, load_taxonomy
    from qc.voc.store import VocStore
    from qc.yamlfile import did_you_mean

    try:
        tax = load_taxonomy(taxonomy)
    except TaxonomyError as e:
        _fail(f"{len(e.errors)} problem(s) in the taxonomy:\n{e}", 1)
    codes = [t.code for t in tax]
    if tag not in codes:
        _fail(f"unknown tag {tag!r}{did_you_mean(tag, codes)}")
    t = tax.get(tag)
    with VocStore(db) as store:
        i = store.raise_item("tag", t.code, t.department, title, night or date.today().isoformat(), note)
    typer.echo(f"#{i.id}\t{i.status}\t{i.department}\t{i.title}")


@voc_app.command("trend")
def voc_trend(
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database written by qc report ({DB_HELP})."),
    by: str = typer.Option("tag", "--by", help="tag or department."),
    weeks: bool = typer.Option(False, "--weeks", help="Sum nights into ISO weeks."),
    last: int = typer.Option(14, "--last", help="Show this many nights (or weeks)."),
) -> None:
    """Print each tag's (or department's) share of calls night by night (or week by week), spikes marked *."""
    from rich.console import Console
    from rich.table import Table

    from qc.voc.trends import detect_spikes, weekly

    if by not in ("tag", "department"):
        _fail(f"--by {by!r}: use tag or department")
    db = _db(db)
    with _voc_store(db) as store:
        calls = dict(store.nights())
        series = store.tag_counts() if by == "tag" else store.department_counts()
    if not calls:
        _fail(f"{db}: no VOC nights stored yet; run qc report --db {db} first")
    spikes = {(s.key, n) for n in calls for s in detect_spikes(series, calls, n)} if not weeks else set()
    if weeks:
        series, calls = weekly(series, calls)
    periods = sorted(calls)[-last:]
    table = Table(title=f"VOC {'标签' if by == 'tag' else '部门'}占比 (%)")
    table.add_column(by)
    for p in periods:
        table.add_column(p[5:] if not weeks else p, justify="right")
    for key in sorted(series, key=lambda k: -sum(series[k].values())):
        cells = []
        for p in periods:
            n = series[key].get(p, 0)
            cells.append(f"{100 * n / calls[p]:.1f}{'*' if (key, p) in spikes else ''}" if calls[p] else "")
        table.add_row(key, *cells)
    Console().print(table)


if __name__ == "__main__":
    app()
