"""The `qc` application object, its global options and the helpers several command modules share."""

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
