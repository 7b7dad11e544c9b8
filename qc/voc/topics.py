"""Emerging topics: the customers' reasons that no tag covers, clustered into named candidate tags.

Each untagged call's trigger text loses its boilerplate sentences (greetings, thanks, wishes,
hashtags) and is cut into words with jieba; content words and the phrases two adjacent content
words make (系统·更新 -> 系统更新) become TF-IDF vectors (sublinear term frequency, L2-normalised),
and spherical k-means (cosine, k-means++ seeding, a fixed seed) groups them, with k chosen by the
cosine silhouette. A cluster is named by its most *distinctive* phrases (common in the cluster,
rare outside it), and reports its share of members holding its top phrase, the quotes nearest its
centre, and its coherence (mean cosine of members to the centre). Pure numpy, no extra dependency.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = ["Topic", "tokens", "features", "strip_boilerplate", "emerging_topics"]

_STOP = set("""
的 了 是 我 你 他 她 它 们 我们 你们 他们 在 有 和 就 都 也 还 又 很 吗 呢 吧 啊 呀 哦 嗯 这 那 这个 那个 什么 怎么 为什么
一个 一下 一直 没有 没 不 能 会 要 想 说 到 给 让 把 被 对 从 向 跟 与 及 或 但 而 如果 因为 所以 可以 已经 现在 今天 昨天
自己 这样 那样 还是 就是 不是 请问 请 谢谢 你好 您好 客服 官方 问题 问 知道 时候 怎么办 一点 多 少 上 下 里 去 来 做 用 看 后 前
http https cn com www 情况 告诉 结果 出现 显示 解决 无法 支持 希望 感觉 觉得 发现 需要 回来 不要 时间 东西 事情 得 地 着 过 呵呵 哈哈 真的 真是 还有 以后 之后 然后 而且 这么 那么 怎样 如何 麻烦 帮 帮忙 不了 回复 微博 吗 么 啦 嘛 哈 喂 您 好 是不是
""".split())
_STOP |= set("""
出来 看到 打开 意思 应该 看看 有点 干嘛 只能 感谢 有没有 不行 遇到 起来 说法 试过 不到 体验 老师 原因 快乐 祝福 新年 圣诞
支持 喜欢 谢谢您 辛苦 小伙伴 大家 朋友 粉丝 小编 亲们 亲 求助 求 一下子 东东 肿么 神马 一样 有人 不能 可能 应该 为啥 干什么
""".split())
# Sentences that carry no request: greetings, thanks, wishes, pure praise, hashtag-only lines.
_BOILERPLATE = re.compile(r"^(?:#[^#]*#\s*)+$|^(?:(?:你好|您好|谢谢|感谢|多谢|辛苦了|新年快乐|圣诞快乐|节日快乐|生日快乐|加油|赞|棒|支持|哈哈|呵呵)[\W_]*)+$")
_SENTENCE = re.compile(r"[^。！？!?；;\n…]+[。！？!?；;…]*")
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
    focus: float = 0.0  # share of members whose reason holds the top phrase


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


def strip_boilerplate(text: str) -> str:
    """``text`` without its greeting / thanks / wishes / hashtag-only sentences."""
    kept = [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0).strip() and not _BOILERPLATE.match(m.group(0).strip())]
    return "".join(kept)


def features(text: str) -> list[str]:
    """What a reason is clustered on: its content words (:func:`tokens`, boilerplate sentences
    dropped) and the phrases two adjacent content words make (系统 更新 -> 系统更新)."""
    words = tokens(strip_boilerplate(text))
    return words + [a + b for a, b in zip(words, words[1:]) if a != b]


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


def _silhouette(x: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Mean cosine silhouette: (b - a) / max(a, b) per point, a = mean distance to its own cluster,
    b = to the nearest other cluster; 0 for points alone in their cluster."""
    onehot = np.zeros((len(x), k), dtype=np.float32)
    onehot[np.arange(len(x)), labels] = 1.0
    counts = onehot.sum(axis=0)
    dist_sum = (1.0 - x @ x.T) @ onehot  # n x k: summed cosine distance to each cluster's members
    own = counts[labels]
    a = dist_sum[np.arange(len(x)), labels] / np.maximum(own - 1, 1)  # self-distance is 0
    other = dist_sum / np.maximum(counts, 1)
    other[np.arange(len(x)), labels] = np.inf
    other[:, counts == 0] = np.inf
    b = other.min(axis=1)
    sil = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-9), 0.0)
    return float(sil.mean())


def _choose_k(x: np.ndarray, seed: int) -> tuple[int, np.ndarray, np.ndarray]:
    """k around sqrt(n / 2) (from half to twice it, 2..40) with the best cosine silhouette."""
    guess = max(2, round(math.sqrt(len(x) / 2)))
    lo, hi = max(2, guess // 2), min(40, 2 * guess, len(x) - 1)
    step = max(1, (hi - lo) // 12)
    best = None
    for k in range(lo, hi + 1, step):
        labels, centers = _kmeans(x, k, seed, n_init=2)
        score = _silhouette(x, labels, k)
        if best is None or score > best[0]:
            best = (score, k, labels, centers)
    assert best is not None
    return best[1], best[2], best[3]


def emerging_topics(
    reasons: list[tuple[str, str]],
    k: int | None = None,
    min_size: int = 3,
    seed: int = 0,
    n_phrases: int = 5,
    n_examples: int = 3,
    min_coherence: float = 0.15,
    min_focus: float = 0.3,
) -> list[Topic]:
    """Cluster ``(call_id, reason text)`` pairs (the untagged calls) into named topics, largest first.

    Args:
        reasons: the calls no tag covers, with the customer's trigger text.
        k: number of clusters (default: chosen by cosine silhouette from half to twice sqrt(n / 2)).
        min_size: clusters smaller than this are dropped (noise, one-off complaints).
        seed: k-means seed; the same input gives the same topics.
        min_coherence: clusters whose members sit further from their centre than this (mean cosine)
            are the leftovers k-means had to put somewhere, not a topic; they are dropped.
        min_focus: so are clusters where fewer than this share of members hold the top phrase
            (nothing they say in common: not a candidate tag).

    Returns:
        :class:`Topic` list; each has ``members`` (call ids) and ``examples`` (quotes nearest its centre).
    """
    docs = [features(t) for _, t in reasons]
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
    if k:
        labels, centers = _kmeans(x, min(k, len(rows)), seed)
    else:
        k, labels, centers = _choose_k(x, seed)
    present = x > 0
    out = []
    for j in range(len(centers)):
        idx = np.flatnonzero(labels == j)
        if len(idx) < min_size:
            continue
        sims = x[idx] @ centers[j]
        if float(sims.mean()) < min_coherence:
            continue
        # distinctive phrases: held by many members and few others (document frequency in vs out)
        inside = present[idx].mean(axis=0)
        outside = (present.sum(axis=0) - present[idx].sum(axis=0)) / max(1, len(rows) - len(idx))
        score = inside * np.log((inside + 1e-3) / (outside + 1e-3))
        top = [vocab[t] for t in np.argsort(-score)[:n_phrases] if inside[t] > 0 and score[t] > 0]
        if not top:
            continue
        focus = float(inside[vocab.index(top[0])])
        if focus < min_focus:
            continue
        order = idx[np.argsort(-sims)]
        examples = [{"call_id": reasons[rows[i]][0], "quote": reasons[rows[i]][1]} for i in order[:n_examples]]
        out.append(Topic(name="·".join(top[:2]), size=int(len(idx)), phrases=top, examples=examples,
                         coherence=round(float(sims.mean()), 3), members=[reasons[rows[i]][0] for i in idx], focus=round(focus, 3)))
    return sorted(out, key=lambda t: (-t.size, -t.coherence, t.name))
