"""`qc score`: the night batch (issue 6)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from qc.commands.base import DB_HELP, app, _db, _exit_now, _fail, _shipped_rules


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
