"""Voice features on real AISHELL-1 audio (Apache-2.0, tests/data/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qc.emotion import analyze_call
from qc.emotion.voice import utterance_features, voice_arousal
from qc.ingest import DecodedAudio, decode_audio
from qc.types import AudioInfo, Transcript, Utterance

DATA = Path(__file__).parent / "data"
CLIPS = {
    "a": ("aishell1_BAC009S0764W0121.wav", "甚至出现交易几乎停滞的情况"),
    "b": ("aishell1_BAC009S0764W0122.wav", "一二线城市虽然也处于调整中"),
    "agent": ("aishell1_BAC009S0724W0121.wav", "广州市房地产中介协会分析"),
}


def _clip(key: str) -> np.ndarray:
    return decode_audio(DATA / CLIPS[key][0]).samples[0]


def _aroused(x: np.ndarray, pitch: float = 1.3, gain: float = 3.0) -> np.ndarray:
    """Louder, higher and faster: resample by ``pitch`` (raises f0 and rate) and amplify."""
    n = int(len(x) / pitch)
    y = np.interp(np.arange(n) * pitch, np.arange(len(x)), x)
    return np.clip(y * gain, -1, 1).astype(np.float32)


def _stereo_call(customer_texts: list[str] | None = None):
    """Agent (S0724) on the left, customer (S0764) on the right; the 4th customer line is the
    aroused copy of clip b."""
    sr = 16000
    agent = _clip("agent")
    parts = [("agent", agent, CLIPS["agent"][1]), ("customer", _clip("a"), CLIPS["a"][1]),
             ("agent", agent, CLIPS["agent"][1]), ("customer", _clip("b"), CLIPS["b"][1]),
             ("agent", agent, CLIPS["agent"][1]), ("customer", _clip("a"), CLIPS["a"][1]),
             ("customer", _aroused(_clip("b")), CLIPS["b"][1])]
    total = sum(len(p[1]) for p in parts) + sr * len(parts)
    audio = np.zeros((2, total), dtype=np.float32)
    utts, pos = [], sr // 2
    for k, (role, x, text) in enumerate(parts):
        ch = 0 if role == "agent" else 1
        audio[ch, pos : pos + len(x)] = x
        if customer_texts and role == "customer":
            text = customer_texts.pop(0)
        utts.append(Utterance(role=role, text=text, start=pos / sr, end=(pos + len(x)) / sr, channel=ch))
        pos += len(x) + sr // 2
    info = AudioInfo(path="synthetic.wav", sha256="0" * 64, duration=total / sr, sample_rate=sr, channels=2)
    return Transcript(call_id="V1", utterances=utts), DecodedAudio(samples=audio, sample_rate=sr, info=info)


def test_features_measure_the_louder_higher_copy():
    transcript, audio = _stereo_call()
    feats = utterance_features(transcript, audio)
    base, loud = feats[3], feats[6]  # clip b and its aroused copy, both on the customer channel
    assert loud.loudness_db - base.loudness_db == pytest.approx(20 * np.log10(3.0), abs=1.5)
    assert loud.pitch_st - base.pitch_st == pytest.approx(12 * np.log2(1.3), abs=1.5)
    assert loud.rate_cps / base.rate_cps == pytest.approx(1.3, rel=0.02)
    assert 2.8 < base.rate_cps < 3.5  # 13 characters in 4.1 s


def test_arousal_rises_against_the_speakers_own_baseline():
    transcript, audio = _stereo_call()
    arousal = voice_arousal(transcript, audio)
    customer = [arousal[i] for i in (1, 3, 5)]
    assert arousal[6] > 1.5
    assert all(abs(a) < 0.6 for a in customer)
    assert arousal[0] is not None and abs(arousal[0]) < 0.3  # the agent repeats one clip: flat baseline


def test_arousal_is_per_channel_not_global():
    # The aroused copy on the customer channel must not shift the agent's own baseline.
    transcript, audio = _stereo_call()
    loud_agent = audio.samples.copy()
    loud_agent[0] *= 0.1  # a much quieter agent line level overall
    arousal = voice_arousal(transcript, DecodedAudio(samples=loud_agent, sample_rate=16000, info=audio.info))
    assert all(abs(arousal[i]) < 0.3 for i in (0, 2, 4))
    assert arousal[6] > 1.5


def test_shouting_raises_negativity_only_of_negative_text():
    texts = ["我的宽带又断了", "你们到底什么时候来修", "我等了一整天", "你们太过分了，气死我了"]
    transcript, audio = _stereo_call(list(texts))
    with_voice = analyze_call(transcript, audio)
    text_only = analyze_call(transcript)
    assert with_voice.utterances[6].voice_arousal > 1.5
    assert with_voice.utterances[6].negativity > text_only.utterances[6].negativity
    calm_texts = ["好的", "嗯，对", "是的", "好的，谢谢你"]
    transcript, audio = _stereo_call(list(calm_texts))
    calm = analyze_call(transcript, audio)
    assert calm.utterances[6].negativity == analyze_call(transcript).utterances[6].negativity < 0.5


def test_mono_audio_uses_the_one_stream():
    transcript, audio = _stereo_call()
    mono = DecodedAudio(samples=audio.samples.sum(axis=0, keepdims=True), sample_rate=16000, info=audio.info)
    for u in transcript.utterances:
        u.channel = None
    arousal = voice_arousal(transcript, mono)
    assert arousal[6] > 1.5
