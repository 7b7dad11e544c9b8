"""The sample calls: what they are, and that the shipped rules find what samples/expected.yaml says
on the true scripts (samples/reference). The same expectations from the audio, through Whisper, are
checked in test_samples_e2e.py."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from qc.ingest import decode_audio, load_call_table
from qc.rules import load_rules
from qc.transcript import load_transcript

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
EXPECTED = yaml.safe_load((SAMPLES / "expected.yaml").read_text(encoding="utf-8"))["calls"]


def check_expected(call_id: str, findings: set[str], checked: set[str], all_codes: set[str]) -> list[str]:
    """Problems with one call's findings against expected.yaml (empty list: as expected)."""
    spec = EXPECTED[call_id]
    problems = []
    for code in spec["fire"]:
        if code not in findings:
            problems.append(f"{call_id}: {code} should fire ({spec['scenario']})")
    quiet = all_codes if spec["quiet"] == "all" else set(spec["quiet"])
    for code in sorted(quiet):
        if code in findings:
            problems.append(f"{call_id}: {code} should not fire ({spec['scenario']})")
        elif spec["quiet"] != "all" and code not in checked:
            problems.append(f"{call_id}: {code} was not checked")
    return problems


def test_calls_csv_describes_every_recording():
    rows = list(csv.DictReader((SAMPLES / "calls.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["call_id", "agent_id", "agent_name", "team", "started_at", "direction", "queue",
                             "customer_id", "ticket_note"]
    ids = [r["call_id"] for r in rows]
    assert ids == sorted(EXPECTED) and len(ids) >= 6
    assert sorted(p.stem for p in SAMPLES.glob("*.wav")) == ids
    assert len({r["agent_id"] for r in rows}) >= 3 and len({r["team"] for r in rows}) == 2
    table = load_call_table(SAMPLES / "calls.csv")
    assert table["C004"].meta["team"] == "一组" and table["C004"].agent_id == "A102"


def test_recordings_are_stereo_telephone_calls_of_realistic_length():
    total_bytes = 0
    for wav in sorted(SAMPLES.glob("*.wav")):
        total_bytes += wav.stat().st_size
        audio = decode_audio(wav, sample_rate=8000)
        assert audio.info.sample_rate == 8000 and audio.info.channels == 2, wav
        assert 30 <= audio.duration <= 62, (wav, audio.duration)
        left, right = audio.samples
        # each side talks on its own channel, and the call has real pauses
        assert (abs(left) > 0.05).mean() > 0.05 and (abs(right) > 0.05).mean() > 0.02
        reference = load_transcript(SAMPLES / "reference" / f"{wav.stem}.json")
        speech = sum(u.end - u.start for u in reference.utterances)
        assert 0.5 < speech / audio.duration < 0.95, wav
    assert total_bytes < 6_000_000


def test_reference_scripts_hold_the_scenarios():
    ref = {p.stem: load_transcript(p) for p in sorted((SAMPLES / "reference").glob("*.json"))}
    gaps = [b.start - a.end for a, b in zip(ref["C005"].utterances, ref["C005"].utterances[1:])]
    assert max(gaps) > 10  # dead air
    c006 = ref["C006"].utterances
    overlaps = [a for a, b in zip(c006, c006[1:]) if a.role == "customer" and b.role == "agent" and b.start < a.end - 1]
    assert len(overlaps) == 2  # the agent talks over the customer twice
    text = {k: "".join(u.text for u in t.utterances if u.role == "agent") for k, t in ref.items()}
    assert "不归我管" in text["C003"] and "你自己去营业厅" in text["C003"]
    assert "机主本人" not in text["C002"] and all("机主本人" in text[c] for c in ref if c != "C002")
    customer = "".join(u.text for u in ref["C004"].utterances if u.role == "customer")
    assert "工信部" in customer and "曝光" in customer


def test_repeat_contact_is_the_same_customer_a_week_later():
    table = load_call_table(SAMPLES / "calls.csv")
    first, again = table["C002"].meta, table["C007"].meta
    assert first["customer_id"] == again["customer_id"]
    delay = datetime.fromisoformat(again["started_at"]) - datetime.fromisoformat(first["started_at"])
    assert 0 < delay.days <= 7
    assert EXPECTED["C007"]["repeat_of"] == "C002"


def test_expected_codes_exist_in_the_shipped_rules():
    codes = {r.code for r in load_rules(ROOT / "rules")}
    for call_id, spec in EXPECTED.items():
        listed = set(spec["fire"]) | (set() if spec["quiet"] == "all" else set(spec["quiet"]))
        assert listed <= codes, f"{call_id}: unknown codes {sorted(listed - codes)}"


@pytest.fixture(scope="module")
def reference_night(tmp_path_factory):
    from qc.run.night import score_night

    out = tmp_path_factory.mktemp("reference-night")
    summary = score_night([SAMPLES / "reference"], out, meta=SAMPLES / "calls.csv", rules=ROOT / "rules",
                          report=False, cache_dir=out / "cache", workers=1)
    assert summary.exit_code == 0, summary.lines()
    from qc.run.store import load_call_results

    return {r.call_id: r for r in load_call_results(out)}


@pytest.mark.parametrize("call_id", sorted(EXPECTED))
def test_rules_find_the_expected_on_the_true_script(reference_night, call_id):
    codes = {r.code for r in load_rules(ROOT / "rules")}
    result = reference_night[call_id]
    findings = {f.rule for f in result.inspection.findings}
    assert check_expected(call_id, findings, set(result.inspection.checked), codes) == []
