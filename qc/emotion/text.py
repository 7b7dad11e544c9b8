"""Text emotion of one utterance: the trained n-gram model corrected for call language.

Review-trained models (snownlp included) read courtesy as complaint: 抱歉, 不便, 麻烦 and
questions all look negative in product reviews. The scorer therefore

1. masks service formulas (greetings, identity checks, apologies, thanks) before the model
   reads the line, and caps lines that are mostly formula;
2. asks plain questions and thanks for more evidence (a logit shift) before they read negative;
3. adds a domain lexicon of anger, urgency and escalation cues (skipping negated ones, boosting
   intensified ones), and of agent irritation cues for agent lines.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

import qc.emotion.lexicon as lexicon
from qc.emotion.features import LEGACY_GROUP, FeatureGroup, feature_text, vectorize

__all__ = ["MODEL_FILENAME", "MODEL_ENV", "TextModel", "TextEmotion", "load_text_model", "score_text"]

MODEL_FILENAME = "text_model.npz"
MODEL_ENV = "QC_EMOTION_MODEL"


@dataclass
class TextModel:
    """An ensemble of linear models over hashed n-gram groups, folded into one weight vector.

    ``logit(text)`` = ``bias`` + the dot product of the text's feature values (see
    :func:`qc.emotion.features.vectorize`) with ``weights``; ``negativity`` is its sigmoid. The
    per-group ensemble weights and the Platt calibration are folded into ``weights`` and
    ``bias`` when the model is built.
    """

    weights: np.ndarray
    bias: float
    groups: tuple[FeatureGroup, ...] = (LEGACY_GROUP,)
    meta: dict[str, Any] = field(default_factory=dict)

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Bucket indices and values of ``text`` in this model's feature groups."""
        return vectorize(text, self.groups)

    def logit(self, text: str) -> float:
        idx, val = self.features(text)
        return float(self.bias + self.weights[idx].astype(np.float64) @ val)

    def negativity(self, text: str) -> float:
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, self.logit(text)))))

    def with_updates(self, buckets: np.ndarray, values: np.ndarray, bias: float) -> TextModel:
        weights = self.weights.astype(np.float32).copy()
        weights[buckets] = values
        return TextModel(weights=weights, bias=float(bias), groups=self.groups, meta=dict(self.meta))

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            np.savez_compressed(
                f, weights=self.weights.astype(np.float16), bias=np.float64(self.bias),
                groups=np.array(json.dumps([g.to_dict() for g in self.groups])),
                meta=np.array(json.dumps(self.meta, ensure_ascii=False)),
            )


def _resolve(path: str | Path | None) -> str | None:
    if path is None:
        path = os.environ.get(MODEL_ENV) or None
    if path is None:
        return None
    p = Path(path)
    if p.is_dir():
        p = p / MODEL_FILENAME
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no emotion text model here; make one with `qc emotion train labels.csv --out DIR`")
    return str(p.resolve())


@lru_cache(maxsize=4)
def _load(path: str | None) -> TextModel:
    if path is None:
        source = resources.files("qc.emotion").joinpath("data", MODEL_FILENAME)
        handle = source.open("rb")
    else:
        handle = open(path, "rb")
    with handle, np.load(handle) as z:
        if "groups" in z.files:
            groups = tuple(FeatureGroup.from_dict(g) for g in json.loads(str(z["groups"])))
        else:  # first format: one binary group, char 1-3-grams (+ words and bigrams)
            groups = (FeatureGroup(words=2 if bool(z["words"]) else 0, bits=int(z["bits"])),)
        return TextModel(weights=z["weights"].astype(np.float32), bias=float(z["bias"]), groups=groups,
                         meta=json.loads(str(z["meta"])))


def load_text_model(path: str | Path | None = None) -> TextModel:
    """Load a text model: ``path`` (a file or a folder holding text_model.npz), else
    ``$QC_EMOTION_MODEL``, else the model shipped with the package. Cached per path."""
    return _load(_resolve(path))


@dataclass
class TextEmotion:
    """Text-only emotion of one line: ``negativity`` after corrections, ``model`` before them."""

    negativity: float
    model: float
    cues: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # where the cues sit in the normalised text


def _find_all(text: str, cue: str) -> list[int]:
    out, i = [], text.find(cue)
    while i >= 0:
        out.append(i)
        i = text.find(cue, i + 1)
    return out


def _negated(text: str, pos: int, cue: str) -> bool:
    if cue[0] in "不没无别未":
        return False
    before = text[max(0, pos - 3) : pos]
    return any(before.endswith(n) or before[:-1].endswith(n) for n in lexicon.NEGATORS)


def _intensified(text: str, pos: int) -> bool:
    before = text[max(0, pos - 3) : pos]
    return any(i in before for i in lexicon.INTENSIFIERS)


def _cue_hits(text: str, cues: tuple[str, ...], taken: list[bool]) -> list[tuple[str, int]]:
    """Longest-first, non-overlapping, non-negated occurrences of ``cues`` in ``text``."""
    hits = []
    for cue in sorted(cues, key=len, reverse=True):
        for pos in _find_all(text, cue):
            if any(taken[pos : pos + len(cue)]) or _negated(text, pos, cue):
                continue
            for k in range(pos, pos + len(cue)):
                taken[k] = True
            hits.append((cue, pos))
    return hits


_CJK = re.compile(r"[\u4e00-\u9fff]")
_CONTRAST = ("但", "可是", "不过", "然而", "就是", "只是", "却")
_QUESTION_END = re.compile(r"(吗|呢|么|吧|没有|不|是不是|对不对|行不行)?[?？]*$")


def _is_question(raw: str, norm: str) -> bool:
    if raw.rstrip().endswith(("?", "？")):
        return True
    tail = norm.rstrip("。.!！,，~～…")
    return tail.endswith(("吗", "呢", "么")) or tail.startswith("请问")


QUESTION_SHIFT = 1.0  # logits of evidence a plain question needs on top
POSITIVE_SHIFT = 1.5  # thanks / "solved" without any anger cue
ANGER_SHIFT = 1.5  # per anger cue (+0.5 when intensified)
ESCALATION_SHIFT = 2.0  # per escalation cue
# An agent line with no irritation cue is at most "negative", below the temper level (0.8) of
# TEMP01: the model learned from product reviews, and scripted service language that Whisper
# garbles ("请问您是基础被人吗?麻烦抱一下身份证后四位" for 机主本人/麻烦报) reads to it as a
# bad review. A shout on top (voice arousal >= 1.5, qc.emotion.call) still reaches 0.8.
AGENT_UNCUED_CAP = 0.75


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def score_text(text: str, role: str = "customer", model: TextModel | None = None) -> TextEmotion:
    """Score one utterance. ``role`` "agent" checks irritation cues instead of customer anger cues."""
    model = model or load_text_model()
    norm = feature_text(text)
    if not _CJK.search(norm) and not re.search(r"[a-z]", norm):
        return TextEmotion(negativity=0.0, model=0.0)
    taken = [False] * len(norm)
    cues: list[str] = []
    spans: list[tuple[int, int]] = []

    def record(kind: str, hits: list[tuple[str, int]]) -> None:
        for cue, pos in hits:
            cues.append(f"{kind}:{cue}")
            spans.append((pos, pos + len(cue)))

    if role == "agent":
        rude = _cue_hits(norm, lexicon.AGENT_RUDE, taken)
        record("rude", rude)
        anger: list[tuple[str, int]] = []
        escalation: list[tuple[str, int]] = []
        urgency: list[tuple[str, int]] = []
    else:
        rude = []
        escalation = _cue_hits(norm, lexicon.ESCALATION, taken)
        anger = _cue_hits(norm, lexicon.ANGER, taken)
        urgency = _cue_hits(norm, lexicon.URGENCY, taken)
        record("escalation", escalation)
        record("anger", anger)
        record("urgency", urgency)
    negative_cues = bool(rude or anger or escalation)

    polite_taken = [False] * len(norm)
    polite = _cue_hits(norm, lexicon.POLITE_FORMULAS, polite_taken)
    positive = [] if negative_cues else _cue_hits(norm, lexicon.POSITIVE, [False] * len(norm))
    record("polite", polite)
    record("positive", positive)
    masked = "".join(" " if t else ch for ch, t in zip(norm, polite_taken)) if not negative_cues else norm
    rest = "".join(masked.split())
    content = len(_CJK.findall(rest))

    z = model.logit(rest) if content >= 2 else _logit(0.1)
    raw = _sigmoid(z)
    if not negative_cues:
        if polite and content <= len(_CJK.findall(norm)) / 2:
            z = min(z, _logit(0.3))
        if _is_question(text, norm):
            z -= QUESTION_SHIFT
        if positive and not any(c in norm for c in _CONTRAST):  # "不错，但是…" is a complaint
            z -= POSITIVE_SHIFT
    strength = sum(0.15 + (0.1 if _intensified(norm, pos) else 0.0) for _cue, pos in anger)
    z += sum(ANGER_SHIFT + (0.5 if _intensified(norm, pos) else 0.0) for _cue, pos in anger)
    z += ESCALATION_SHIFT * len(escalation)
    neg = _sigmoid(z)
    # On a short call line a cue decides; a long text the model reads as clearly positive
    # ("唯一不满意的是…" in a good review) keeps the model's say.
    if raw >= 0.2:
        if anger:
            neg = max(neg, min(1.0, 0.6 + strength))
        if escalation:
            neg = max(neg, min(1.0, 0.75 + 0.05 * len(escalation)))
    if rude:  # one irritation cue reaches the agent-temper level (0.8) on its own
        neg = max(neg, min(1.0, 0.8 + 0.1 * (len(rude) - 1) + (0.05 if _intensified(norm, rude[0][1]) else 0.0)))
    if urgency:
        neg = min(1.0, neg + 0.1 * len(urgency)) if neg >= 0.3 else neg
    if role == "agent" and not rude:
        neg = min(neg, AGENT_UNCUED_CAP)
    return TextEmotion(negativity=float(neg), model=float(raw), cues=cues, spans=spans)
