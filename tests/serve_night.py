"""A small scored night for the workbench tests: the seven sample calls scored from their true scripts.

The recordings are copied into the night folder (``audio/``) and each call points at its copy.
C001 gets one extra customer line holding markup and a phone number, to check escaping and masking.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from qc.run.store import load_call_results, save_call_result
from qc.types import AudioInfo, Utterance

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
NIGHT = "2024-05-20"
HOSTILE = "<script>alert(1)</script> 我的手机号是13812345678"


def make_sample_night(tmp: Path) -> tuple[Path, Path]:
    """Score the samples into ``tmp/night`` with history in ``tmp/history.sqlite``; returns both paths."""
    from qc.run.night import score_night
    from qc.report import write_reports

    out, db = tmp / "night", tmp / "history.sqlite"
    score_night([SAMPLES / "reference"], out, meta=SAMPLES / "calls.csv", rules=ROOT / "rules", workers=1, report=False)
    (out / "audio").mkdir()
    results = load_call_results(out)
    for r in results:
        wav = out / "audio" / f"{r.call_id}.wav"
        shutil.copyfile(SAMPLES / f"{r.call_id}.wav", wav)
        r.transcript.audio = AudioInfo(str(wav), "0" * 64, 60.0, 8000, 2, "wav")
        if r.call_id == "C001":
            end = max(u.end or 0.0 for u in r.transcript.utterances)
            r.transcript.utterances.append(Utterance("customer", HOSTILE, end + 0.5, end + 2.0, channel=1))
        save_call_result(r, out)
    write_reports(results, out, night=NIGHT, db=db, calibration=1, call_pages=False)
    return out, db
