"""Text-only check of TTS test calls: do the rules, run on the TRUE turns, agree with the design?

    python bench/tts_design_check.py /work/tts_third [/work/tts_fresh ...]

No audio and no ASR: each call's T###.json (the true turns, from bench/make_tts_calls.py) goes through
the rules, and each required decision (OPEN01, IDEN01, CLOSE01) is compared with meta.expected
("said": the rule must not fire; "missing": it must). A disagreement here is rule wording, not
recognition: it is listed with the agent line the decision rests on. Exit status 1 if any disagree.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REQUIRED = ("OPEN01", "IDEN01", "CLOSE01")


def check(folder: Path, rules) -> int:
    from qc.rules import inspect
    from qc.transcript import load_transcript

    if not (folder / "calls.csv").exists():
        sys.exit(f"{folder}: no calls.csv; build the calls with bench/make_tts_calls.py")
    with open(folder / "calls.csv", encoding="utf-8") as f:
        meta = {r["call_id"]: r for r in csv.DictReader(f)}
    agree = total = 0
    counts = {code: {"said": 0, "missing": 0} for code in REQUIRED}
    wrong = []
    for path in sorted(folder.glob("T*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        ref = load_transcript(path)
        direction = meta.get(path.stem, {}).get("direction")  # inbound: IDEN01 applies
        ref = dataclasses.replace(ref, meta={**ref.meta, "direction": direction})
        fired = {f.rule for f in inspect(ref, rules).findings}
        agent = [u["text"] for u in raw["utterances"] if u["role"] == "agent"]
        for k, code in enumerate(REQUIRED):
            expected = raw["meta"]["expected"][code]
            counts[code][expected] += 1
            total += 1
            if (expected == "missing") == (code in fired):
                agree += 1
            else:  # the line the design put the phrase (or its near miss) in
                wrong.append((path.stem, code, expected, "fired" if code in fired else "did not fire",
                              agent[0] if k == 0 else agent[1] if k == 1 else agent[-1]))
    print(f"{folder}: {len(meta)} calls; rules on the true turns vs design: {agree}/{total} decisions agree")
    for code in REQUIRED:
        bad = [w for w in wrong if w[1] == code]
        print(f"  {code}: said {counts[code]['said']} (rule fired on {sum(w[2] == 'said' for w in bad)}), "
              f"missing {counts[code]['missing']} (rule silent on {sum(w[2] == 'missing' for w in bad)})")
    for call, code, expected, what, line in wrong:
        print(f"  disagree {call} {code}: designed {expected}, rule {what}: {line}")
    return len(wrong)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", type=Path, nargs="+", help="folders built by bench/make_tts_calls.py")
    ap.add_argument("--rules", type=Path, default=ROOT / "rules")
    args = ap.parse_args()
    from qc.rules import load_rules

    rules = load_rules(args.rules)
    bad = sum(check(folder, rules) for folder in args.folders)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
