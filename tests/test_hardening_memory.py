"""Memory bounded by the allowed call length (issue 12): long recordings refused from the header,
before decoding; the decoded samples held once. Peak memory is measured in bench/bench_memory.py."""
import struct
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


def test_recording_over_the_limit_is_refused_from_the_header(tmp_path, monkeypatch):
    import av

    path = _wav_header(tmp_path / "long.wav", 2.5 * 3600)
    opened = []
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    with pytest.raises(AudioError) as e:
        decode_audio(path)
    assert not opened  # refused from the header: no decoder ever opened the file (not a timing)
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
    import qc.ingest.audio

    monkeypatch.setattr(qc.ingest.audio, "_container_seconds", lambda container, stream: None)
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


SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def test_a_telephone_call_is_read_from_its_file_and_at_16k_exactly():
    """A G.711 / PCM wav is read from the file where needed (nothing held); read at 16 kHz,
    whole, in chunks or by windows, it is the float32 16 kHz decode sample for sample: the
    transcript cannot change."""
    call = SAMPLES / "C001.wav"  # μ-law, stereo, 8 kHz
    full = decode_audio(call).samples
    audio = decode_audio(call, sample_rate=None)
    assert audio.samples.dtype == np.int16 and audio.sample_rate == 8000 and audio.channels == 2
    assert audio.samples.nbytes == 0  # read from the file
    assert audio.info == decode_audio(call).info
    assert audio.duration == pytest.approx(full.shape[1] / 16000)
    assert audio.peak == pytest.approx(float(np.abs(full).max()), abs=0.01)
    for ch in range(2):
        signal = audio.channel(ch)
        assert len(signal) == full.shape[1]
        assert np.array_equal(np.concatenate(list(signal.chunks(123_457))), full[ch])
        for a, b in ((0, 700), (1, 16001), (160_003, 400_000), (len(signal) - 999, len(signal) + 50)):
            assert np.array_equal(signal[a:b], full[ch][a:b]), (ch, a, b)


def test_muted_frames_read_as_zeros_in_windows_and_chunks():
    audio = decode_audio(SAMPLES / "C002.wav", sample_rate=None)
    plain = audio.channel(1)
    quiet = np.zeros(len(plain) // 320, dtype=bool)
    quiet[[0, 5, 6, 900, len(quiet) - 1]] = True
    muted = plain.with_muted(quiet, 320)
    expected = plain[:].copy()
    expected[: len(quiet) * 320].reshape(-1, 320)[quiet] = 0.0
    assert np.array_equal(np.concatenate(list(muted.chunks(50_000))), expected)
    assert np.array_equal(muted[1_700:300_000], expected[1_700:300_000])
    assert np.array_equal(plain[1_700:300_000], audio.channel(1)[1_700:300_000])  # the original is untouched


def test_vad_read_block_by_block_finds_what_faster_whisper_finds_on_the_whole_channel():
    """The VAD reads the channel in 64-s blocks and runs the model on 1,000 windows at a time;
    over 320 s (faster-whisper's own batch of 10,000 windows) the speech chunks are the same."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from qc.asr.stream import VAD_BLOCK, speech_chunks

    x = np.tile(decode_audio(SAMPLES / "C003.wav").samples[1], 9)[: 10_000 * 512 + 20_077]
    assert len(x) > 5 * VAD_BLOCK
    expected = [(c["start"], c["end"]) for c in get_speech_timestamps(
        x, VadOptions(min_silence_duration_ms=500, speech_pad_ms=400))]
    assert len(expected) > 20
    assert speech_chunks(x, 400, 500) == expected


def test_a_long_channel_is_recognised_a_few_minutes_of_speech_at_a_time():
    from qc.asr.stream import MAX_STREAM_S, SAMPLE_RATE, groups, pack

    minute = 60 * SAMPLE_RATE
    chunks = [(i * minute, i * minute + 40 * SAMPLE_RATE) for i in range(120)]  # 2 h, 80 min of speech
    parts = groups(chunks, gap=0.5)
    assert [c for g in parts for c in g] == chunks
    assert len(parts) >= 80 * 60 / MAX_STREAM_S
    x = np.zeros(121 * minute, dtype=np.float32)
    after = 0
    for g in parts:
        stream, pieces = pack(x, g, 0.5, after=after)
        after = g[-1][1]
        assert len(stream) <= MAX_STREAM_S * SAMPLE_RATE
    short = chunks[:5]  # an ordinary call: one stream, as before
    assert groups(short, gap=0.5) == [short]


def test_whisper_features_by_blocks_are_faster_whispers_own():
    """The log-mel features of a stream, computed 30 s at a time, equal faster-whisper's
    whole-stream STFT (which costs 0.8 MB per second of speech)."""
    from faster_whisper.feature_extractor import FeatureExtractor

    from qc.asr.faster import _LeanFeatures

    x = np.tile(decode_audio(SAMPLES / "C001.wav").samples[0], 2)
    whole = FeatureExtractor(feature_size=80)
    assert _LeanFeatures.fits(whole)
    for n in (len(x), 16000 * 30 * 2 + 7, 4000):
        assert np.array_equal(_LeanFeatures(FeatureExtractor(feature_size=80))(x[:n], chunk_length=30),
                              whole(x[:n], chunk_length=30)), n


def test_a_wav_of_unknown_length_is_decoded_compactly_and_reads_the_same(tmp_path):
    """A live recorder's wav (no data size) goes through FFmpeg into one int16 array at 8 kHz;
    the same samples as the wav read in place."""
    rate, n = 8000, 8000 * 3 + 11
    t = np.arange(n) / rate
    pcm = (np.stack([0.5 * np.sin(2 * np.pi * 300 * t), 0.25 * np.sin(2 * np.pi * 700 * t)]).T * 32767).astype("<i2")
    known = tmp_path / "known.wav"
    with wave.open(str(known), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    live = tmp_path / "live.wav"
    data = bytearray(known.read_bytes())
    data[40:44] = struct.pack("<I", 0xFFFFFFFF)
    live.write_bytes(bytes(data))
    in_place, decoded = decode_audio(known, sample_rate=None), decode_audio(live, sample_rate=None)
    assert in_place.samples.nbytes == 0
    assert isinstance(decoded.samples, np.ndarray) and decoded.samples.dtype == np.int16
    assert np.array_equal(decoded.samples, pcm.T)
    for ch in range(2):
        assert np.array_equal(in_place.samples[ch][0:n], pcm[:, ch])
        assert np.array_equal(in_place.channel(ch)[:], decoded.channel(ch)[:])
        assert np.array_equal(in_place.channel(ch)[:], decode_audio(known).samples[ch])
    assert in_place.peak == decoded.peak == pytest.approx(0.5, abs=0.01)
