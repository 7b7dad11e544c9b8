"""Call-level outcome models: is the customer dissatisfied, is the problem left unresolved?

The utterance model (:mod:`qc.emotion.text`) says how negative each line reads. Whether a call
went badly is a different question: a customer who *describes* a fault ("手机开不了机") is not
yet dissatisfied, and one who ends with "还是没解决" after a polite agent is. These models read
the whole call and were trained on annotated customer-service dialogues (see
``docs/emotion.md`` and the model card ``data/call_model.md``):

* ``dissatisfied``: annotated customer satisfaction S < 0;
* ``unresolved``: annotated task accomplishment A < 0 (the first-contact-resolution signal).

Features (never the call's length or id): hashed character n-grams in separate blocks for the
customer's whole text, the agent's whole text, the customer's first and last turns and the
agent's last turn, plus a few dense cues: the utterance model's scores and trajectory, who
spoke last, an unanswered customer question at the end, repetition, the agent's apologies,
promises and "done" statements, and the customer's thanks. Each model is a logistic
regression over those features with Platt calibration folded into its weights, so inference is
a dot product in numpy and the output is a calibrated probability.
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
from typing import Any, Sequence

import numpy as np

from qc.emotion.features import FeatureGroup, feature_text, vectorize_groups

__all__ = [
    "CALL_MODEL_FILENAME", "CALL_MODEL_ENV", "OUTCOMES", "DENSE_FEATURES", "Turn", "CallOutcomeModel",
    "CallFeatures", "turns_of", "call_features", "load_call_model",
]

CALL_MODEL_FILENAME = "call_model.npz"
CALL_MODEL_ENV = "QC_CALL_MODEL"
OUTCOMES = ("dissatisfied", "unresolved")

# text blocks: name -> what text goes in
BLOCKS = ("customer", "agent", "customer_last", "customer_first", "agent_last")

_QUESTION = re.compile(r"([?？]|[吗呢么][。.!！~～…]*$|^请问|怎么|为什么|为啥|什么时候|多久|能不能|可不可以|是不是|有没有)")
_APOLOGY = ("抱歉", "对不起", "不好意思", "歉意", "不便", "谅解")
_PROMISE = ("会尽快", "尽快", "跟进", "反馈", "核实", "核查", "处理", "联系您", "回复您", "登记", "上报", "转交")
_DONE = ("已经为您", "已为您", "已经帮您", "已帮您", "已处理", "已解决", "已经解决", "已恢复", "已经恢复",
         "已退", "已补", "已到账", "已安排", "已经安排", "处理好", "办理成功", "成功")
_REDIRECT = ("拨打", "致电", "营业厅", "私信", "网站", "登录", "前往", "咨询", "热线")
_THANKS = ("谢谢", "感谢", "多谢", "好的", "解决了", "满意", "辛苦", "明白了", "收到", "ok", "好了")
_STILL = ("还是", "依然", "仍然", "仍旧", "一直", "还没", "都没", "没有解决", "没解决", "没人", "又", "再次", "多次", "几次")

DENSE_FEATURES = (
    "cust_neg_mean", "cust_neg_max", "cust_neg_last", "cust_neg_first", "cust_neg_delta",
    "agent_neg_mean", "customer_spoke_last", "last_customer_question", "unanswered_share",
    "customer_question_share", "repetition", "agent_apology_share", "agent_promise_share",
    "agent_done_share", "agent_redirect_share", "customer_thanks_last", "customer_still_share",
    "customer_turn_share", "single_customer_turn",
)


@dataclass
class Turn:
    """A run of consecutive utterances by one side (a chat post burst, a stretch of speech)."""

    role: str  # "customer" or "agent"
    text: str
    utterances: list[int] = field(default_factory=list)


def turns_of(roles: Sequence[str], texts: Sequence[str]) -> list[Turn]:
    """Group consecutive same-side utterances into turns (anything not "agent" is the customer)."""
    out: list[Turn] = []
    for i, (role, text) in enumerate(zip(roles, texts)):
        side = "agent" if role == "agent" else "customer"
        if out and out[-1].role == side:
            out[-1].text += "\n" + text
            out[-1].utterances.append(i)
        else:
            out.append(Turn(side, text, [i]))
    return out


def _has(text: str, cues: tuple[str, ...]) -> bool:
    return any(c in text for c in cues)


def _share(turns: list[Turn], cues: tuple[str, ...]) -> float:
    return sum(_has(t.text, cues) for t in turns) / len(turns) if turns else 0.0


def _is_question(text: str) -> bool:
    return any(_QUESTION.search(part.strip()) for part in re.split(r"[\n。！!]", text) if part.strip())


def _bigrams(text: str) -> set[str]:
    t = re.sub(r"[^\u4e00-\u9fffa-z0-9]", "", text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def _repetition(turns: list[Turn]) -> float:
    """Most any customer turn repeats an earlier one (share of its character bigrams)."""
    best = 0.0
    seen: list[set[str]] = []
    for t in turns:
        b = _bigrams(t.text)
        if len(b) >= 4:
            for s in seen:
                best = max(best, len(b & s) / len(b))
            seen.append(b)
    return best


@dataclass
class CallFeatures:
    """What the call models read: normalised text per block and the dense cue vector."""

    blocks: dict[str, str]
    dense: np.ndarray


def call_features(roles: Sequence[str], texts: Sequence[str], negativity: Sequence[float]) -> CallFeatures:
    """Features of one call from its utterances' roles, texts and utterance-model negativity.

    Args:
        roles: per utterance, "agent" or anything else (the customer).
        texts: per utterance, the text.
        negativity: per utterance, :func:`qc.emotion.text.score_text` negativity.
    """
    norm = [feature_text(t) for t in texts]
    turns = turns_of(roles, norm)
    cust = [t for t in turns if t.role == "customer"]
    agent = [t for t in turns if t.role == "agent"]
    blocks = {
        "customer": "\n".join(t.text for t in cust),
        "agent": "\n".join(t.text for t in agent),
        "customer_last": cust[-1].text if cust else "",
        "customer_first": cust[0].text if cust else "",
        "agent_last": agent[-1].text if agent else "",
    }
    neg = np.asarray(negativity, dtype=np.float64)

    def turn_neg(t: Turn) -> float:
        return float(neg[t.utterances].max()) if len(neg) else 0.0

    cneg = np.array([turn_neg(t) for t in cust]) if cust else np.zeros(1)
    aneg = np.array([turn_neg(t) for t in agent]) if agent else np.zeros(1)
    unanswered = 0
    for k, t in enumerate(turns):
        if t.role == "customer" and _is_question(t.text) and not any(u.role == "agent" for u in turns[k + 1 :]):
            unanswered += 1
    cq = sum(_is_question(t.text) for t in cust)
    dense = np.array([
        cneg.mean(), cneg.max(), cneg[-1], cneg[0], cneg[-1] - cneg[0],
        aneg.mean(),
        float(bool(turns) and turns[-1].role == "customer"),
        float(bool(cust) and _is_question(cust[-1].text)),
        unanswered / max(1, cq),
        cq / max(1, len(cust)),
        _repetition(cust),
        _share(agent, _APOLOGY), _share(agent, _PROMISE), _share(agent, _DONE), _share(agent, _REDIRECT),
        float(bool(cust) and _has(cust[-1].text, _THANKS)),
        _share(cust, _STILL),
        len(cust) / max(1, len(turns)),
        float(len(cust) == 1),
    ], dtype=np.float64)
    return CallFeatures(blocks=blocks, dense=dense)


@dataclass
class CallOutcomeModel:
    """Logistic models of call outcomes over hashed text blocks and dense cues.

    ``logit[o] = bias[o] + sum over blocks of (block features . weights[o][block]) + dense . dense_w[o]``
    where dense values are standardised with ``dense_mean``/``dense_scale`` first; Platt
    calibration is folded into the weights and bias, so ``sigmoid(logit)`` is the probability.
    """

    group: FeatureGroup
    blocks: tuple[str, ...]
    outcomes: tuple[str, ...]
    weights: np.ndarray  # (outcomes, blocks * group.size)
    dense_w: np.ndarray  # (outcomes, dense)
    bias: np.ndarray  # (outcomes,)
    dense_mean: np.ndarray
    dense_scale: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def vector(self, feats: CallFeatures) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sparse indices and values over all blocks, and the standardised dense vector."""
        idx, val = [], []
        for b, name in enumerate(self.blocks):
            (i, v), = vectorize_groups(feats.blocks[name], (self.group,), normalized=True)
            idx.append(i + b * self.group.size)
            val.append(v)
        dense = (feats.dense - self.dense_mean) / self.dense_scale
        return np.concatenate(idx), np.concatenate(val), dense

    def logits(self, feats: CallFeatures) -> np.ndarray:
        idx, val, dense = self.vector(feats)
        return self.bias + self.weights[:, idx].astype(np.float64) @ val + self.dense_w @ dense

    def predict(self, feats: CallFeatures) -> dict[str, float]:
        """Calibrated probability of each outcome."""
        z = np.clip(self.logits(feats), -30, 30)
        return {o: float(1.0 / (1.0 + math.exp(-zz))) for o, zz in zip(self.outcomes, z)}

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            np.savez_compressed(
                f, weights=self.weights.astype(np.float16), dense_w=self.dense_w, bias=self.bias,
                dense_mean=self.dense_mean, dense_scale=self.dense_scale,
                group=np.array(json.dumps(self.group.to_dict())), blocks=np.array(json.dumps(list(self.blocks))),
                outcomes=np.array(json.dumps(list(self.outcomes))),
                meta=np.array(json.dumps(self.meta, ensure_ascii=False)),
            )


def _resolve(path: str | Path | None) -> str | None:
    if path is None:
        path = os.environ.get(CALL_MODEL_ENV) or None
    if path is None:
        return None
    p = Path(path)
    if p.is_dir():
        p = p / CALL_MODEL_FILENAME
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no call model here; make one with `qc emotion train calls.csv --out DIR`")
    return str(p.resolve())


@lru_cache(maxsize=4)
def _load(path: str | None) -> CallOutcomeModel:
    if path is None:
        handle = resources.files("qc.emotion").joinpath("data", CALL_MODEL_FILENAME).open("rb")
    else:
        handle = open(path, "rb")
    with handle, np.load(handle) as z:
        return CallOutcomeModel(
            group=FeatureGroup.from_dict(json.loads(str(z["group"]))), blocks=tuple(json.loads(str(z["blocks"]))),
            outcomes=tuple(json.loads(str(z["outcomes"]))), weights=z["weights"].astype(np.float32),
            dense_w=z["dense_w"].astype(np.float64), bias=z["bias"].astype(np.float64),
            dense_mean=z["dense_mean"].astype(np.float64), dense_scale=z["dense_scale"].astype(np.float64),
            meta=json.loads(str(z["meta"])),
        )


def load_call_model(path: str | Path | None = None) -> CallOutcomeModel:
    """Load the call outcome model: ``path`` (a file or a folder holding call_model.npz), else
    ``$QC_CALL_MODEL``, else the model shipped with the package. Cached per path."""
    return _load(_resolve(path))


def line_pushes(model: CallOutcomeModel, roles: Sequence[str], texts: Sequence[str], outcome: str = "dissatisfied") -> list[tuple[int, float]]:
    """How much each customer line's own n-grams push ``outcome``'s logit up, highest first.

    A line counts through the customer block, and through the last-turn block when it belongs
    to the customer's last turn; this is what a reviewer should listen to first.
    """
    o = model.outcomes.index(outcome)
    size = model.group.size
    blocks = {name: k for k, name in enumerate(model.blocks)}
    turns = turns_of(roles, texts)
    cust = [t for t in turns if t.role == "customer"]
    last = set(cust[-1].utterances) if cust else set()
    out = []
    for t in cust:
        for i in t.utterances:
            (idx, val), = vectorize_groups(texts[i], (model.group,))
            push = float(model.weights[o, idx + blocks["customer"] * size] @ val)
            if i in last:
                push += float(model.weights[o, idx + blocks["customer_last"] * size] @ val)
            out.append((i, push))
    return sorted(out, key=lambda x: -x[1])
