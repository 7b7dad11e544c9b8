"""Who is the agent on a mono recording.

A mono call mixes both speakers on one channel. Utterances are grouped into two voices by their
mel-cepstrum and pitch (a light speaker clustering learnt from the utterances of a second or
more), and the voice that talks like an agent (the standard opening, a staff number, "为您服务",
"还有什么可以帮您") is the agent. When the two voices cannot be told apart (the split is no
better than on the same numbers shuffled), each utterance that itself sounds like an agent gets
that role and the rest stay ``unknown``. Roles found this way are marked ``roles_inferred`` on
the transcript. No speaker-embedding model is used: none installs offline with its weights as a
light package (bench/bench_tts_calls.py and docs/transcription.md give the numbers).
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["AGENT_PATTERNS", "agent_score", "voice_features", "assign_mono_roles"]

# Phrases a contact-centre agent says and a caller almost never does.
AGENT_PATTERNS: tuple[str, ...] = (
    r"工号",
    r"[0-9零一二三四五六七八九十]+号(客服|话务员|坐席|为您服务)",
    r"为您服务",
    r"很高兴为您",
    r"(有什么|什么)(可以|能)(帮|为)(您|你)",
    r"(您好|你好)[，, ]*(这里是|这边是|欢迎致电)",
    r"欢迎致电",
    r"感谢(您的)?来电",
    r"请(您)?稍等",
    r"请问(您)?(还有)?(什么|其他)",
    r"还有(其他|别的|什么)(问题|需要|可以)",
    r"请(您)?对(我的)?服务",
    r"祝您(生活愉快|愉快|工作顺利)",
    r"(客服|服务)(中心|热线)",
    r"给您带来(的)?不便",
    r"核实(一下)?(您的)?",
    r"请问(是)?.{0,6}(先生|女士)",
    r"(^|[，,。 ])(好的|嗯)?[，, ]*(您)?请(您)?(讲|说)",
)
_AGENT_RE = [re.compile(p) for p in AGENT_PATTERNS]


def agent_score(text: str) -> int:
    """How many agent phrases a piece of text contains."""
    return sum(1 for r in _AGENT_RE if r.search(text))


def _mel_filters(sample_rate: int, n_fft: int, n_bands: int = 24, lo: float = 100.0, hi: float = 3800.0) -> np.ndarray:
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    hz = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)  # noqa: E731
    hi = min(hi, sample_rate / 2 - 1)
    points = hz(np.linspace(mel(lo), mel(hi), n_bands + 2))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    bank = np.zeros((n_bands, len(freqs)))
    for i in range(n_bands):
        a, b, c = points[i:i + 3]
        bank[i] = np.clip(np.minimum((freqs - a) / (b - a), (c - freqs) / (c - b)), 0.0, None)
    return bank


def _pitch(x: np.ndarray, sample_rate: int, fmin: float = 70.0, fmax: float = 400.0) -> np.ndarray:
    """Pitch (Hz) of the louder half of 40 ms frames that are clearly periodic (autocorrelation)."""
    n, hop = int(0.04 * sample_rate), int(0.01 * sample_rate)
    if len(x) < n:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[::hop].astype(np.float64)
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = (frames ** 2).mean(axis=1)
    frames = frames[energy >= np.percentile(energy, 50)]
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames, 2 * n, axis=1)) ** 2, axis=1)[:, :n]
    lo, hi = int(sample_rate / fmax), int(sample_rate / fmin)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    peak = ac[np.arange(len(ac)), lag]
    periodic = (ac[:, 0] > 0) & (peak > 0.45 * ac[:, 0])
    return sample_rate / lag[periodic]


def voice_features(samples: np.ndarray, sample_rate: int, spans: list[tuple[float, float]]) -> np.ndarray:
    """One vector per time span describing the voice: mean and spread of 12 mel-cepstral
    coefficients over the louder frames (vocal tract, telephone band) and the 25/50/75th
    percentiles of log pitch."""
    from scipy.fft import dct

    n_fft, hop = 512, int(0.01 * sample_rate)
    window = np.hanning(n_fft)
    bank = _mel_filters(sample_rate, n_fft)
    out = []
    for start, end in spans:
        x = np.asarray(samples[int(start * sample_rate): int(end * sample_rate)], dtype=np.float64)
        if len(x) < n_fft:
            x = np.pad(x, (0, n_fft - len(x)))
        frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * window
        log_mel = np.log(np.abs(np.fft.rfft(frames, axis=1)) ** 2 @ bank.T + 1e-10)
        loud = log_mel.max(axis=1)
        if len(loud) > 4:
            log_mel = log_mel[loud >= np.percentile(loud, 50)]
        cep = dct(log_mel, type=2, axis=1, norm="ortho")[:, 1:13]
        f0 = _pitch(x, sample_rate)
        logf0 = np.log(f0) if len(f0) else np.full(1, np.log(200.0))
        out.append(np.concatenate([cep.mean(axis=0), cep.std(axis=0), np.percentile(logf0, [25, 50, 75])]))
    return np.asarray(out, dtype=np.float64)


def _two_means(z: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted 2-means from the farthest pair: labels 0/1."""
    d = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    i, j = np.unravel_index(np.argmax(d), d.shape)
    centres = np.stack([z[i], z[j]])
    labels = np.full(len(z), -1)
    for _ in range(30):
        new = np.argmin(((z[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for k in (0, 1):
            if np.any(labels == k):
                w = weights[labels == k][:, None]
                centres[k] = (z[labels == k] * w).sum(0) / w.sum()
    return labels


_NULL_FACTOR = 1.2


def _separation(z: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> float:
    """Squared distance between the two groups' centres over their mean squared spread."""
    if len(set(labels.tolist())) < 2:
        return 0.0
    centres = [z[labels == k].mean(axis=0) for k in (0, 1)]
    within = np.mean([((z[labels == k] - centres[k]) ** 2).sum(-1).mean() for k in (0, 1)])
    return float(((centres[0] - centres[1]) ** 2).sum() / (within + 1e-9))


def _two_voices(features: np.ndarray, durations: np.ndarray, min_seconds: float = 1.0) -> np.ndarray | None:
    """Split segments into two voices (labels 0/1), or ``None`` if they sound like one.

    The voices are learnt from segments of at least ``min_seconds`` (a short 好的 or 再见 says
    little about a voice); every segment then goes to the nearer voice.
    """
    if len(features) < 2:
        return None
    mu, sd = features.mean(axis=0), features.std(axis=0) + 1e-6
    z = (features - mu) / sd
    learn = durations >= min_seconds
    if learn.sum() < 2:
        learn[:] = True
    zl, wl = z[learn], durations[learn]
    labels = _two_means(zl, wl)
    if len(set(labels.tolist())) < 2:
        return None
    # Two voices differ in many coefficients at once; one voice split in two only in noise. So
    # the split must separate the segments far better than it separates the same numbers with
    # each coefficient shuffled across segments (which keeps the spread, not the structure).
    rng = np.random.default_rng(0)
    null = [_separation(shuffled, wl, _two_means(shuffled, wl))
            for shuffled in (np.stack([rng.permutation(col) for col in zl.T], axis=1) for _ in range(20))]
    if _separation(zl, wl, labels) < _NULL_FACTOR * float(np.median(null)):
        return None
    centres = np.stack([zl[labels == k].mean(axis=0) for k in (0, 1)])
    return np.argmin(((z[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)


_REPLY_SECONDS = 2.0


def assign_mono_roles(
    texts: list[str],
    features: np.ndarray | None,
    durations: list[float],
    gaps: list[float] | None = None,
) -> list[str]:
    """Roles for the utterances of a mono call.

    Args:
        texts: utterance texts in time order.
        features: :func:`voice_features` rows for the same utterances, or ``None``.
        durations: utterance lengths in seconds (weights for the voice clustering).
        gaps: seconds of silence before each utterance (the first one's is ignored), if known:
            a short utterance that follows the previous one without a pause is the same speaker
            going on (Whisper cut one stretch of speech in two), not a voice of its own.

    Returns:
        One of "agent", "customer", "unknown" per utterance.
    """
    scores = [agent_score(t) for t in texts]
    labels = None
    if features is not None and len(texts) >= 2:
        labels = _two_voices(features, np.asarray(durations, dtype=float) + 0.1)
    if labels is None:
        return ["agent" if s > 0 else "unknown" for s in scores]
    if gaps is not None:
        for i in range(1, len(labels)):
            if durations[i] < 1.0 and gaps[i] < 0.1:
                labels[i] = labels[i - 1]
    per_voice = [sum(s for s, lab in zip(scores, labels) if lab == k) for k in (0, 1)]
    if scores[0] > 0:
        # The call opens with an agent-like line (您好，工号…为您服务): that voice is the agent.
        # A surer cue than counting agent phrases per voice, which an utterance holding both
        # speakers (a quick reply run into the agent's next line) can tip the wrong way.
        agent = int(labels[0])
    elif per_voice[0] != per_voice[1]:
        agent = int(np.argmax(per_voice))
    else:
        return ["agent" if s > 0 else "unknown" for s in scores]
    roles = ["agent" if lab == agent else "customer" for lab in labels]
    # Turn-taking: a short utterance between two lines of one voice, with a pause on either side,
    # is most likely the other party answering (是的, 那好吧, 谢谢): a voice vector of under two
    # seconds says less than the turn does. (Without a pause after it, it is the same speaker
    # going on: 「感谢您的来电」「祝您生活愉快，再见」.)
    for i in range(1, len(roles) - 1):
        if (durations[i] < _REPLY_SECONDS and scores[i] == 0 and roles[i - 1] == roles[i] == roles[i + 1]
                and (gaps is None or gaps[i] >= 0.1 and gaps[i + 1] >= 0.1)):
            roles[i] = "customer" if roles[i] == "agent" else "agent"
    return roles
