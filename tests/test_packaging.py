"""A normal install works: the wheel carries the shipped rules and scorecard, and `qc` runs from any folder.

The wheel test builds from a copy of the source tree (so no build/ lands in the checkout), installs
it without dependencies into a venv that sees this interpreter's packages, and runs the installed
`qc` from an empty folder with PYTHONPATH unset, as a new user would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qc.defaults import rules_path, scorecard_path
from qc.report.history import default_db_path
from qc.scoring import default_scorecard_path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def _yaml_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.y*ml"))}


def test_the_package_finds_the_one_editable_copy_of_the_defaults():
    assert rules_path() == (ROOT / "rules").resolve()
    assert scorecard_path() == (ROOT / "scorecards" / "default.yaml").resolve()
    assert default_scorecard_path() == scorecard_path()
    assert len(_yaml_files(rules_path())) >= 6


def test_default_history_database(monkeypatch, tmp_path):
    monkeypatch.delenv("QC_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if os.name != "nt":
        assert default_db_path() == tmp_path / "data" / "qc" / "history.sqlite"
    monkeypatch.setenv("QC_DB", str(tmp_path / "elsewhere.sqlite"))
    assert default_db_path() == tmp_path / "elsewhere.sqlite"


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "cli.py"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("qc", "rules", "scorecards", "voc"):
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", ".", "-w", str(tmp / "dist")],
        cwd=src, capture_output=True, text=True,
    )
    if built.returncode != 0 and ("No module named pip" in built.stderr or "setuptools" in built.stderr):
        pytest.skip(f"cannot build a wheel here: {built.stderr.strip().splitlines()[-1]}")
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp / "dist").glob("qc-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, the venv's qc script, an environment without PYTHONPATH) for an installed wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    venv = tmp / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "QC_DB")}
    env["XDG_DATA_HOME"] = str(tmp / "data")
    # --without-pip: the venv uses this interpreter's pip and setuptools (a venv's bundled ones may be older);
    # --force-reinstall: a qc the venv sees in the system site-packages must not count as installed
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--force-reinstall", str(wheel)],
                   cwd=tmp, env=env, check=True)
    qc = venv / ("Scripts/qc.exe" if os.name == "nt" else "bin/qc")
    assert qc.is_file(), "the wheel installed no qc command"
    return wheel, qc, env, tmp


def test_the_wheel_holds_the_package_only_with_the_defaults_as_data(installed):
    wheel = installed[0]
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
        assert top == {"qc"}, top  # no stray top-level cli.py
        assert "qc/cli.py" in names
        for folder, source in (("qc/defaults/rules", ROOT / "rules"), ("qc/defaults/scorecards", ROOT / "scorecards"),
                               ("qc/defaults/voc", ROOT / "voc")):
            shipped = {n.rsplit("/", 1)[1]: z.read(n) for n in names if n.startswith(folder + "/")}
            assert shipped == _yaml_files(source), folder
        entry_points = z.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        assert "qc = qc.cli:app" in entry_points


def test_the_installed_qc_scores_and_finds_its_history_from_an_empty_folder(installed):
    _, qc, env, tmp = installed
    work = tmp / "empty"
    work.mkdir()
    night = subprocess.run(
        [str(qc), "score", str(SAMPLES / "reference"), "--meta", str(SAMPLES / "calls.csv"), "--out", "night", "--workers", "1"],
        cwd=work, env=env, capture_output=True, text=True, timeout=600,
    )
    assert night.returncode == 0, night.stderr
    assert "7 scored" in night.stdout + night.stderr
    assert (work / "night" / "index.html").is_file()
    assert (work / "night" / "voc.html").is_file()  # the shipped starter VOC taxonomy came with the wheel
    assert (tmp / "data" / "qc" / "history.sqlite").is_file()  # the documented default, not ./history.sqlite
    assert not (work / "history.sqlite").exists()

    agent = subprocess.run([str(qc), "agent", "A101"], cwd=work, env=env, capture_output=True, text=True)
    assert agent.returncode == 0, agent.stderr
    assert "A101" in agent.stdout

    elsewhere = subprocess.run([str(qc), "agent", "A101"], cwd=work, env={**env, "QC_DB": str(tmp / "none.sqlite")},
                               capture_output=True, text=True)
    assert elsewhere.returncode == 2 and "none.sqlite" in elsewhere.stderr


def test_qc_agent_reads_the_default_database_and_points_at_an_old_one(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QC_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    (tmp_path / "history.sqlite").write_bytes(b"")  # where qc kept history before
    result = CliRunner().invoke(app, ["agent", "A101"])
    assert result.exit_code == 2
    assert f"note: using {tmp_path / 'data' / 'qc' / 'history.sqlite'}" in result.output
    assert "pass --db history.sqlite" in result.output
