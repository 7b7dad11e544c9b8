"""Retrain the shipped emotion text model (qc/emotion/data/text_model.npz).

    pip install -e .[train]
    python3 bench/train_emotion.py [--data ../shared/data] [--out qc/emotion/data/text_model.npz]

Two NB-LR models, hashed char 1-4-grams (2**20 buckets) and jieba words + word bigrams (2**19),
sublinear tf, l2-normalised, C = 10; their ensemble weights, the Platt calibration and the call
prior are fitted on a held-out 10% (see qc/emotion/train/utterances.py). Prints the held-out metrics used for
model selection. Takes about 5 minutes on 2 cores. The training texts are research-use only: only the learned
weights are shipped.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qc.emotion.train import train_base_model  # noqa: E402

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import jieba

    jieba.setLogLevel(logging.WARNING)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "qc" / "emotion" / "data" / "text_model.npz")
    ap.add_argument("--csv", type=Path, help="train on this reviews CSV instead (cat,label,review)")
    args = ap.parse_args()
    metrics = train_base_model(args.csv or args.data / "sentiment_train" / "online_shopping_10_cats_train.csv", args.out)
    groups = ", ".join(f"{f:.4f}" for f in metrics["heldout_group_macro_f1"])
    print(f"held-out ({metrics['heldout_rows']} reviews): macro-F1 per group {groups}; ensemble "
          f"{metrics['heldout_macro_f1']:.4f} (call prior {metrics['call_prior']}), AUC {metrics['heldout_auc']:.4f} "
          f"-> {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
