"""openai-whisper backend on the same offline weights (skipped without the extra)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("whisper")

from qc.asr import load_transcriber  # noqa: E402
from qc.asr.metrics import cer  # noqa: E402
from qc.ingest import decode_audio  # noqa: E402

CLIP = Path(__file__).parent / "data" / "aishell1_BAC009S0724W0121.wav"
REF = "广州市房地产中介协会分析"


@pytest.mark.slow
@pytest.mark.openai
def test_openai_whisper_matches_faster_whisper_on_the_same_weights():
    audio = decode_audio(CLIP)
    fw = load_transcriber("faster-whisper").transcribe(audio, call_id="c")
    ow = load_transcriber("openai-whisper").transcribe(audio, call_id="c")
    assert ow.asr.backend == "openai-whisper" and ow.asr.model == fw.asr.model == "whisper-base-ct2"
    fw_text = "".join(u.text for u in fw.utterances)
    ow_text = "".join(u.text for u in ow.utterances)
    assert cer(fw_text, ow_text) <= 0.2, (fw_text, ow_text)
    assert cer(REF, ow_text) <= 0.35
    # Word timestamps use the alignment heads from the CT2 config: the same speech span.
    assert ow.utterances[0].start == pytest.approx(fw.utterances[0].start, abs=0.3)
    assert ow.utterances[-1].end == pytest.approx(fw.utterances[-1].end, abs=0.3)
    assert all(0 < u.confidence <= 1 for u in ow.utterances)
