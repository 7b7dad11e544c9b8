"""`qc rules check|test`, `qc inspect`, `qc import-chat` (issue 3)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from qc.commands.base import app, _check_files, _fail, _run_cases, _shipped_rules, _shown


rules_app = typer.Typer(help="Check and test YAML rule files (for CI).", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


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
