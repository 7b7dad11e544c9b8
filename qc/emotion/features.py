"""Hashed n-gram features shared by the text model's training and inference.

A text becomes a set of bucket indices: character 1-3-grams plus jieba word unigrams and
bigrams, each hashed with CRC32 (stable across processes, unlike ``hash``) into ``2**bits``
buckets. The model is a weight per bucket, so inference is a sum of looked-up weights.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

import numpy as np

__all__ = ["DEFAULT_BITS", "to_simplified", "normalize_text", "feature_strings", "hash_features"]

DEFAULT_BITS = 19

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> simplified characters (ASR and agents may write either)."""
    return _t2s().convert(text)


def normalize_text(text: str) -> str:
    """Simplify characters, fold full-width ASCII, lowercase, collapse digits, drop whitespace."""
    text = to_simplified(text).translate(_FULLWIDTH).lower().replace("\ufeff", "")
    text = _DIGITS.sub("0", text)
    return _SPACE.sub("", text)


def _words(text: str) -> list[str]:
    import jieba

    return [w for w in jieba.lcut(text, HMM=False) if w.strip()]


def feature_strings(text: str, words: bool = True) -> list[str]:
    """The n-gram strings of ``text`` (already normalised), before hashing."""
    feats: list[str] = []
    n = len(text)
    for size in (1, 2, 3):
        for i in range(n - size + 1):
            feats.append(text[i : i + size])
    if words:
        ws = _words(text)
        feats.extend("w:" + w for w in ws)
        feats.extend("b:" + a + "|" + b for a, b in zip(ws, ws[1:]))
    return feats


def hash_features(text: str, bits: int = DEFAULT_BITS, words: bool = True) -> np.ndarray:
    """Unique bucket indices (int64) of the normalised ``text``'s n-grams."""
    mask = (1 << bits) - 1
    idx = {zlib.crc32(f.encode("utf-8")) & mask for f in feature_strings(normalize_text(text), words=words)}
    return np.fromiter(idx, dtype=np.int64, count=len(idx))
