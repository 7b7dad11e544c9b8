"""Memory bounded by the allowed call length (issue 12): long recordings refused from the header,
before decoding; the decoded samples held once. Peak memory is measured in bench/bench_memory.py."""
import struct
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from qc.ingest import AudioError, decode_audio


def _wav_header(path: Path, seconds: float, rate=8000, channels=1, data_size=None):
    """A PCM wav of silence as a sparse file (no disk used, nothing to read)."""
    n = int(seconds * rate) * channels * 2
    size = n if data_size is None else data_size
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + n if data_size is None else 0xFFFFFFFF) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16))
        f.write(b"data" + struct.pack("<I", size))
        f.truncate(44 + n)
    return path


def test_recording_over_the_limit_is_refused_from_the_header(tmp_path):
    path = _wav_header(tmp_path / "long.wav", 2.5 * 3600)
    t = time.perf_counter()
    with pytest.raises(AudioError) as e:
        decode_audio(path)
    assert time.perf_counter() - t < 1.0  # refused unread
    assert str(e.value).startswith(f"{path}: recording is 2.50 h long (from the wav header), over the 2 h limit")
    assert "--max-duration" in str(e.value)


def test_limit_is_configurable_and_applies_while_decoding(tmp_path, monkeypatch):
    path = _wav_header(tmp_path / "ten.wav", 10)
    assert decode_audio(path).duration == pytest.approx(10, abs=0.01)
    with pytest.raises(AudioError, match="from the wav header"):
        decode_audio(path, max_duration=5)
    monkeypatch.setenv("QC_MAX_DURATION", "5")
    with pytest.raises(AudioError, match=r"recording is 10.0 s long \(from the wav header\), over the 5.0 s limit"):
        decode_audio(path)
    monkeypatch.setenv("QC_MAX_DURATION", "0")  # no limit
    assert decode_audio(path).duration == pytest.approx(10, abs=0.01)
    # a live recorder's wav does not say its length: FFmpeg estimates it from the file size ...
    live = _wav_header(tmp_path / "live.wav", 10, data_size=0xFFFFFFFF)
    with pytest.raises(AudioError, match="from the file header"):
        decode_audio(live, max_duration=5)
    # ... and where no header says anything, the limit stops the decoder
    import qc.ingest

    monkeypatch.setattr(qc.ingest, "_container_seconds", lambda container, stream: None)
    with pytest.raises(AudioError, match=r"recording is 6.\d s long \(while decoding; the header did not say\)"):
        decode_audio(live, max_duration=5)


def test_stereo_decoded_into_one_array_keeps_channels_apart(tmp_path):
    rate, n = 8000, 8000 * 3
    t = np.arange(n) / rate
    left, right = 0.5 * np.sin(2 * np.pi * 300 * t), 0.25 * np.sin(2 * np.pi * 700 * t)
    path = tmp_path / "st.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.stack([left, right]).T * 32767).astype("<i2").tobytes())
    audio = decode_audio(path)
    assert audio.samples.shape[0] == 2 and audio.samples.flags.c_contiguous
    assert audio.duration == pytest.approx(3.0, abs=0.01)
    peaks = np.abs(audio.samples[:, 1000:-1000]).max(axis=1)
    assert peaks[0] == pytest.approx(0.5, abs=0.02) and peaks[1] == pytest.approx(0.25, abs=0.02)
    spec = np.abs(np.fft.rfft(audio.samples[1]))
    assert abs(np.argmax(spec) * 16000 / audio.samples.shape[1] - 700) < 5  # the right channel is the 700 Hz one
