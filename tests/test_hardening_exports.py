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
