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


# --- rules (issue 3) ---


# --- emotion (issue 4) ---


# --- scoring, reports, history, review (issue 5) ---


# --- night batch (issue 6) ---


if __name__ == "__main__":
    app()
