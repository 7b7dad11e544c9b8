"""Train the shipped text model, and recalibrate it on a team's own labelled utterances.

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
import json
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


# --- call outcome models (issue 10) ---

CALL_GROUP = FeatureGroup(chars=(1, 3), words=0, bits=17, tf="log", l2=True, l2_floor=1.0)
CALL_LR_C = 10.0  # chosen by 5-fold CV on the training split (docs/emotion.md)
CALL_RIDGE_ALPHA = 3.0
CALL_META_C = 1.0


@dataclass
class LabelledCall:
    """One call for training or recalibrating the call models: utterances and outcome labels."""

    call_id: str
    roles: list[str]
    texts: list[str]
    satisfaction: float | None = None  # annotated S (-2..2); dissatisfied is S < 0
    accomplishment: float | None = None  # annotated A (-2..2); unresolved is A < 0
    dissatisfied: int | None = None
    unresolved: int | None = None


def read_dialogues(path: str | Path) -> list[LabelledCall]:
    """Read annotated dialogues (the stc3 JSONL format of ../shared/data/dialogues_zh)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                q = d["labels"]["quality_mean"]
                s, a = float(q["S_customer_satisfaction"]), float(q["A_task_accomplishment"])
                roles = ["agent" if t["role"] in ("agent", "helpdesk") else "customer" for t in d["turns"]]
                texts = [str(t["text"]) for t in d["turns"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise LabelFileError(f"{path}:{n}: not an annotated dialogue ({exc}); see docs/emotion.md") from None
            out.append(LabelledCall(str(d["id"]), roles, texts, s, a, int(s < 0), int(a < 0)))
    return out


def call_feature_rows(calls: list[LabelledCall], text_model: TextModel | None = None) -> list:
    """:class:`~qc.emotion.dialogue.CallFeatures` of each call (utterance model scores included)."""
    from qc.emotion.dialogue import call_features
    from qc.emotion.text import score_text

    tm = text_model or load_text_model()
    feats = []
    for c in calls:
        neg = [score_text(t, role=r, model=tm).negativity for r, t in zip(c.roles, c.texts)]
        feats.append(call_features(c.roles, c.texts, neg))
    return feats


def _in_holdout(call_id: str, share: float) -> bool:
    import zlib

    return (zlib.crc32(call_id.encode("utf-8")) % 1000) < share * 1000


def train_call_model(dialogues: str | Path, out_path: str | Path, holdout: float = 0.1, folds: int = 5,
                     seed: int = 0) -> dict:
    """Fit the shipped call outcome models on annotated dialogues (maintainers; needs scikit-learn).

    Base models over the hashed n-gram blocks: a logistic regression per outcome (S < 0, A < 0)
    and a ridge regression on each annotated mean (S, A). Their out-of-fold scores plus the
    dense cues feed one logistic regression per outcome (stacking, which is also the Platt
    calibration); every part is linear, so the stack folds into one weight vector per outcome.
    Dialogues whose id hashes into the ``holdout`` share are kept out of all fitting and give
    the held-out AUC and calibration stored in the model's metadata.

    Returns:
        The cross-validated and held-out metrics (also in the model's ``meta``).
    """
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from qc.emotion.dialogue import BLOCKS, DENSE_FEATURES, OUTCOMES, CallOutcomeModel

    calls = read_dialogues(dialogues)
    feats = call_feature_rows(calls)
    ho = np.array([_in_holdout(c.call_id, holdout) for c in calls])
    tr = ~ho
    g = CALL_GROUP

    def block(name: str):
        rows = [vectorize_groups(f.blocks[name], (g,), normalized=True)[0] for f in feats]
        ind = np.concatenate([r[0] for r in rows])
        val = np.concatenate([r[1] for r in rows])
        ptr = np.concatenate([[0], np.cumsum([len(r[0]) for r in rows])])
        return sp.csr_matrix((val, ind, ptr), shape=(len(rows), g.size))

    X = sp.hstack([block(b) for b in BLOCKS]).tocsr()
    dense = np.array([f.dense for f in feats])
    mean, scale = dense[tr].mean(0), dense[tr].std(0) + 1e-6
    Dz = (dense - mean) / scale
    S = np.array([c.satisfaction for c in calls])
    A = np.array([c.accomplishment for c in calls])
    y = {"dissatisfied": (S < 0).astype(int), "unresolved": (A < 0).astype(int)}
    # base models: (kind, target); a ridge score is negated so that higher always means worse
    bases = [("lr", y["dissatisfied"]), ("lr", y["unresolved"]), ("ridge", S), ("ridge", A)]

    def fit_base(kind: str, target: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, float]:
        if kind == "lr":
            m = LogisticRegression(C=CALL_LR_C, solver="liblinear", max_iter=3000).fit(X[rows], target[rows])
            return m.coef_.ravel(), float(m.intercept_[0])
        m = Ridge(alpha=CALL_RIDGE_ALPHA, solver="sparse_cg").fit(X[rows], target[rows])
        return -m.coef_.ravel(), -float(m.intercept_)

    idx_tr = np.flatnonzero(tr)
    oof = np.zeros((len(calls), len(bases)))
    split = StratifiedKFold(folds, shuffle=True, random_state=seed).split(idx_tr, y["dissatisfied"][idx_tr])
    for k, (a, b) in enumerate(split):
        for j, (kind, target) in enumerate(bases):
            w, b0 = fit_base(kind, target, idx_tr[a])
            oof[idx_tr[b], j] = X[idx_tr[b]] @ w + b0
        log.info("call model: fold %d/%d", k + 1, folds)
    full = [fit_base(kind, target, idx_tr) for kind, target in bases]
    base_ho = np.column_stack([X[ho] @ w + b0 for w, b0 in full])

    weights, dense_w, bias, metrics = [], [], [], {}
    for o in OUTCOMES:
        M = np.column_stack([oof, Dz])
        cv_score = np.zeros(len(calls))
        for a, b in StratifiedKFold(folds, shuffle=True, random_state=seed + 1).split(idx_tr, y[o][idx_tr]):
            meta = LogisticRegression(C=CALL_META_C, max_iter=2000).fit(M[idx_tr[a]], y[o][idx_tr[a]])
            cv_score[idx_tr[b]] = meta.decision_function(M[idx_tr[b]])
        meta = LogisticRegression(C=CALL_META_C, max_iter=2000).fit(M[tr], y[o][tr])
        coef = meta.coef_.ravel()
        nb = len(bases)
        w = sum(coef[j] * full[j][0] for j in range(nb))
        b = float(meta.intercept_[0]) + sum(coef[j] * full[j][1] for j in range(nb))
        weights.append(w.astype(np.float32))
        dense_w.append(coef[nb:])
        bias.append(b)
        p_ho = 1 / (1 + np.exp(-(np.column_stack([base_ho, Dz[ho]]) @ coef + meta.intercept_[0])))
        metrics[o] = {
            "cv_auc": float(roc_auc_score(y[o][tr], cv_score[tr])),
            "heldout_auc": float(roc_auc_score(y[o][ho], p_ho)),
            "heldout_rows": int(ho.sum()), "heldout_positive_rate": float(y[o][ho].mean()),
            "heldout_mean_probability": float(p_ho.mean()),
            "heldout_calibration_error": _calibration_error(p_ho, y[o][ho]),
            "stack_weights": {name: float(c) for name, c in zip(
                ["lr_dissatisfied", "lr_unresolved", "ridge_satisfaction", "ridge_accomplishment", *DENSE_FEATURES], coef)},
        }
        if o == "dissatisfied":
            metrics[o]["cv_auc_s_le_-0.5"] = float(roc_auc_score(S[tr] <= -0.5, cv_score[tr]))
            metrics[o]["heldout_auc_s_le_-0.5"] = float(roc_auc_score(S[ho] <= -0.5, p_ho))
        log.info("call model %s: %s", o, metrics[o])
    model = CallOutcomeModel(
        group=g, blocks=BLOCKS, outcomes=OUTCOMES, weights=np.vstack(weights), dense_w=np.vstack(dense_w),
        bias=np.array(bias), dense_mean=mean, dense_scale=scale,
        meta={"kind": "stacked logistic/ridge over char 1-3-gram blocks + dense cues, calibrated by the stack",
              "trained_on": Path(dialogues).name, "rows": int(tr.sum()), "holdout_share": holdout,
              "lr_C": CALL_LR_C, "ridge_alpha": CALL_RIDGE_ALPHA, "meta_C": CALL_META_C,
              "dense_features": list(DENSE_FEATURES), **metrics},
    )
    model.save(out_path)
    return metrics


def _calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the count-weighted gap between mean probability and rate per bin."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    err = 0.0
    for k in range(bins):
        m = which == k
        if m.any():
            err += m.sum() * abs(p[m].mean() - y[m].mean())
    return float(err / len(p))


@dataclass
class CallRecalibrationReport:
    """What ``qc emotion train`` did with call labels, per outcome: calls used, the Platt
    scale/shift applied, and held-out log loss before/after (None with under 40 labelled calls)."""

    calls: int
    outcomes: dict[str, dict]
    out: Path


CALL_LABEL_COLUMNS = ("call_id", "role", "text")
_TRUE = {"1", "true", "yes", "y", "是", "不满意", "未解决"}
_FALSE = {"0", "false", "no", "n", "否", "满意", "已解决"}


def is_call_label_file(path: str | Path) -> bool:
    """True when the CSV's header has ``call_id`` (call labels) rather than ``text,label``."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), [])
    except FileNotFoundError:
        return False
    return "call_id" in [h.strip().lower() for h in header]


def read_call_labels(path: str | Path) -> list[LabelledCall]:
    """Read a team's labelled calls: one row per utterance, in call order.

    Columns ``call_id,role,text`` (role ``agent`` or ``customer``) and at least one of
    ``dissatisfied`` / ``unresolved`` (1/0, yes/no, 是/否; blank when not labelled). A call's label
    is taken from any of its rows that has one.

    Raises:
        LabelFileError: missing columns, a bad role or label, or contradicting labels (all reported).
    """
    from qc.emotion.dialogue import OUTCOMES

    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise LabelFileError(f"{path}: no such file") from None
    calls: dict[str, LabelledCall] = {}
    errors: list[str] = []
    with handle:
        reader = csv.DictReader(handle)
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        missing = [c for c in CALL_LABEL_COLUMNS if c not in fields]
        if missing or not any(o in fields for o in OUTCOMES):
            raise LabelFileError(f"{path}:1: needs a header with call_id,role,text and dissatisfied and/or unresolved "
                                 f"(found {','.join(fields) or 'none'})")
        reader.fieldnames = fields
        for row in reader:
            line = reader.line_num
            cid, role, text = ((row.get(c) or "").strip() for c in CALL_LABEL_COLUMNS)
            if not cid or not text:
                continue
            if role not in ("agent", "customer"):
                errors.append(f"{path}:{line}: role {role!r}; use agent or customer")
                continue
            call = calls.setdefault(cid, LabelledCall(cid, [], []))
            call.roles.append(role)
            call.texts.append(text)
            for o in OUTCOMES:
                value = (row.get(o) or "").strip().lower()
                if not value:
                    continue
                if value not in _TRUE | _FALSE:
                    errors.append(f"{path}:{line}: {o} {value!r}; use 1 or 0 (or leave it blank)")
                    continue
                label = int(value in _TRUE)
                if getattr(call, o) not in (None, label):
                    errors.append(f"{path}:{line}: call {cid} has both {o}=1 and {o}=0")
                setattr(call, o, label)
    if errors:
        raise LabelFileError("\n".join(errors[:20]) + (f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""))
    return list(calls.values())


def _platt(z: np.ndarray, y: np.ndarray, pull: float = 1.0, steps: int = 100) -> tuple[float, float]:
    """Scale ``a`` and shift ``b`` minimising log loss of sigmoid(a*z + b), pulled towards (1, 0)."""

    def objective(a: float, b: float) -> float:
        zz = a * z + b
        return float(np.logaddexp(0, -zz)[y == 1].sum() + np.logaddexp(0, zz)[y == 0].sum()
                     + pull / 2 * ((a - 1.0) ** 2 + b * b))

    a, b = 1.0, 0.0
    f = objective(a, b)
    for _ in range(steps):  # Newton on two parameters, with backtracking
        p = _sigmoid(a * z + b)
        g = np.array([((p - y) * z).sum() + pull * (a - 1.0), (p - y).sum() + pull * b])
        w = p * (1 - p)
        H = np.array([[(w * z * z).sum() + pull, (w * z).sum()], [(w * z).sum(), w.sum() + pull]])
        step = np.linalg.solve(H, g)
        t = 1.0
        while t > 1e-6 and objective(a - t * step[0], b - t * step[1]) > f - 1e-4 * t * (g @ step):
            t /= 2
        a, b = a - t * step[0], b - t * step[1]
        f_new = objective(a, b)
        if f - f_new < 1e-10:
            break
        f = f_new
    return float(a), float(b)


def _log_loss(z: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(_sigmoid(z), 1e-6, 1 - 1e-6)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def recalibrate_calls(labels_csv: str | Path, out_dir: str | Path, base: str | Path | None = None,
                      min_calls: int = 10, seed: int = 0) -> CallRecalibrationReport:
    """Recalibrate the call outcome models on a team's labelled calls (numpy only).

    The models' n-gram and cue weights stay; each outcome with at least ``min_calls`` labelled
    calls of both classes gets a new Platt scale and shift (fitted on its logits, pulled gently
    towards no change), which is what a different call centre's base rate and wording shift
    most. With 40 labelled calls or more, 20 % are held out first to report log loss before and
    after; the saved model is fitted on all of them.

    Args:
        labels_csv: see :func:`read_call_labels`.
        out_dir: folder for ``call_model.npz`` (``analyze_call(call_model=...)``,
            ``$QC_CALL_MODEL``, or ``--model DIR`` / ``$QC_EMOTION_MODEL`` when the folder also
            holds the text model).
        base: the call model to start from (default ``$QC_CALL_MODEL`` or the shipped one).
    """
    from qc.emotion.dialogue import CALL_MODEL_FILENAME, load_call_model

    calls = read_call_labels(labels_csv)
    model = load_call_model(base)
    feats = call_feature_rows(calls)
    z = np.array([model.logits(f) for f in feats])
    weights, dense_w, bias = model.weights.copy(), model.dense_w.copy(), model.bias.copy()
    done: dict[str, dict] = {}
    for k, o in enumerate(model.outcomes):
        rows = np.array([i for i, c in enumerate(calls) if getattr(c, o, None) is not None], dtype=int)
        y = np.array([getattr(calls[i], o) for i in rows], dtype=float)
        if len(rows) < min_calls or len(set(y)) < 2:
            continue
        zz = z[rows, k]
        before = after = None
        if len(rows) >= 40:
            order = np.random.default_rng(seed).permutation(len(rows))
            ho, tr = order[: len(rows) // 5], order[len(rows) // 5 :]
            a, b = _platt(zz[tr], y[tr])
            before, after = _log_loss(zz[ho], y[ho]), _log_loss(a * zz[ho] + b, y[ho])
        a, b = _platt(zz, y)
        weights[k] *= a
        dense_w[k] *= a
        bias[k] = a * bias[k] + b
        done[o] = {"calls": int(len(rows)), "positive_rate": float(y.mean()), "scale": a, "shift": b,
                   "heldout_log_loss_before": before, "heldout_log_loss_after": after}
    if not done:
        raise LabelFileError(f"{labels_csv}: need at least {min_calls} labelled calls with both 1 and 0 for "
                             "dissatisfied or unresolved")
    tuned = type(model)(group=model.group, blocks=model.blocks, outcomes=model.outcomes, weights=weights,
                        dense_w=dense_w, bias=bias, dense_mean=model.dense_mean, dense_scale=model.dense_scale,
                        meta=dict(model.meta, recalibrated_on=str(labels_csv), recalibration=done))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tuned.save(out / CALL_MODEL_FILENAME)
    return CallRecalibrationReport(calls=len(calls), outcomes=done, out=out / CALL_MODEL_FILENAME)
