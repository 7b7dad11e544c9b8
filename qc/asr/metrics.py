"""Character error rate for Chinese ASR, after the normalisation every comparison needs."""

from __future__ import annotations

import re

from qc.normalize import to_simplified

__all__ = ["normalize_for_cer", "cer"]

_DROP = re.compile(r"[\W_]+", re.UNICODE)


def normalize_for_cer(text: str) -> str:
    """Simplified characters, lower case, no punctuation or spaces."""
    return _DROP.sub("", to_simplified(text)).lower()


def cer(reference: str, hypothesis: str) -> float:
    """Edit distance between normalised texts divided by the reference length."""
    from rapidfuzz.distance import Levenshtein

    ref, hyp = normalize_for_cer(reference), normalize_for_cer(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)
