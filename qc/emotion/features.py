"""Hashed n-gram features shared by the text model's training and inference.

The text model is an ensemble of linear models, one per *feature group* (e.g. character
1-4-grams, jieba words + word bigrams). Each group hashes its n-grams with CRC32 (stable across
processes, unlike ``hash``) into its own ``2**bits`` buckets, placed one after another in a
single weight vector. A text becomes (bucket indices, values): the value of a bucket is its
count, ``1 + log(count)`` (sublinear tf) or 1 (binary), l2-normalised per group when the group
says so. The model's logit is then a dot product with the weight vector: numpy only.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qc.normalize import to_simplified

__all__ = [
    "DEFAULT_BITS", "FeatureGroup", "LEGACY_GROUP", "feature_text", "feature_strings",
    "hash_features", "vectorize", "vectorize_groups",
]

DEFAULT_BITS = 19

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})


@dataclass(frozen=True)
class FeatureGroup:
    """One group of hashed features and how its values are weighted.

    Attributes:
        chars: character n-gram sizes ``(lo, hi)``, or None for no character n-grams.
        words: 0 no jieba words, 1 word unigrams, 2 unigrams and bigrams.
        bits: the group has ``2**bits`` buckets.
        tf: ``"binary"`` (1 per distinct bucket) or ``"log"`` (``1 + log(count)``).
        l2: divide the group's values by their l2 norm, or by ``l2_floor`` when the norm is
            smaller (a short line carries less evidence than a review; without the floor a
            four-character line would weigh as much as a paragraph).
        l2_floor: see ``l2``.
    """

    chars: tuple[int, int] | None = (1, 3)
    words: int = 2
    bits: int = DEFAULT_BITS
    tf: str = "binary"
    l2: bool = False
    l2_floor: float = 0.0

    @property
    def size(self) -> int:
        return 1 << self.bits

    def to_dict(self) -> dict:
        return {"chars": list(self.chars) if self.chars else None, "words": self.words, "bits": self.bits,
                "tf": self.tf, "l2": self.l2, "l2_floor": self.l2_floor}

    @classmethod
    def from_dict(cls, d: dict) -> FeatureGroup:
        return cls(chars=tuple(d["chars"]) if d.get("chars") else None, words=int(d.get("words", 0)),
                   bits=int(d["bits"]), tf=d.get("tf", "binary"), l2=bool(d.get("l2", False)),
                   l2_floor=float(d.get("l2_floor", 0.0)))


# The single group of the first model format (char 1-3-grams + words + bigrams, binary).
LEGACY_GROUP = FeatureGroup()


def feature_text(text: str) -> str:
    """The text the models' features are read from: simplified characters, full-width ASCII folded,
    lowercase, every digit 0, no whitespace. Not :func:`qc.normalize.normalize_text` (matching),
    which keeps digits and spaces."""
    text = to_simplified(text).translate(_FULLWIDTH).lower().replace("\ufeff", "")
    text = _DIGITS.sub("0", text)
    return _SPACE.sub("", text)


def _words(text: str) -> list[str]:
    return [w for w in _jieba().lcut(text, HMM=False) if w.strip()]


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter is not a log a QA user needs
    return jieba


def _strings(text: str, group: FeatureGroup, words: list[str] | None) -> list[str]:
    feats: list[str] = []
    if group.chars:
        n = len(text)
        for size in range(group.chars[0], group.chars[1] + 1):
            feats.extend(text[i : i + size] for i in range(n - size + 1))
    if group.words and words is not None:
        feats.extend("w:" + w for w in words)
        if group.words >= 2:
            feats.extend("b:" + a + "|" + b for a, b in zip(words, words[1:]))
    return feats


def feature_strings(text: str, words: bool = True) -> list[str]:
    """The n-gram strings of ``text`` (already normalised) in the legacy group, before hashing."""
    return _strings(text, LEGACY_GROUP if words else FeatureGroup(words=0), _words(text) if words else None)


def hash_features(text: str, bits: int = DEFAULT_BITS, words: bool = True) -> np.ndarray:
    """Unique bucket indices (int64) of the normalised ``text``'s legacy-group n-grams."""
    mask = (1 << bits) - 1
    idx = {zlib.crc32(f.encode("utf-8")) & mask for f in feature_strings(feature_text(text), words=words)}
    return np.fromiter(idx, dtype=np.int64, count=len(idx))


def vectorize_groups(text: str, groups: tuple[FeatureGroup, ...], normalized: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per group: bucket indices (int64, within the group) and their values for ``text``.

    Args:
        text: the text; normalised first unless ``normalized``.
        groups: the feature groups.
        normalized: ``text`` already went through :func:`feature_text`.
    """
    if not normalized:
        text = feature_text(text)
    words = _words(text) if any(g.words for g in groups) else None
    out = []
    for g in groups:
        mask = g.size - 1
        hashed = np.fromiter((zlib.crc32(f.encode("utf-8")) & mask for f in _strings(text, g, words)), dtype=np.int64)
        idx, counts = np.unique(hashed, return_counts=True)
        val = np.ones(len(idx)) if g.tf == "binary" else 1.0 + np.log(counts)
        if g.l2 and len(val):
            val = val / max(np.sqrt(val @ val), g.l2_floor)
        out.append((idx, val))
    return out


def vectorize(text: str, groups: tuple[FeatureGroup, ...], normalized: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Bucket indices (int64, into the concatenated groups' weight vector) and their values."""
    parts = vectorize_groups(text, groups, normalized=normalized)
    offsets = np.cumsum([0] + [g.size for g in groups[:-1]])
    return (np.concatenate([idx + off for (idx, _), off in zip(parts, offsets)]),
            np.concatenate([val for _, val in parts]))
