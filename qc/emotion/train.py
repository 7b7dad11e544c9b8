"""Train the shipped text model, and recalibrate it on a team's own labelled utterances.

* :func:`train_base_model` (maintainers; needs scikit-learn, the ``train`` extra) fits an NB-LR
  (logistic regression over naive-Bayes log-count-ratio scaled hashed n-grams, Wang & Manning
  2012) on ../shared/data/sentiment_train, holding out 10% for model selection, and folds the
  ratios into one weight per bucket so inference is a plain sum in numpy.
* :func:`recalibrate` (``qc emotion train``; numpy only) fine-tunes those weights on a CSV of
  ``text,label`` rows, with an L2 pull towards the shipped weights so a few hundred labels adjust
  the model instead of replacing it.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qc.emotion.features import DEFAULT_BITS, hash_features
from qc.emotion.text import MODEL_FILENAME, TextModel, load_text_model

__all__ = ["LabelFileError", "RecalibrationReport", "read_labels", "recalibrate", "train_base_model"]

log = logging.getLogger(__name__)

# Target negativity per label. Neutral is not 0.5: on a call most neutral lines are calm, and
# the scale reads 0 = calm/positive .. 1 = very negative.
LABEL_TARGETS = {
    "negative": 1.0, "neg": 1.0, "0": 1.0, "负面": 1.0, "负向": 1.0,
    "neutral": 0.2, "neu": 0.2, "中性": 0.2,
    "positive": 0.0, "pos": 0.0, "1": 0.0, "正面": 0.0, "正向": 0.0,
}


# Most call lines carry no sentiment. The shipped bias asks for this much evidence (in logits)
# before a line reads as negative: the largest shift that cost under half a point of held-out
# macro-F1 on the training reviews (0 -> 0.9366, -0.5 -> 0.9341, -1.0 -> 0.9128).
CALL_PRIOR = -0.5


class LabelFileError(ValueError):
    """A labels CSV that cannot be used; the message names the file, the line and the fix."""


def read_labels(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Read ``text,label`` rows; label is negative/neutral/positive or 1 (positive) / 0 (negative).

    Returns:
        The texts and their target negativity (1.0 negative, 0.2 neutral, 0.0 positive).

    Raises:
        LabelFileError: missing columns, an unknown label, or no usable rows (all reported).
    """
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise LabelFileError(f"{path}: no such file") from None
    texts: list[str] = []
    targets: list[float] = []
    errors: list[str] = []
    with handle:
        reader = csv.DictReader(handle)
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        if "text" not in fields or "label" not in fields:
            raise LabelFileError(f"{path}:1: needs a header with columns text,label (found {','.join(fields) or 'none'})")
        reader.fieldnames = fields
        for row in reader:
            line = reader.line_num
            text = (row.get("text") or "").strip()
            label = (row.get("label") or "").strip().lower()
            if not text:
                continue
            if label not in LABEL_TARGETS:
                errors.append(f"{path}:{line}: unknown label {label!r}; use negative, neutral, positive, 0 or 1")
                continue
            texts.append(text)
            targets.append(LABEL_TARGETS[label])
    if errors:
        raise LabelFileError("\n".join(errors[:20]) + (f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""))
    if len(texts) < 2 or len(set(targets)) < 2:
        raise LabelFileError(f"{path}: need at least two rows with at least two different labels")
    return texts, np.asarray(targets, dtype=np.float64)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _finetune(rows: list[np.ndarray], targets: np.ndarray, w0: np.ndarray, b0: float,
              l2: float, steps: int = 400, lr: float = 0.05) -> tuple[np.ndarray, float, np.ndarray]:
    """Adam on mean cross-entropy + l2/2 * ||w - w0||^2 over the buckets the rows touch."""
    used, inverse = np.unique(np.concatenate(rows), return_inverse=True)
    lengths = np.array([len(r) for r in rows])
    row_of = np.repeat(np.arange(len(rows)), lengths)
    start = w0[used].astype(np.float64)
    w = start.copy()
    b = float(b0)
    m = np.zeros(len(w) + 1)
    v = np.zeros(len(w) + 1)
    n = len(rows)
    for t in range(1, steps + 1):
        z = np.bincount(row_of, weights=w[inverse], minlength=n) + b
        resid = (_sigmoid(z) - targets) / n
        gw = np.bincount(inverse, weights=resid[row_of], minlength=len(w)) + l2 * (w - start)
        g = np.append(gw, resid.sum())
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        step = lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        w -= step[:-1]
        b -= step[-1]
    return used, b, w


@dataclass
class RecalibrationReport:
    """What ``qc emotion train`` did: rows used and accuracy before/after on held-out rows."""

    rows: int
    heldout: int
    accuracy_before: float | None
    accuracy_after: float | None
    out: Path


def _accuracy(model: TextModel, texts: list[str], targets: np.ndarray) -> float:
    pred = np.array([model.negativity(t) for t in texts])
    # a prediction is right when it lands nearest its label's target
    levels = np.array(sorted(set(LABEL_TARGETS.values())))
    nearest = levels[np.abs(pred[:, None] - levels[None, :]).argmin(axis=1)]
    return float((nearest == targets).mean())


def recalibrate(labels_csv: str | Path, out_dir: str | Path, base: str | Path | None = None,
                l2: float = 0.05, seed: int = 0) -> RecalibrationReport:
    """Fine-tune the text model on a team's labelled utterances and save it under ``out_dir``.

    When there are 40 rows or more, 20% are held out first to report accuracy before and after;
    the saved model is then fitted on all rows.

    Args:
        labels_csv: CSV with ``text,label`` columns.
        out_dir: folder for ``text_model.npz`` (pass it to ``analyze_call(model=...)``, or set
            ``QC_EMOTION_MODEL``).
        base: the model to start from (default: the shipped model or ``QC_EMOTION_MODEL``).
        l2: strength of the pull towards the base weights.
        seed: shuffling seed for the held-out split.
    """
    texts, targets = read_labels(labels_csv)
    model = load_text_model(base)
    rows = [hash_features(t, bits=model.bits, words=model.words) for t in texts]
    before = after = None
    heldout = 0
    if len(texts) >= 40:
        order = np.random.default_rng(seed).permutation(len(texts))
        heldout = len(texts) // 5
        ho, tr = order[:heldout], order[heldout:]
        used, b, w = _finetune([rows[i] for i in tr], targets[tr], model.weights, model.bias, l2)
        trial = model.with_updates(used, w, b)
        before = _accuracy(model, [texts[i] for i in ho], targets[ho])
        after = _accuracy(trial, [texts[i] for i in ho], targets[ho])
    used, b, w = _finetune(rows, targets, model.weights, model.bias, l2)
    tuned = model.with_updates(used, w, b)
    tuned.meta = dict(model.meta, recalibrated_on=str(labels_csv), recalibration_rows=len(texts),
                      heldout_accuracy_before=before, heldout_accuracy_after=after)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tuned.save(out / MODEL_FILENAME)
    return RecalibrationReport(rows=len(texts), heldout=heldout, accuracy_before=before,
                               accuracy_after=after, out=out / MODEL_FILENAME)


def train_base_model(reviews_csv: str | Path, out_path: str | Path, bits: int = 20, C: float = 0.1,
                     holdout: float = 0.1, seed: int = 0) -> dict:
    """Fit the shipped NB-LR text model on labelled reviews (``cat,label,review``; 1 = positive).

    C was chosen on the held-out 10% of the training file (0.02..3 tried; see docs/emotion.md).
    Returns the held-out metrics, also stored in the model's metadata.
    """
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, roc_auc_score

    with open(reviews_csv, encoding="utf-8-sig", newline="") as f:
        data = [(r["review"] or "", int(r["label"])) for r in csv.DictReader(f)]
    rows = [hash_features(text, bits=bits) for text, _ in data]
    # negativity is the target: label 0 (negative review) -> 1
    y = np.array([1 - label for _, label in data])
    dim = 1 << bits

    def matrix(index: np.ndarray):
        ind = np.concatenate([rows[i] for i in index])
        ptr = np.concatenate([[0], np.cumsum([len(rows[i]) for i in index])])
        return sp.csr_matrix((np.ones(len(ind), np.float32), ind, ptr), shape=(len(index), dim))

    def fit(index: np.ndarray) -> tuple[np.ndarray, float]:
        X = matrix(index)
        yy = y[index]
        p = 1 + np.asarray(X[yy == 1].sum(0)).ravel()
        q = 1 + np.asarray(X[yy == 0].sum(0)).ravel()
        ratio = np.log(p / p.sum()) - np.log(q / q.sum())
        # no intercept: a line with no evidence sits at logit 0 instead of the review corpus's
        # prior (same held-out F1, and it keeps call-neutral lines from leaning negative)
        lr = LogisticRegression(C=C, solver="liblinear", max_iter=2000, fit_intercept=False)
        lr.fit(X.multiply(ratio).tocsr(), yy)
        return (lr.coef_.ravel() * ratio).astype(np.float32), CALL_PRIOR

    order = np.random.default_rng(seed).permutation(len(rows))
    n_ho = int(len(rows) * holdout)
    ho, tr = order[:n_ho], order[n_ho:]
    w, b = fit(tr)
    score = np.asarray(matrix(ho) @ w).ravel() + b
    metrics = {
        "heldout_rows": int(n_ho),
        "heldout_macro_f1": float(f1_score(y[ho], score > 0, average="macro")),
        "heldout_auc": float(roc_auc_score(y[ho], score)),
    }
    log.info("held-out: %s", metrics)
    w, b = fit(order)
    model = TextModel(weights=w, bias=b, bits=bits, words=True, meta={
        "kind": "nb-lr hashed char 1-3-grams + jieba words/bigrams",
        "trained_on": Path(reviews_csv).name, "rows": len(rows), "C": C, **metrics,
    })
    model.save(out_path)
    return metrics
