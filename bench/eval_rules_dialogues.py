"""Accuracy of the shipped rules on real chat dialogues against hand labels.

    python bench/eval_rules_dialogues.py [--rules rules/] [--data ../shared/data/dialogues_zh]
                                         [--labels bench/labels/dialogues_rules.csv]

Each dialogue of ``dialogues_zh`` (Weibo helpdesk threads and Taobao chats, see its README) becomes a
qc transcript in memory: one utterance per post, role from the speaker field, no times. The dialogue
text stays where it is (research-only licence); the labels file holds only ids and labels.

Labelled items (bench/labels/README.md says how they were made):

* GREET: the agent's first turn greets. Predicted by the greeting half of OPEN01 (its first
  ``all`` condition) on the agent's first utterance; OPEN01 as a whole also wants an agent id,
  which chat dialogues never give: it is a voice-only rule (``channels: [voice]``) and does not
  apply to these chat transcripts.
* EMPA01_TRIGGER: the customer complains (EMPA01's ``when`` condition fires anywhere).
* EMPA01, FORB01, FORB02, RISK01, RISK02, RISK03: the rule reports at least one finding.

Prints precision / recall / F1 per item with counts, then the disagreements by id.

``--asr REFERENCE_DIR ASR_DIR`` instead compares the rules on the true scripts of the 8 kHz sample
calls (samples/reference/*.json) with the same rules on their ASR transcripts (``qc transcribe
samples/ --meta samples/calls.csv --out DIR``): per rule, on how many calls both agree (fires / quiet
/ not applicable) and which calls differ.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qc.rules import inspect, load_rules  # noqa: E402
from qc.rules.context import CallContext  # noqa: E402
from qc.types import Transcript, Utterance  # noqa: E402

ITEMS = ("GREET", "EMPA01_TRIGGER", "EMPA01", "FORB01", "FORB02", "RISK01", "RISK02", "RISK03")
FILES = ("stc3_weibo_helpdesk_200.jsonl", "ecd_taobao_sample.jsonl")


def load_dialogues(data: Path) -> dict[str, tuple[str, Transcript]]:
    """Dialogue id -> (file name, transcript without times)."""
    out = {}
    for name in FILES:
        with open(data / name, encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                us = [Utterance(role="agent" if t["role"] in ("agent", "helpdesk") else "customer", text=t["text"]) for t in d["turns"]]
                out[d["id"]] = (name, Transcript(call_id=d["id"], utterances=us, meta={"channel": "chat"}))
    return out


def predict(transcript: Transcript, rules) -> tuple[dict[str, int], bool]:
    """Predicted 0/1 per item, and whether OPEN01 as a whole reports a violation."""
    result = inspect(transcript, rules.only("OPEN01", *ITEMS))  # no TEMP01: it would load the emotion model
    codes = {f.rule for f in result.findings}
    pred = {code: int(code in codes) for code in ITEMS if code not in ("GREET", "EMPA01_TRIGGER")}
    ctx = CallContext(transcript)
    agent = [i for i, u in enumerate(transcript.utterances) if u.role == "agent"]
    match = rules.get("OPEN01").match
    while match.type.name == "scope":  # the rule-level scope wraps the match
        match = match.params["match"]
    greeting = match.params["conditions"][0]
    pred["GREET"] = int(bool(agent) and bool(greeting.run(ctx, tuple(agent[:1]))))
    pred["EMPA01_TRIGGER"] = int(bool(rules.get("EMPA01").match.params["when"].run(ctx, ctx.all)))
    return pred, "OPEN01" in codes


def compare_asr(rules, reference_dir: Path, asr_dir: Path) -> None:
    """Per rule: agreement of the outcome on reference text vs ASR text, call by call."""
    from qc.transcript import load_transcript

    def outcome(t: Transcript) -> dict[str, str]:
        r = inspect(t, rules)
        fired = {f.rule for f in r.findings}
        return {x.code: "n/a" if x.code in r.not_applicable else ("fires" if x.code in fired else "quiet") for x in rules}

    pairs = []
    for ref_path in sorted(reference_dir.glob("*.json")):
        asr_path = asr_dir / ref_path.name
        if asr_path.exists():
            ref, asr = load_transcript(ref_path), load_transcript(asr_path)
            ref.meta = {**asr.meta, **ref.meta}  # calls.csv columns (direction, ticket_note) came with the ASR run
            pairs.append((ref_path.stem, outcome(ref), outcome(asr)))
    print(f"calls with both reference and ASR transcripts: {len(pairs)}")
    print(f"{'rule':<8} {'agree':>5}  {'fires (ref/asr)':>15}  differs on")
    for rule in rules:
        c = rule.code
        agree = sum(ref[c] == asr[c] for _, ref, asr in pairs)
        fires = f"{sum(ref[c] == 'fires' for _, ref, _ in pairs)}/{sum(asr[c] == 'fires' for _, _, asr in pairs)}"
        diff = " ".join(f"{cid}({ref[c]}->{asr[c]})" for cid, ref, asr in pairs if ref[c] != asr[c])
        print(f"{c:<8} {agree:>3}/{len(pairs):<2} {fires:>15}  {diff}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rules", default=str(ROOT / "rules"))
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "dialogues_zh"))
    ap.add_argument("--labels", default=str(ROOT / "bench" / "labels" / "dialogues_rules.csv"))
    ap.add_argument("--asr", nargs=2, metavar=("REFERENCE_DIR", "ASR_DIR"), help="compare reference and ASR transcripts of the sample calls instead")
    args = ap.parse_args()

    rules = load_rules(args.rules)
    if args.asr:
        compare_asr(rules, Path(args.asr[0]), Path(args.asr[1]))
        return
    dialogues = load_dialogues(Path(args.data))
    labels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(args.labels, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            labels[row["dialogue_id"]][row["rule"]] = int(row["label"])

    counts = {item: {"tp": [], "fp": [], "fn": [], "tn": []} for item in ITEMS}
    open01 = 0
    for did, gold in labels.items():
        pred, open01_hit = predict(dialogues[did][1], rules)
        open01 += open01_hit
        for item, g in gold.items():
            p = pred[item]
            counts[item][("t" if p == g else "f") + ("p" if p else "n")].append(did)

    by_file = defaultdict(int)
    for did in labels:
        by_file[dialogues[did][0]] += 1
    print(f"rules: {args.rules}  dialogues labelled: {len(labels)} ({', '.join(f'{k}: {v}' for k, v in by_file.items())})")
    print(f"{'item':<15} {'pos':>4} {'tp':>4} {'fp':>4} {'fn':>4} {'tn':>4}  {'precision':>9} {'recall':>7} {'F1':>5}")
    for item, c in counts.items():
        tp, fp, fn, tn = (len(c[k]) for k in ("tp", "fp", "fn", "tn"))
        prec = tp / (tp + fp) if tp + fp else float("nan")
        rec = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * prec * rec / (prec + rec) if tp else (0.0 if fp + fn else float("nan"))
        print(f"{item:<15} {tp + fn:>4} {tp:>4} {fp:>4} {fn:>4} {tn:>4}  {prec:>9.2f} {rec:>7.2f} {f1:>5.2f}")
    print(f"(OPEN01 as shipped, greeting + agent id, reports a violation on {open01}/{len(labels)} dialogues: "
          "it applies to voice calls only and these are chat, so it is not scored)")
    print("\ndisagreements (fp: rule fires, label 0; fn: label 1, rule silent):")
    for item, c in counts.items():
        for kind in ("fp", "fn"):
            if c[kind]:
                print(f"  {item} {kind}: {' '.join(sorted(c[kind]))}")


if __name__ == "__main__":
    main()
