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


# --- emotion (issue 4) ---


# --- scoring, reports, history, review (issue 5) ---


# --- night batch (issue 6) ---


if __name__ == "__main__":
    app()
