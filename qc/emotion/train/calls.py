"""Train the shipped call outcome models (dissatisfied, unresolved), and recalibrate them on a
team's own labelled calls.

* :func:`train_call_model` (maintainers; needs scikit-learn) stacks logistic and ridge models over
  hashed n-gram blocks and dense cues of annotated dialogues (../shared/data/dialogues_zh) and
  folds the stack into one weight vector per outcome.
* :func:`recalibrate_calls` (``qc emotion train`` with a ``call_id`` CSV; numpy only) refits each
  outcome's Platt scale and shift on a team's labelled calls.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qc.emotion.features import FeatureGroup, vectorize_groups
from qc.emotion.text import TextModel, load_text_model
from qc.emotion.train.utterances import LabelFileError, _sigmoid

__all__ = ["CallRecalibrationReport", "LabelledCall", "call_feature_rows", "is_call_label_file", "read_call_labels",
           "read_dialogues", "recalibrate_calls", "train_call_model"]

log = logging.getLogger(__name__)

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
