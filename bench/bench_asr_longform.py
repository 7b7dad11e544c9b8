"""Real-time factor of each backend on one long real recording (call-length audio).

bench_asr.py uses clips of 2-10 s, where Whisper's fixed 30-s encoder window dominates both
backends. Calls are minutes long; this prints the RTF on the 70-s real Mandarin recording in
../shared/data/speech_zh/no_reference, same weights, beam 5, word timestamps, after a warm-up.

    python bench/bench_asr_longform.py
"""

from __future__ import annotations

import time
from pathlib import Path

from qc.asr import load_transcriber
from qc.ingest import decode_audio

ROOT = Path(__file__).resolve().parent.parent
LONG = ROOT.parent / "shared/data/speech_zh/no_reference/funasr_fsmnvad_example_70s.wav"
WARMUP = ROOT / "tests/data/aishell1_BAC009S0764W0121.wav"


def rtf(backend: str) -> float:
    transcriber = load_transcriber(backend, beam_size=5)
    transcriber.transcribe(decode_audio(WARMUP), call_id="warm-up")
    audio = decode_audio(LONG)
    t0 = time.perf_counter()
    transcriber.transcribe(audio, call_id="long")
    return (time.perf_counter() - t0) / audio.info.duration


def main() -> None:
    rows = {}
    for backend in ("faster-whisper", "openai-whisper"):
        try:
            rows[backend] = rtf(backend)
        except ImportError as e:
            print(f"{backend}: not installed ({e})")
    for backend, value in rows.items():
        print(f"{backend:16s} RTF {value:.3f}  ({LONG.name})")
    if len(rows) == 2:
        print(f"speed-up of faster-whisper int8 over openai-whisper: {rows['openai-whisper'] / rows['faster-whisper']:.1f}x")


if __name__ == "__main__":
    main()
