"""Ingest: decoding every telephone format, bad files, discovery, call metadata."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from qc.ingest import (
    AudioError,
    MetadataError,
    call_metadata,
    decode_audio,
    discover_audio,
    file_sha256,
    load_call_table,
    parse_filename,
)

DATA = Path(__file__).parent / "data"
CLIP = DATA / "aishell1_BAC009S0764W0121.wav"  # 4.20 s, 16 kHz mono


def _encode(path: Path, codec: str, rate: int, samples: np.ndarray, layout: str = "mono") -> Path:
    import av

    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1) if layout == "mono" else pcm.T.reshape(1, -1).copy(),
                                           format="s16", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _clip_8k() -> np.ndarray:
    return decode_audio(CLIP, sample_rate=8000).samples[0]


def test_decode_pcm_wav_keeps_original_info():
    audio = decode_audio(CLIP)
    assert audio.samples.dtype == np.float32
    assert audio.samples.shape[0] == 1
    assert audio.sample_rate == 16000
    assert audio.info.sample_rate == 16000 and audio.info.channels == 1
    assert audio.info.duration == pytest.approx(4.20, abs=0.02)
    assert audio.info.sha256 == file_sha256(CLIP)
    assert 0.01 < float(np.abs(audio.samples).max()) <= 1.0


@pytest.mark.parametrize(
    "codec,ext,rate",
    [("pcm_alaw", "wav", 8000), ("pcm_mulaw", "wav", 8000), ("libmp3lame", "mp3", 8000),
     ("aac", "m4a", 16000), ("libopencore_amrnb", "amr", 8000)],
)
def test_decode_telephone_codecs(tmp_path, codec, ext, rate):
    src = _clip_8k() if rate == 8000 else decode_audio(CLIP).samples[0]
    f = _encode(tmp_path / f"call.{ext}", codec, rate, src)
    audio = decode_audio(f)
    assert audio.info.sample_rate == rate
    assert audio.samples.shape[0] == 1
    assert audio.duration == pytest.approx(4.2, abs=0.15)
    # The decoded speech follows the original's loudness envelope (not noise, not silence);
    # codecs add a little delay (AAC priming), so allow a shift of up to 0.2 s.
    ref = decode_audio(CLIP).samples[0]
    n = min(len(ref), audio.samples.shape[1]) - 3200
    env = lambda x: np.convolve(np.abs(x), np.ones(800) / 800, "same")  # noqa: E731
    a, b = env(ref), env(audio.samples[0])
    best = max(np.corrcoef(a[:n], b[lag:lag + n])[0, 1] for lag in range(0, 3200, 80))
    assert best > 0.8


def test_stereo_8k_channels_stay_apart(tmp_path):
    left = _clip_8k()
    f = tmp_path / "stereo.wav"
    with wave.open(str(f), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(8000)
        both = np.stack([left, np.zeros_like(left)], axis=1)
        w.writeframes((both * 32767).astype("<i2").tobytes())
    audio = decode_audio(f)
    assert audio.info.channels == 2 and audio.info.sample_rate == 8000
    assert audio.samples.shape[0] == 2 and audio.sample_rate == 16000
    assert np.abs(audio.samples[0]).max() > 0.05
    assert np.abs(audio.samples[1]).max() == 0.0


@pytest.mark.parametrize(
    "name,content,expect",
    [
        ("empty.wav", b"", "empty file"),
        ("notes.wav", "客户来电记录：这不是音频\n".encode() * 20, "not a readable audio file"),
        ("header_only.wav", None, "truncated wav"),
        ("cut.wav", None, "truncated wav (header says 4.2 s of audio, file holds 0.1 s)"),
        ("report.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" * 30, "not a readable audio file"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path, name, content, expect):
    f = tmp_path / name
    raw = CLIP.read_bytes()
    f.write_bytes(content if content is not None else (raw[:40] if name == "header_only.wav" else raw[:3000]))
    with pytest.raises(AudioError) as err:
        decode_audio(f)
    msg = str(err.value)
    assert msg.startswith(str(f)), msg
    assert expect in msg
    assert "\n" not in msg


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        decode_audio(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="no such file or folder"):
        discover_audio([tmp_path / "nope"])


def test_discover_audio_recurses_and_keeps_named_files(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for p in ["a/1.wav", "a/b/2.MP3", "a/b/skip.txt", "a/.hidden.wav"]:
        (tmp_path / p).write_bytes(b"x")
    named = tmp_path / "odd.bin"
    named.write_bytes(b"x")
    found = discover_audio([tmp_path / "a", named, tmp_path / "a" / "1.wav"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/1.wav", "a/b/2.MP3", "odd.bin"]


def test_calls_csv_by_call_id_and_by_file_column(tmp_path):
    csv = tmp_path / "calls.csv"
    csv.write_text(
        "call_id,agent_id,agent_name,team,started_at,queue,file\n"
        "C001,A07,王芳,二组,2024-05-01 09:30:00,信用卡,\n"
        "C002,A08,李雷,一组,2024-05-01 10:00:00,贷款,rec_20240501_1000.wav\n",
        encoding="utf-8",
    )
    table = load_call_table(csv)
    m1 = call_metadata(Path("/x/C001.wav"), table)
    assert (m1.call_id, m1.agent_id) == ("C001", "A07")
    assert m1.meta == {"agent_name": "王芳", "team": "二组", "started_at": "2024-05-01 09:30:00",
                       "queue": "信用卡", "meta_source": "calls.csv"}
    m2 = call_metadata(Path("/y/rec_20240501_1000.wav"), table)
    assert (m2.call_id, m2.agent_id, m2.meta["queue"]) == ("C002", "A08", "贷款")
    m3 = call_metadata(Path("/y/unknown.wav"), table)
    assert (m3.call_id, m3.agent_id, m3.meta) == ("unknown", None, {"meta_source": "none"})


def test_calls_csv_gbk_from_excel_and_errors(tmp_path):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("call_id,agent_id,team\nC9,A1,投诉组\n".encode("gb18030"))
    assert load_call_table(gbk)["C9"].meta == {"team": "投诉组"}
    bad = tmp_path / "bad.csv"
    bad.write_text("id,agent\n1,2\n")
    with pytest.raises(MetadataError, match=r"bad.csv:1:1: no 'call_id' column"):
        load_call_table(bad)
    dup = tmp_path / "dup.csv"
    dup.write_text("call_id,agent_id\nC1,A\nC1,B\n")
    with pytest.raises(MetadataError, match=r"dup.csv:3:1: call_id 'C1' appears twice"):
        load_call_table(dup)


def test_filename_pattern():
    assert parse_filename("/r/A07_C123.wav", "{agent_id}_{call_id}.wav") == {"agent_id": "A07", "call_id": "C123"}
    assert parse_filename("/r/A07_C123.mp3", "{agent_id}_{call_id}.wav") is None
    assert parse_filename("/r/20240501-A07-C1.mp3", "{date}-{agent_id}-{call_id}") == {
        "date": "20240501", "agent_id": "A07", "call_id": "C1"}
    m = call_metadata("/r/A07_C123.wav", pattern="{agent_id}_{call_id}.wav")
    assert (m.call_id, m.agent_id, m.meta) == ("C123", "A07", {"meta_source": "filename"})
    with pytest.raises(MetadataError):
        parse_filename("x.wav", "{a}_{a}.wav")
