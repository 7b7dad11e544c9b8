"""Risk flags (and complaints) against hand labels on real helpdesk dialogues.

    python3 bench/bench_risk.py [--data ../shared/data/dialogues_zh] [--part heldout|tune|all] [--show]

Each Weibo helpdesk dialogue becomes a text transcript in memory (one utterance per post, role from
the dataset, channel chat). A dialogue is flagged for a kind when any customer line raises it.

1. Risk flags per kind on the training split, ``bench/labels/risk_train.csv``: candidates found by
   a loose search, read and labelled by hand (bench/labels/README.md). The labels are split by a
   hash of the dialogue id into a *tune* part (looked at while writing the cue table) and a
   *held-out* part (not looked at); the default reports the held-out part. A flag on a dialogue
   outside the labelled candidates counts as a false flag. The rules RISK01-05 are the one
   risk detector (the emotion stage raises no flags of its own).
2. The same flags on the shared 200 evaluation dialogues: how many per kind, and precision /
   recall against the older RISK01-03 labels of bench/labels/dialogues_rules.csv (43 of the 200).
3. Complaints on ``bench/labels/complaint_train.csv`` (100 random training dialogues, hand
   labelled: does the customer complain, and about what: service / product / price / process /
   environment), same tune / held-out split: recall and precision of EMPA01's trigger (the rule's
   ``when`` condition) and of the emotion stage's complaint, and how often the complaint type is
   right (and how often it is the "service" fallback, no type cue found).

Dialogue text stays in ../shared (research-only licence); the labels hold ids and labels only.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = ("media", "regulator", "lawyer", "privacy", "safety")
RULE_OF = {"regulator": "RISK01", "media": "RISK02", "lawyer": "RISK03", "privacy": "RISK04", "safety": "RISK05"}
TRAIN = "stc3_weibo_helpdesk_train.jsonl"
EVAL = "stc3_weibo_helpdesk_200.jsonl"


def load(path: Path):
    from qc.types import Transcript, Utterance

    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            us = [Utterance(role="agent" if t["role"] == "agent" else "customer", text=t["text"]) for t in d["turns"]]
            out[d["id"]] = Transcript(call_id=d["id"], utterances=us, meta={"channel": "chat"})
    return out


def prf(pred: set, gold: set, universe: set) -> tuple[float, float, int, int, int]:
    tp, fp, fn = len(pred & gold), len(pred - gold), len(gold - pred)
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    return p, r, tp, fp, fn


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "dialogues_zh"))
    ap.add_argument("--labels", default=str(ROOT / "bench" / "labels" / "risk_train.csv"))
    ap.add_argument("--part", default="heldout", choices=("heldout", "tune", "all"))
    ap.add_argument("--show", action="store_true", help="print the disagreements (id, kind, quoted cue)")
    args = ap.parse_args()
    data = Path(args.data)
    if not (data / TRAIN).is_file():
        print(f"{data / TRAIN}: not found; give --data (the shared dialogues_zh folder)", file=sys.stderr)
        return 2

    from qc.rules import inspect, load_rules

    rules = load_rules(ROOT / "rules").only(*RULE_OF.values())
    labels: dict[str, dict[str, int]] = defaultdict(dict)
    parts: dict[str, str] = {}
    with open(args.labels, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            labels[row["kind"]][row["dialogue_id"]] = int(row["label"])
            parts[row["dialogue_id"]] = row["part"]
    train = load(data / TRAIN)
    in_part = {i for i in train if args.part == "all" or parts.get(i, _part(i)) == args.part}

    t0 = time.perf_counter()
    emo: dict[str, set[str]] = defaultdict(set)  # flagged dialogues per kind (RISK01-05)
    evidence: dict[tuple[str, str], str] = {}
    kind_of = {c: k for k, c in RULE_OF.items()}
    for i in sorted(in_part):
        for f in inspect(train[i], rules).findings:
            emo[kind_of[f.rule]].add(i)
            evidence.setdefault((i, kind_of[f.rule]), f.evidence[0].text[slice(*f.evidence[0].span)] if f.evidence and f.evidence[0].span else "")
    dt = time.perf_counter() - t0
    print(f"risk flags on {TRAIN}, {args.part} part: {len(in_part)} dialogues "
          f"({dt / max(1, len(in_part)) * 1000:.1f} ms per dialogue, rules RISK01-05)")
    print(f"{'kind':10} {'pos':>4} {'neg':>4}  {'P':>5} {'R':>5}  tp fp fn")
    for k in KINDS:
        gold = {i for i, v in labels[k].items() if v and i in in_part}
        neg = sum(1 for i, v in labels[k].items() if not v and i in in_part)
        p, r, tp, fp, fn = prf(emo[k], gold, in_part)
        print(f"{k:10} {len(gold):4d} {neg:4d}  {p:5.2f} {r:5.2f}  {tp:2d} {fp:2d} {fn:2d}")
        if args.show:
            for i in sorted(emo[k] - gold):
                print(f"    false  {i} {k}: {evidence.get((i, k), '')!r}{'' if i in labels[k] else ' (not a candidate)'}")
            for i in sorted(gold - emo[k]):
                print(f"    missed {i} {k}")

    complaints(train, in_part, args)

    ev_path = data / EVAL
    if ev_path.is_file():
        ev = load(ev_path)
        flagged: dict[str, set[str]] = defaultdict(set)
        for i, t in ev.items():
            for f in inspect(t, rules).findings:
                flagged[kind_of[f.rule]].add(i)
        print(f"\nshared {EVAL}: {len(ev)} dialogues; flagged " + ", ".join(f"{k} {len(flagged[k])}" for k in KINDS))
        old = ROOT / "bench" / "labels" / "dialogues_rules.csv"
        gold200: dict[str, set[str]] = defaultdict(set)
        seen200: dict[str, set[str]] = defaultdict(set)
        with open(old, encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["file"] != EVAL or row["rule"] not in ("RISK01", "RISK02", "RISK03"):
                    continue
                kind = next(k for k, c in RULE_OF.items() if c == row["rule"])
                seen200[kind].add(row["dialogue_id"])
                if row["label"] == "1":
                    gold200[kind].add(row["dialogue_id"])
        for k in ("regulator", "media", "lawyer"):
            pred = flagged[k] & seen200[k]
            p, r, tp, fp, fn = prf(pred, gold200[k], seen200[k])
            print(f"  vs dialogues_rules.csv {RULE_OF[k]} ({len(seen200[k])} labelled, {len(gold200[k])} positive): "
                  f"P {p:.2f} R {r:.2f} (tp {tp} fp {fp} fn {fn})")
            if args.show:
                for i in sorted(pred ^ gold200[k]):
                    print(f"    {'false ' if i in pred else 'missed'} {i} {k}")
    return 0


def complaints(train, in_part: set[str], args) -> None:
    from qc.emotion import analyze_call
    from qc.rules import load_rules
    from qc.rules.context import CallContext

    trigger = load_rules(ROOT / "rules").get("EMPA01").match.params["when"]
    gold: dict[str, str] = {}
    with open(ROOT / "bench" / "labels" / "complaint_train.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["dialogue_id"] in in_part:
                gold[row["dialogue_id"]] = row["type"] if row["complaint"] == "1" else ""
    rule_pred, emo_pred, types, fallback = set(), set(), {}, 0
    for i in gold:
        t = train[i]
        ctx = CallContext(t)
        if trigger.run(ctx, ctx.all):
            rule_pred.add(i)
        c = analyze_call(t).complaint
        if c is not None:
            emo_pred.add(i)
            types[i] = c.type
            fallback += c.type == "service" and not any(e.span for e in c.evidence)
    pos = {i for i, ty in gold.items() if ty}
    print(f"\ncomplaints, {args.part} part: {len(gold)} labelled dialogues, {len(pos)} complaints")
    for name, pred in (("EMPA01 trigger", rule_pred), ("emotion complaint", emo_pred)):
        p, r, tp, fp, fn = prf(pred, pos, set(gold))
        print(f"  {name:18} P {p:.2f} R {r:.2f}  (tp {tp} fp {fp} fn {fn})")
        if args.show:
            print("    false " + " ".join(sorted(pred - pos)) + "\n    missed " + " ".join(sorted(pos - pred)))
    both = [i for i in pos if i in types]
    right = sum(types[i] == gold[i] for i in both)
    print(f"  complaint type right on {right} of {len(both)} found complaints "
          f"({sum(types[i] == 'service' for i in both)} typed service; labels: "
          + ", ".join(f"{k} {sum(gold[i] == k for i in pos)}" for k in ("service", "product", "price", "process", "environment")) + ")")
    if args.show:
        for i in both:
            if types[i] != gold[i]:
                print(f"    type {i}: {types[i]} (label {gold[i]})")


def _part(dialogue_id: str) -> str:
    import hashlib

    return "heldout" if int(hashlib.sha1(dialogue_id.encode()).hexdigest(), 16) % 2 else "tune"


if __name__ == "__main__":
    sys.exit(main())
