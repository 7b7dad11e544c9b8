"""Who is the agent on a mono recording.

A mono call mixes both speakers on one channel. Segments are grouped into two voices by their
average spectrum (a light speaker clustering), and the voice that talks like an agent (the
standard opening, a staff number, "为您服务", "还有什么可以帮您") is the agent. When the two voices
cannot be told apart, each utterance that itself sounds like an agent gets that role and the
rest stay ``unknown``. Roles found this way are marked ``roles_inferred`` on the transcript.
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
)
_AGENT_RE = [re.compile(p) for p in AGENT_PATTERNS]


def agent_score(text: str) -> int:
    """How many agent phrases a piece of text contains."""
    return sum(1 for r in _AGENT_RE if r.search(text))


def voice_features(samples: np.ndarray, sample_rate: int, spans: list[tuple[float, float]]) -> np.ndarray:
    """One spectral vector per time span: mean and spread of log band energies (telephone band)."""
    n_fft, hop = 512, 160
    window = np.hanning(n_fft).astype(np.float32)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = np.geomspace(100, min(3800, sample_rate / 2 - 1), 25)
    bands = [(freqs >= lo) & (freqs < hi) for lo, hi in zip(edges[:-1], edges[1:])]
    out = []
    for start, end in spans:
        a, b = int(start * sample_rate), int(end * sample_rate)
        x = samples[a:b]
        if len(x) < n_fft:
            x = np.pad(x, (0, n_fft - len(x)))
        frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * window
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        energy = np.stack([power[:, m].sum(axis=1) for m in bands], axis=1) + 1e-10
        logE = np.log(energy)
        loud = logE.sum(axis=1)
        voiced = logE[loud >= np.percentile(loud, 40)] if len(loud) > 4 else logE
        spectrum = voiced - voiced.mean(axis=1, keepdims=True)  # level-independent shape
        out.append(np.concatenate([spectrum.mean(axis=0), spectrum.std(axis=0)]))
    return np.asarray(out, dtype=np.float64)


def _two_voices(features: np.ndarray, durations: np.ndarray) -> np.ndarray | None:
    """Split segments into two voices (labels 0/1), or ``None`` if they sound like one."""
    if len(features) < 2:
        return None
    mu, sd = features.mean(axis=0), features.std(axis=0) + 1e-6
    z = (features - mu) / sd
    # 2-means from the farthest pair, weighted by segment duration.
    d = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    i, j = np.unravel_index(np.argmax(d), d.shape)
    centres = np.stack([z[i], z[j]])
    labels = np.zeros(len(z), dtype=int)
    for _ in range(20):
        new = np.argmin(((z[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        for k in (0, 1):
            if np.any(labels == k):
                w = durations[labels == k][:, None]
                centres[k] = (z[labels == k] * w).sum(0) / w.sum()
    if len(set(labels.tolist())) < 2:
        return None
    within = np.mean([((z[labels == k] - centres[k]) ** 2).sum(-1).mean() for k in (0, 1)])
    between = ((centres[0] - centres[1]) ** 2).sum()
    # Fisher-style separation; one speaker split in two gives a ratio well under 1.
    return labels if between / (within + 1e-9) > 1.0 else None


def assign_mono_roles(texts: list[str], features: np.ndarray | None, durations: list[float]) -> list[str]:
    """Roles for the utterances of a mono call.

    Args:
        texts: utterance texts in time order.
        features: :func:`voice_features` rows for the same utterances, or ``None``.
        durations: utterance lengths in seconds (weights for the voice clustering).

    Returns:
        One of "agent", "customer", "unknown" per utterance.
    """
    scores = [agent_score(t) for t in texts]
    labels = None
    if features is not None and len(texts) >= 2:
        labels = _two_voices(features, np.asarray(durations, dtype=float) + 0.1)
    if labels is not None:
        per_voice = [sum(s for s, lab in zip(scores, labels) if lab == k) for k in (0, 1)]
        if per_voice[0] != per_voice[1]:
            agent = int(np.argmax(per_voice))
            return ["agent" if lab == agent else "customer" for lab in labels]
        # Both voices sound equally agent-like (usually: neither). The opener of a call
        # centre recording is the agent in the common inbound case, but that is a guess we
        # only take when the first speaker says something agent-like.
    return ["agent" if s > 0 else "unknown" for s in scores]
