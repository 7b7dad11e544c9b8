"""`qc transcribe`: recordings to transcript JSON files (issue 2)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from qc.commands.base import app, _fail


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
