"""The `qc` command: a thin typer layer over the `qc` library.

Each command parses its arguments, calls one library function and formats the result.
Heavy modules (Whisper, torch, ray, pandas) are imported inside the commands that need them so
that `qc rules test` starts fast. Logs go to stderr, results to files or stdout.

The commands live in ``qc/commands/``, one module per stage, in pipeline order: transcribe,
rules (check, test, inspect, import-chat), emotion, report (scorecard, report, agent, review),
batch (score), serve (users, serve), voc. ``qc/commands/base.py`` holds the application object,
the global ``--verbose`` option and the helpers several modules share. This file (linked as
``qc/cli.py``, the console script ``qc.cli:app``) only imports them, which registers the commands.
"""

from __future__ import annotations

from qc.commands.base import app
from qc.commands import transcribe, rules, emotion, report, batch, serve, voc  # noqa: F401  (each registers its commands)

__all__ = ["app"]

if __name__ == "__main__":
    app()
