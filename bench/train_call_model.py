"""Retrain the shipped call outcome models (qc/emotion/data/call_model.npz).

    pip install -e .[train]
    python3 bench/train_call_model.py [--data ../shared/data/dialogues_zh/stc3_weibo_helpdesk_train.jsonl]

Dissatisfied (S < 0) and unresolved (A < 0) from the 3,000 annotated Weibo helpdesk dialogues of
the training split only: base models over char 1-3-gram blocks, stacked with dense cues (see
qc/emotion/train/calls.py and the model card qc/emotion/data/call_model.md). Prints the 5-fold CV and
held-out (10 % of the training split, by id hash) AUC and calibration. Takes about 5 minutes on
2 cores. The dialogues are research-use only: only the learned weights are shipped.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qc.emotion.train import train_call_model  # noqa: E402

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "dialogues_zh" / "stc3_weibo_helpdesk_train.jsonl")
    ap.add_argument("--out", type=Path, default=ROOT / "qc" / "emotion" / "data" / "call_model.npz")
    args = ap.parse_args()
    m = train_call_model(args.data, args.out)
    for o, r in m.items():
        extra = (f"; S<=-0.5 CV {r['cv_auc_s_le_-0.5']:.4f} held-out {r['heldout_auc_s_le_-0.5']:.4f}"
                 if "cv_auc_s_le_-0.5" in r else "")
        print(f"{o}: 5-fold CV AUC {r['cv_auc']:.4f}; held-out ({r['heldout_rows']}) AUC {r['heldout_auc']:.4f}, "
              f"mean p {r['heldout_mean_probability']:.3f} vs rate {r['heldout_positive_rate']:.3f}, "
              f"ECE {r['heldout_calibration_error']:.3f}{extra}")
    print(f"-> {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
