"""Emotion and risk stage: who was upset, how it went, and which complaints must be escalated.

Text: an ensemble of hashed char 1-4-gram and jieba word NB-LR models (trained on labelled
reviews, shipped as ``data/text_model.npz``, inference in numpy) corrected for call language
with domain lexicons.
Voice (optional): loudness, pitch and speech-rate rises against each speaker's own baseline.
Per call: customer/agent negativity, trajectory, volatility, drivers, complaint type and
priority (risk flags are the rules', RISK01-05), and the call outcome models' calibrated probabilities that the customer
left dissatisfied or the problem unresolved (trained on annotated helpdesk dialogues, shipped as
``data/call_model.npz``). Nothing here imports the ASR stage.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from qc.emotion.call import ANGRY, NEGATIVE, analyze_call, score_utterances
    from qc.emotion.dialogue import CALL_MODEL_ENV, load_call_model
    from qc.emotion.summary import summary_lines
    from qc.emotion.text import MODEL_ENV, load_text_model, score_text

# Imported on first use: the rules read the risk and complaint cues (qc.emotion.risk, .lexicon)
# without paying for numpy and the text model.
_LAZY = {
    "ANGRY": "qc.emotion.call", "NEGATIVE": "qc.emotion.call", "analyze_call": "qc.emotion.call",
    "score_utterances": "qc.emotion.call", "summary_lines": "qc.emotion.summary", "MODEL_ENV": "qc.emotion.text",
    "load_text_model": "qc.emotion.text", "score_text": "qc.emotion.text",
    "CALL_MODEL_ENV": "qc.emotion.dialogue", "load_call_model": "qc.emotion.dialogue",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qc.emotion' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ANGRY",
    "NEGATIVE",
    "MODEL_ENV",
    "CALL_MODEL_ENV",
    "analyze_call",
    "score_utterances",
    "score_text",
    "load_text_model",
    "load_call_model",
    "summary_lines",
]
