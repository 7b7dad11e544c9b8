"""Retrain the shipped emotion text model (qc/emotion/data/text_model.npz).

    pip install -e .[train]
    python3 bench/train_emotion.py [--data ../shared/data] [--out qc/emotion/data/text_model.npz]

NB-LR over hashed char 1-3-grams + jieba words/bigrams (2**20 buckets), C = 0.1, no intercept,
bias -0.5 (see qc/emotion/train.py). Prints the held-out (10%) metrics used for model selection.
Takes about 3 minutes on 2 cores. The training texts are research-use only: only the learned
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
    args = ap.parse_args()
    metrics = train_base_model(args.data / "sentiment_train" / "online_shopping_10_cats_train.csv", args.out)
    print(f"held-out ({metrics['heldout_rows']} reviews): macro-F1 {metrics['heldout_macro_f1']:.4f}, "
          f"AUC {metrics['heldout_auc']:.4f} -> {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
