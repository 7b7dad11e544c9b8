"""`qc emotion score|train` (issue 4)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from qc.commands.base import app, _fail, _shown


emotion_app = typer.Typer(help="Emotion model: score transcripts, recalibrate on your own labels.", no_args_is_help=True)
app.add_typer(emotion_app, name="emotion")


@emotion_app.command("score")
def emotion_score(
    transcripts: List[Path] = typer.Argument(..., help="Transcript JSON files.", exists=False),
    model: Optional[Path] = typer.Option(None, "--model", help="Text model file or folder from `qc emotion train` (default: $QC_EMOTION_MODEL or the shipped model)."),
    as_json: bool = typer.Option(False, "--json", help="Print one CallEmotion JSON object per line instead of the summary."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Show ID-card, phone, bank-card numbers and addresses unmasked."),
) -> None:
    """Print each call's emotion summary: negativity, trajectory, volatility, complaint, drivers
    (risk flags are the rules' RISK01-05: `qc inspect` or `qc score`)."""
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
