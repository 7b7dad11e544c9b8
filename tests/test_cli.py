"""The CLI as a whole: every command has help, is documented in the README, and starts light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli import app

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[tuple[str, ...]]:
    """Every leaf command as its word path, e.g. ("rules", "check")."""
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(cmd, path: tuple[str, ...]) -> None:
        if hasattr(cmd, "commands"):  # a group (typer may ship its own click)
            for name, sub in cmd.commands.items():
                walk(sub, path + (name,))
        else:
            found.append(path)

    walk(root, ())
    return found


COMMANDS = _commands()


def test_the_cli_has_the_commands_the_design_names() -> None:
    names = {" ".join(c) for c in COMMANDS}
    for expected in ["transcribe", "inspect", "score", "report", "agent", "rules check", "rules test",
                     "emotion train", "emotion score", "review import"]:
        assert expected in names


@pytest.mark.parametrize("words", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_has_help(words: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*words, "--help"])
    assert result.exit_code == 0, result.output
    cmd = typer.main.get_command(app)
    for w in words:
        cmd = cmd.commands[w]  # type: ignore[attr-defined]
    assert (cmd.help or "").strip(), f"qc {' '.join(words)} has no help text"


@pytest.mark.parametrize("words", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_is_documented_in_the_readme(words: tuple[str, ...]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"qc {' '.join(words)}" in readme, f"README.md does not mention `qc {' '.join(words)}`"


def test_the_cli_imports_no_heavy_module() -> None:
    code = (
        "import sys, cli; "
        "heavy = [m for m in ('torch', 'whisper', 'faster_whisper', 'ctranslate2', 'ray', 'pandas', 'jieba') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
