"""Train the shipped utterance text model, and recalibrate it on a team's own labelled utterances.

* :func:`train_base_model` (maintainers; needs scikit-learn, the ``train`` extra) fits one NB-LR
  (logistic regression over naive-Bayes log-count-ratio scaled hashed n-grams, Wang & Manning
  2012) per feature group on ../shared/data/sentiment_train, stacks and calibrates them on a
  held-out 10%, and folds ratios, ensemble weights and calibration into one weight per bucket so
  inference is a dot product in numpy.
* :func:`recalibrate` (``qc emotion train``; numpy only) fine-tunes those weights on a CSV of
  ``text,label`` rows, with an L2 pull towards the shipped weights so a few hundred labels adjust
  the model instead of replacing it.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qc.emotion.features import FeatureGroup, feature_text, vectorize_groups
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


def _finetune(rows: list[tuple[np.ndarray, np.ndarray]], targets: np.ndarray, w0: np.ndarray, b0: float,
              l2: float, steps: int = 400, lr: float = 0.05) -> tuple[np.ndarray, float, np.ndarray]:
    """Adam on mean cross-entropy + l2/2 * ||w - w0||^2 over the buckets the rows touch.

    ``rows`` are (bucket indices, feature values) per text, as :meth:`TextModel.features` gives.
    Each bucket is optimised in units of its typical logit contribution (weight times the RMS of
    its values in the rows), so steps and the pull mean the same with l2-normalised features
    (values ~0.1) as with binary ones.
    """
    used, inverse = np.unique(np.concatenate([r[0] for r in rows]), return_inverse=True)
    vals = np.concatenate([r[1] for r in rows]).astype(np.float64)
    scale = np.sqrt(np.bincount(inverse, weights=vals * vals) / np.bincount(inverse))
    vals = vals / scale[inverse]
    lengths = np.array([len(r[0]) for r in rows])
    row_of = np.repeat(np.arange(len(rows)), lengths)
    start = w0[used].astype(np.float64) * scale
    w = start.copy()
    b = float(b0)
    m = np.zeros(len(w) + 1)
    v = np.zeros(len(w) + 1)
    n = len(rows)
    for t in range(1, steps + 1):
        z = np.bincount(row_of, weights=w[inverse] * vals, minlength=n) + b
        resid = (_sigmoid(z) - targets) / n
        gw = np.bincount(inverse, weights=resid[row_of] * vals, minlength=len(w)) + l2 * (w - start)
        g = np.append(gw, resid.sum())
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        step = lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        w -= step[:-1]
        b -= step[-1]
    return used, b, w / scale


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
    rows = [model.features(t) for t in texts]
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


# The shipped ensemble: character 1-4-grams and jieba words + word bigrams, each with sublinear tf
# and l2 normalisation (chosen on the held-out 10%: see docs/emotion.md). The norm floors are
# the norms of a ~25-character line in each group (about 4 char n-grams and 1.2 word features
# per character): shorter call lines ("怎么称呼") keep less weight than a review instead of being
# scaled up to one; reviews are mostly longer (held-out F1 moves by 0.1 point).
BASE_GROUPS = (
    FeatureGroup(chars=(1, 4), words=0, bits=20, tf="log", l2=True, l2_floor=10.0),
    FeatureGroup(chars=None, words=2, bits=19, tf="log", l2=True, l2_floor=5.5),
)
PRIOR_SHIFTS = (0.0, -0.25, -0.5, -0.75, -1.0)


def train_base_model(reviews_csv: str | Path, out_path: str | Path, groups: tuple[FeatureGroup, ...] = BASE_GROUPS,
                     C: float = 10.0, alpha: float = 1.0, holdout: float = 0.1, seed: int = 0) -> dict:
    """Fit the shipped text model on labelled reviews (``cat,label,review``; 1 = positive).

    One NB-LR per feature group (logistic regression over naive-Bayes log-count-ratio scaled
    features, ``alpha`` the count smoothing) is fitted on 90% of the rows. On the held-out 10%
    a logistic regression over the groups' logits gives each group's ensemble weight and the
    Platt calibration (so 0.5 is the reviews' decision point); the call prior is then the
    largest shift in ``PRIOR_SHIFTS`` that costs under half a point of held-out macro-F1. The
    group models are refitted on all rows and the ensemble weights, calibration and prior are
    folded into one weight vector and a bias.

    Returns:
        The held-out metrics, also stored in the model's metadata.
    """
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, roc_auc_score

    with open(reviews_csv, encoding="utf-8-sig", newline="") as f:
        data = [(r["review"] or "", int(r["label"])) for r in csv.DictReader(f)]
    per_text = [vectorize_groups(feature_text(text), groups, normalized=True) for text, _ in data]
    # negativity is the target: label 0 (negative review) -> 1
    y = np.array([1 - label for _, label in data])

    def matrix(g: int, index: np.ndarray):
        parts = [per_text[i][g] for i in index]
        ind = np.concatenate([p[0] for p in parts])
        val = np.concatenate([p[1] for p in parts]).astype(np.float32)
        ptr = np.concatenate([[0], np.cumsum([len(p[0]) for p in parts])])
        return sp.csr_matrix((val, ind, ptr), shape=(len(index), groups[g].size))

    def fit(g: int, index: np.ndarray) -> np.ndarray:
        X = matrix(g, index)
        yy = y[index]
        present = (X > 0).astype(np.float32)
        p = alpha + np.asarray(present[yy == 1].sum(0)).ravel()
        q = alpha + np.asarray(present[yy == 0].sum(0)).ravel()
        ratio = np.log(p / p.sum()) - np.log(q / q.sum())
        # no intercept: the bias comes from the calibration on held-out rows
        lr = LogisticRegression(C=C, solver="liblinear", max_iter=3000, fit_intercept=False)
        lr.fit(X.multiply(ratio).tocsr(), yy)
        return (lr.coef_.ravel() * ratio).astype(np.float32)

    order = np.random.default_rng(seed).permutation(len(data))
    n_ho = int(len(data) * holdout)
    ho, tr = order[:n_ho], order[n_ho:]
    group_logits = np.column_stack([matrix(g, ho) @ fit(g, tr) for g in range(len(groups))])
    stack = LogisticRegression(C=1e4, max_iter=1000).fit(group_logits, y[ho])
    scale, intercept = stack.coef_.ravel(), float(stack.intercept_[0])
    score = group_logits @ scale + intercept
    f1 = {shift: float(f1_score(y[ho], score + shift > 0, average="macro")) for shift in PRIOR_SHIFTS}
    prior = min(s for s in PRIOR_SHIFTS if f1[0.0] - f1[s] < 0.005)
    metrics = {
        "heldout_rows": int(n_ho),
        "heldout_group_macro_f1": [float(f1_score(y[ho], group_logits[:, g] > 0, average="macro"))
                                   for g in range(len(groups))],
        "heldout_macro_f1_by_prior": {str(k): v for k, v in f1.items()},
        "heldout_macro_f1": f1[prior],
        "heldout_auc": float(roc_auc_score(y[ho], score)),
        "ensemble_scale": [float(a) for a in scale], "calibration_intercept": intercept, "call_prior": prior,
    }
    log.info("held-out: %s", metrics)
    weights = np.concatenate([scale[g] * fit(g, order) for g in range(len(groups))]).astype(np.float32)
    model = TextModel(weights=weights, bias=intercept + prior, groups=groups, meta={
        "kind": "NB-LR ensemble: char 1-4-grams + jieba words/bigrams, sublinear tf, l2, Platt-calibrated",
        "trained_on": Path(reviews_csv).name, "rows": len(data), "C": C, "alpha": alpha, **metrics,
    })
    model.save(out_path)
    return metrics
