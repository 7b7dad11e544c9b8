"""Emerging topics: the customers' reasons that no tag covers, clustered into named candidate tags.

Each untagged call's trigger text is cut into words with jieba; words become TF-IDF vectors
(sublinear term frequency, L2-normalised) and spherical k-means (cosine, k-means++ seeding, a
fixed seed) groups them. A cluster is named by its two strongest words; it reports its top
phrases, the quotes nearest its centre, and its coherence (mean cosine of members to the centre).
Pure numpy, so no extra dependency.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = ["Topic", "tokens", "emerging_topics"]

_STOP = set("""
的 了 是 我 你 他 她 它 们 我们 你们 他们 在 有 和 就 都 也 还 又 很 吗 呢 吧 啊 呀 哦 嗯 这 那 这个 那个 什么 怎么 为什么
一个 一下 一直 没有 没 不 能 会 要 想 说 到 给 让 把 被 对 从 向 跟 与 及 或 但 而 如果 因为 所以 可以 已经 现在 今天 昨天
自己 这样 那样 还是 就是 不是 请问 请 谢谢 你好 您好 客服 官方 问题 问 知道 时候 怎么办 一点 多 少 上 下 里 去 来 做 用 看 后 前
http https cn com www 情况 告诉 结果 出现 显示 解决 无法 支持 希望 感觉 觉得 发现 需要 回来 不要 时间 东西 事情 得 地 着 过 呵呵 哈哈 真的 真是 还有 以后 之后 然后 而且 这么 那么 怎样 如何 麻烦 帮 帮忙 不了 回复 微博 吗 么 啦 嘛 哈 喂 您 好 是不是
""".split())
_WORD = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]*$")


@dataclass
class Topic:
    """One cluster of untagged reasons: a candidate for a new tag."""

    name: str
    size: int
    phrases: list[str]
    examples: list[dict[str, str]] = field(default_factory=list)  # {"call_id", "quote"}
    coherence: float = 0.0
    members: list[str] = field(default_factory=list)  # call ids


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


#: jieba part-of-speech tags kept: nouns, verbs, verbal nouns, English words (topics are things and
#: actions; pronouns, adverbs, conjunctions, time words and numbers only blur them).
_KEEP_POS = ("n", "v", "eng")
_DROP_POS = ("vshi", "vyou", "vf", "nr")  # 是/有, direction verbs, person names (@handles, 老罗, 小沃)


def tokens(text: str) -> list[str]:
    """Content words of a sentence: jieba nouns and verbs of two or more characters, stop words dropped."""
    _jieba()
    from jieba import posseg

    return [w for w, flag in ((p.word.strip(), p.flag) for p in posseg.lcut(text))
            if len(w) >= 2 and flag.startswith(_KEEP_POS) and flag not in _DROP_POS and w not in _STOP and _WORD.match(w)]


def _tfidf(docs: list[list[str]], min_df: int) -> tuple[np.ndarray, list[str]]:
    df = Counter(w for d in docs for w in set(d))
    vocab = sorted(w for w, c in df.items() if c >= min_df and c <= 0.9 * len(docs))
    index = {w: i for i, w in enumerate(vocab)}
    x = np.zeros((len(docs), len(vocab)), dtype=np.float32)
    for r, d in enumerate(docs):
        for w, c in Counter(d).items():
            j = index.get(w)
            if j is not None:
                x[r, j] = 1.0 + math.log(c)
    idf = np.log((1 + len(docs)) / (1 + np.array([df[w] for w in vocab], dtype=np.float32))) + 1.0
    x *= idf
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, norms, out=x, where=norms > 0)
    return x, vocab


def _kmeans(x: np.ndarray, k: int, seed: int, n_init: int = 4, iters: int = 50) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    best, best_score = None, -np.inf
    for _ in range(n_init):
        centers = [x[rng.integers(len(x))]]
        for _ in range(1, k):  # k-means++ on cosine distance
            d = 1.0 - np.max(x @ np.array(centers).T, axis=1)
            d = np.clip(d, 0, None) ** 2
            if d.sum() <= 0:
                break
            centers.append(x[rng.choice(len(x), p=d / d.sum())])
        c = np.array(centers)
        labels = np.zeros(len(x), dtype=int)
        for _ in range(iters):
            sim = x @ c.T
            new = sim.argmax(axis=1)
            if _ and np.array_equal(new, labels):
                break
            labels = new
            for j in range(len(c)):
                m = x[labels == j]
                if len(m):
                    v = m.sum(axis=0)
                    n = np.linalg.norm(v)
                    c[j] = v / n if n else c[j]
        score = float((x @ c.T)[np.arange(len(x)), labels].sum())
        if score > best_score:
            best, best_score = (labels.copy(), c.copy()), score
    assert best is not None
    return best


def emerging_topics(
    reasons: list[tuple[str, str]],
    k: int | None = None,
    min_size: int = 3,
    seed: int = 0,
    n_phrases: int = 5,
    n_examples: int = 3,
    min_coherence: float = 0.15,
) -> list[Topic]:
    """Cluster ``(call_id, reason text)`` pairs (the untagged calls) into named topics, largest first.

    Args:
        reasons: the calls no tag covers, with the customer's trigger text.
        k: number of clusters (default about sqrt(n / 2), 2..30).
        min_size: clusters smaller than this are dropped (noise, one-off complaints).
        seed: k-means seed; the same input gives the same topics.
        min_coherence: clusters whose members sit further from their centre than this (mean cosine)
            are the leftovers k-means had to put somewhere, not a topic; they are dropped.

    Returns:
        :class:`Topic` list; each has ``members`` (call ids) and ``examples`` (quotes nearest its centre).
    """
    docs = [tokens(t) for _, t in reasons]
    keep = [i for i, d in enumerate(docs) if d]
    if len(keep) < max(2, min_size):
        return []
    min_df = 2 if len(keep) >= 20 else 1
    x, vocab = _tfidf([docs[i] for i in keep], min_df)
    nonzero = np.linalg.norm(x, axis=1) > 0
    rows = [keep[i] for i in range(len(keep)) if nonzero[i]]
    x = x[nonzero]
    if len(rows) < max(2, min_size) or not vocab:
        return []
    k = k or max(2, min(30, round(math.sqrt(len(rows) / 2))))
    k = min(k, len(rows))
    labels, centers = _kmeans(x, k, seed)
    out = []
    for j in range(len(centers)):
        idx = np.flatnonzero(labels == j)
        if len(idx) < min_size:
            continue
        sims = x[idx] @ centers[j]
        if float(sims.mean()) < min_coherence:
            continue
        weight = x[idx].mean(axis=0)
        top = [vocab[t] for t in np.argsort(-weight)[:n_phrases] if weight[t] > 0]
        order = idx[np.argsort(-sims)]
        examples = [{"call_id": reasons[rows[i]][0], "quote": reasons[rows[i]][1]} for i in order[:n_examples]]
        out.append(Topic(name="·".join(top[:2]) or f"话题{j + 1}", size=int(len(idx)), phrases=top, examples=examples,
                         coherence=round(float(sims.mean()), 3), members=[reasons[rows[i]][0] for i in idx]))
    return sorted(out, key=lambda t: (-t.size, -t.coherence, t.name))
