"""Emotion and risk stage: who was upset, how it went, and which complaints must be escalated.

Text: an ensemble of hashed char 1-4-gram and jieba word NB-LR models (trained on labelled
reviews, shipped as ``data/text_model.npz``, inference in numpy) corrected for call language
with domain lexicons.
Voice (optional): loudness, pitch and speech-rate rises against each speaker's own baseline.
Per call: customer/agent negativity, trajectory, volatility, drivers, complaint type and
priority, risk flags. Nothing here imports the ASR stage.
"""

from __future__ import annotations

from qc.emotion.call import ANGRY, NEGATIVE, analyze_call, score_utterances
from qc.emotion.summary import summary_lines
from qc.emotion.text import MODEL_ENV, load_text_model, score_text

__all__ = [
    "ANGRY",
    "NEGATIVE",
    "MODEL_ENV",
    "analyze_call",
    "score_utterances",
    "score_text",
    "load_text_model",
    "summary_lines",
]
