"""Hardening of the exports: formula injection, Excel formats (issue 12)."""
import csv
import dataclasses
import io

import pytest

from qc.report import write_reports
from scoring_cases import load_cases

NIGHT = "2024-05-20"
PAYLOADS = ['=HYPERLINK("http://x","click")', "=cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _poisoned():
    cases = load_cases()
    for i, r in enumerate(cases):
        p = PAYLOADS[i % len(PAYLOADS)]
        r.transcript.call_id = p + f"#{i}"
        r.transcript.agent_id = PAYLOADS[(i + 1) % len(PAYLOADS)]
        r.transcript.meta["team"] = PAYLOADS[(i + 2) % len(PAYLOADS)]
        r.transcript.utterances = [dataclasses.replace(u, text=PAYLOADS[(i + 3) % len(PAYLOADS)] + u.text) for u in r.transcript.utterances]
        for f in r.inspection.findings:
            f.evidence = [dataclasses.replace(e, text=PAYLOADS[(i + 4) % len(PAYLOADS)] + (e.text or "")) for e in f.evidence]
            f.message = PAYLOADS[(i + 5) % len(PAYLOADS)]
        for item in r.score.items:
            for d in item.deductions:
                if d.evidence is not None:
                    d.evidence = dataclasses.replace(d.evidence, text=PAYLOADS[(i + 4) % len(PAYLOADS)] + d.evidence.text)
    return cases


@pytest.fixture(scope="module")
def poisoned_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("inj")
    write_reports(_poisoned(), out, night=NIGHT, calibration=2)
    return out


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("name", ["calls.csv", "findings.csv", "queue.csv", "agents.csv"])
def test_csv_has_no_live_formula(poisoned_report, name):
    rows = list(csv.reader(io.StringIO((poisoned_report / name).read_text(encoding="utf-8-sig"))))
    assert len(rows) > 1
    live = [(r, c) for r, row in enumerate(rows) for c, cell in enumerate(row) if cell.startswith(DANGEROUS) and not _is_number(cell)]
    assert live == [], f"{name}: formula cells {[rows[r][c] for r, c in live][:5]}"
    # the payloads are still there, as text, for a reviewer to see
    assert any(cell.startswith("'=") or cell.startswith("'+") or cell.startswith("'-") for row in rows for cell in row)


def test_xlsx_has_no_formula_and_formats(poisoned_report):
    from openpyxl import load_workbook

    for name in ("night.xlsx", "agents.xlsx"):
        wb = load_workbook(poisoned_report / name)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (name, ws.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(DANGEROUS), (name, ws.title, cell.coordinate, cell.value)
    ws = load_workbook(poisoned_report / "night.xlsx")["坐席"]
    header = [c.value for c in ws[1]]
    rate = ws.cell(row=2, column=header.index("合格率") + 1)
    assert isinstance(rate.value, (int, float)) and rate.number_format == "0.0%"
    widths = {ws.column_dimensions[k].width for k in "ABCDEFGHIJK"}
    assert len(widths) > 2  # not every column the same width


def test_negative_numbers_stay_numbers(tmp_path):
    cases = load_cases()
    cases[0].score.score = -3.5
    write_reports(cases, tmp_path, night=NIGHT)
    rows = list(csv.reader(io.StringIO((tmp_path / "calls.csv").read_text(encoding="utf-8-sig"))))
    row = next(r for r in rows if r[0] == cases[0].call_id)
    assert row[3] == "-3.5"


def test_risk_kinds_in_chinese(tmp_path):
    from qc.types import Evidence, RiskFlag

    cases = load_cases()
    r = next(c for c in cases if c.emotion is not None)
    r.emotion.risks = [RiskFlag(kind="media", evidence=Evidence(None, None, None, None, "x")), RiskFlag(kind="regulator", evidence=Evidence(None, None, None, None, "y"))]
    write_reports(cases, tmp_path, night=NIGHT)
    text = (tmp_path / "calls.csv").read_text(encoding="utf-8-sig")
    assert "媒体曝光、监管投诉" in text and "media" not in text


def test_broken_files_listed_on_the_night_page_and_in_excel(tmp_path):
    from openpyxl import load_workbook

    failures = [("C999", "/in/C999.wav", "/in/C999.wav: truncated wav (header says 60.0 s of audio, file holds 2.0 s); copy it again")]
    write_reports(load_cases(), tmp_path, night=NIGHT, failures=failures)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "无法处理的文件 (1)" in page and "C999" in page and "truncated wav" in page
    ws = load_workbook(tmp_path / "night.xlsx")["无法处理的文件"]
    assert [c.value for c in ws[2]] == list(failures[0])
    import json

    assert json.loads((tmp_path / "night.json").read_text(encoding="utf-8"))["failed"][0]["call_id"] == "C999"


def test_night_batch_passes_its_failures_to_the_report(tmp_path):
    from pathlib import Path

    from qc.run.night import score_night

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "junk.wav").write_bytes(b"RIFF....WAVEjunk")
    summary = score_night([root / "samples" / "reference" / "C001.json", tmp_path / "junk.wav"], tmp_path / "out",
                          rules=root / "rules", report_options={"db": None}, cache_dir=tmp_path / "c", workers=1)
    assert summary.count("failed") == 1
    assert "junk.wav" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def test_symlink_loops_and_extra_csv_cells_are_reported(tmp_path, caplog):
    import logging

    from qc.ingest import discover_audio, load_call_table

    (tmp_path / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "loop.wav").symlink_to(tmp_path / "loop.wav")
    (tmp_path / "up").symlink_to(tmp_path)
    csv_file = tmp_path / "calls.csv"
    csv_file.write_text("call_id,agent_id,team\nC1,A1,一组\nC2,A2,二组,备注,多余\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert discover_audio([tmp_path]) == [tmp_path / "a.wav"]
        table = load_call_table(csv_file)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert f"{tmp_path / 'loop.wav'}: symbolic link loop, skipped" in text
    assert f"{tmp_path / 'up'}: symbolic link to the folder" in text
    assert f"{csv_file}:3: 2 cell(s) beyond the 3 header columns dropped ('备注', '多余')" in text
    assert table["C2"].meta == {"team": "二组"}
