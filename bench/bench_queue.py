"""Re-review queue benchmark on annotated customer-service dialogues, old and new side by side.

    python3 bench/bench_queue.py [--data ../shared/data/dialogues_zh/stc3_weibo_helpdesk_200.jsonl]
                                 [--rules rules/] [--limit N]

Each dialogue becomes a text transcript (one utterance per post, role from the speaker, channel
"chat", no times) and goes through the pipeline's stage function, the one ``qc score`` runs per
call (:meth:`qc.run.pipeline.CallPipeline.score`: emotion -> rules -> scoring), then through the queue
(:func:`qc.report.queue.build_queue`). The dialogue text stays in ../shared (research-use only).

Printed in one run:

1. AUC for dissatisfied (annotated mean satisfaction S < 0), for S <= -0.5 and for unresolved
   (task accomplishment A < 0) of: plain snownlp (mean negativity of the customer's posts),
   ``customer_peak`` and today's queue priority (the formula before issue 10, kept below as
   :func:`priority_before`), the call models' probabilities, and the new queue priority;
2. precision of the top 25 % of the queue for dissatisfied calls, how many calls each queue
   selects (priority > 0), and the share of priority-0 calls among calls with nothing to review
   (satisfied and resolved: S >= 0 and A >= 0);
3. ms for the whole text side (emotion + call models + rules + scoring + queue) of a 5-minute
   call (dialogue posts strung together to 1,300 characters, the length of 5 minutes of Mandarin
   at ~4.5 characters per second, with times).

The 200 dialogues are for final figures only: nothing was tuned on them. The models were trained
on stc3_weibo_helpdesk_train.jsonl (bench/train_call_model.py); ``--data`` that file with
``--heldout`` (the 287 dialogues the shipped models never saw) to develop the queue.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qc.run.pipeline import CallPipeline, PipelineConfig  # noqa: E402
from qc.report.queue import build_queue  # noqa: E402
from qc.types import Transcript, Utterance  # noqa: E402


def auc(scores, labels) -> float:
    """Mann-Whitney AUC, ties counted half."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    pos, neg = s[y], s[~y]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def transcript_of(d: dict, timed: bool = False) -> Transcript:
    us = [Utterance(role="agent" if t["role"] in ("agent", "helpdesk") else "customer", text=t["text"]) for t in d["turns"]]
    return Transcript(call_id=d["id"], utterances=us, meta={"channel": "chat"})


# --- the queue priority before issue 10 (git main at 0777309), from the fields it read ---
_BEFORE = {"fatal": 100.0, "fatal_pending": 60.0, "below_pass_max": 50.0, "negativity": 30.0, "negativity_floor": 0.75,
           "worsened": 15.0, "ended_angry": 10.0, "agent_temper": 20.0, "risk_each": 30.0, "risk_max": 60.0,
           "needs_review_each": 8.0, "needs_review_max": 24.0}
_BEFORE_COMPLAINT = {"紧急危机": 40.0, "高度紧急": 25.0, "重要非紧急": 10.0, "一般": 0.0}


def priority_before(result) -> float:
    """Today's (pre-issue-10) queue priority of one CallResult: peak, trajectory, pass gap..."""
    score, e, findings = result.score, result.emotion, result.inspection.findings
    item_of = {code for item in score.items for code in item.rules}
    fatal_rules = {code for item in score.items if item.fatal for code in item.rules}
    p = sum(_BEFORE["fatal"] for item in score.items if item.status == "fatal")
    if not score.fatal and any(f.needs_review and f.rule in fatal_rules and f.kind == "violation" for f in findings):
        p += _BEFORE["fatal_pending"]
    if not score.passed and not score.fatal:
        p += min(_BEFORE["below_pass_max"], max(0.0, score.pass_line - score.score))
    if e is not None:
        if e.customer_peak >= _BEFORE["negativity_floor"]:
            p += round(_BEFORE["negativity"] * min(1.0, e.customer_peak), 1)
        if e.trajectory == "worsened":
            p += _BEFORE["worsened"] + (_BEFORE["ended_angry"] if e.customer_angry else 0.0)
        if e.agent_lost_temper:
            p += _BEFORE["agent_temper"]
        kinds = {r.kind for r in e.risks}
        p += min(_BEFORE["risk_max"], _BEFORE["risk_each"] * len(kinds))
        if e.complaint is not None:
            p += _BEFORE_COMPLAINT.get(e.complaint.priority, 0.0)
    risk_rules = {f.rule for f in findings if f.kind == "risk"}
    if risk_rules and not (e is not None and e.risks):
        p += min(_BEFORE["risk_max"], _BEFORE["risk_each"] * len(risk_rules))
    pending = [f for f in findings if f.needs_review and f.kind == "violation" and f.rule in item_of and f.rule not in fatal_rules]
    p += min(_BEFORE["needs_review_max"], _BEFORE["needs_review_each"] * len(pending))
    return round(p, 1)


def snow_neg(texts: list[str]) -> float:
    from snownlp import SnowNLP

    vals = [1.0 - SnowNLP(t).sentiments for t in texts if t.strip()]
    return float(np.mean(vals)) if vals else 0.5


def top_precision(priority: np.ndarray, labels: np.ndarray, share: float = 0.25) -> float:
    k = max(1, int(round(share * len(priority))))
    order = np.lexsort((np.arange(len(priority)), -priority))  # stable: ties keep file order
    return float(labels[order[:k]].mean())


def five_minute_call(dialogues: list[dict]) -> Transcript:
    """Posts strung together until 1,300 characters, with times spread over 300 s."""
    posts = [t for d in dialogues for t in d["turns"]]
    us, chars = [], 0
    for t in posts:
        if chars >= 1300:
            break
        us.append(Utterance(role="agent" if t["role"] == "agent" else "customer", text=t["text"][:120]))
        chars += len(us[-1].text)
    clock = 0.0
    for u in us:
        u.start = round(clock, 2)
        clock += 300.0 * len(u.text) / chars
        u.end = round(clock - 0.2, 2)
    return Transcript(call_id="five-minutes", utterances=us, meta={"channel": "voice"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "dialogues_zh" / "stc3_weibo_helpdesk_200.jsonl")
    ap.add_argument("--rules", type=Path, default=ROOT / "rules")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--heldout", action="store_true",
                    help="only the dialogues the call models held out (use with --data the training split, to develop)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    dialogues = [json.loads(x) for x in args.data.read_text(encoding="utf-8").splitlines() if x.strip()]
    if args.heldout:
        from qc.emotion.dialogue import load_call_model
        from qc.emotion.train.calls import _in_holdout

        share = load_call_model().meta["holdout_share"]
        dialogues = [d for d in dialogues if _in_holdout(d["id"], share)]
    dialogues = dialogues[: args.limit]
    S = np.array([d["labels"]["quality_mean"]["S_customer_satisfaction"] for d in dialogues])
    A = np.array([d["labels"]["quality_mean"]["A_task_accomplishment"] for d in dialogues])
    dis, bad, unres = S < 0, S <= -0.5, A < 0
    nothing = (S >= 0) & (A >= 0)

    pipe = CallPipeline(PipelineConfig(rules=str(args.rules)))
    results = [pipe.score(transcript_of(d)) for d in dialogues]
    queue = {q.call_id: q for q in build_queue(results, calibration=0)}
    new_priority = np.array([queue[r.call_id].priority if r.call_id in queue else 0.0 for r in results])
    old_priority = np.array([priority_before(r) for r in results])
    columns = {
        "plain snownlp (customer mean)": np.array([snow_neg([t["text"] for t in d["turns"] if t["role"] != "agent"]) for d in dialogues]),
        "customer_peak (today)": np.array([r.emotion.customer_peak for r in results]),
        "customer_mean (today)": np.array([r.emotion.customer_mean for r in results]),
        "queue priority (today)": old_priority,
        "P(dissatisfied) (new)": np.array([r.emotion.dissatisfied for r in results]),
        "P(unresolved) (new)": np.array([r.emotion.unresolved for r in results]),
        "queue priority (new)": new_priority,
    }
    print(f"{args.data.name}: {len(dialogues)} dialogues; dissatisfied (S<0) {dis.sum()}, S<=-0.5 {bad.sum()}, "
          f"unresolved (A<0) {unres.sum()}, nothing to review (S>=0 and A>=0) {nothing.sum()}")
    print(f"{'score':<32} {'AUC S<0':>8} {'S<=-0.5':>8} {'A<0':>8} {'top25% prec':>11} {'queued':>7} {'0 | nothing':>11}")
    for name, x in columns.items():
        queued = f"{(x > 0).sum():>7}" if "queue" in name else f"{'':>7}"
        zero = f"{((x == 0) & nothing).sum() / max(1, nothing.sum()):>11.2f}" if "queue" in name else f"{'':>11}"
        print(f"{name:<32} {auc(x, dis):>8.3f} {auc(x, bad):>8.3f} {auc(x, unres):>8.3f} "
              f"{top_precision(x, dis):>11.2f} {queued} {zero}")
    p = columns["P(dissatisfied) (new)"]
    print(f"calibration on this set: mean P(dissatisfied) {p.mean():.3f} vs rate {dis.mean():.3f}; "
          f"mean P(unresolved) {columns['P(unresolved) (new)'].mean():.3f} vs rate {unres.mean():.3f}")
    reasons = {}
    for q in queue.values():
        for r in q.reasons:
            reasons[r.code] = reasons.get(r.code, 0) + 1
    without = sorted({r.code for q in queue.values() for r in q.reasons if r.evidence is None and r.code != "repeat_complaint"})
    print(f"new queue reasons: {dict(sorted(reasons.items(), key=lambda kv: -kv[1]))}; reasons without evidence: {without or 'none'}")
    # the rule deductions on these chat dialogues come mostly from voice-call script rules (greeting
    # with a staff number, identity check, closing): the same queue without them, for comparison
    no_rules = np.array([sum(x.points for x in queue[r.call_id].reasons if x.code != "deductions") if r.call_id in queue else 0.0
                         for r in results])
    print(f"new queue without rule-deduction reasons: AUC S<0 {auc(no_rules, dis):.3f}, top 25% precision "
          f"{top_precision(no_rules, dis):.2f}, queued {(no_rules > 0).sum()}, priority 0 among nothing to review "
          f"{((no_rules == 0) & nothing).sum() / max(1, nothing.sum()):.2f}")

    call = five_minute_call(dialogues)
    pipe.score(call)  # warm: models and jieba loaded
    times = []
    for _ in range(20):
        t = time.perf_counter()
        res = pipe.score(call)
        build_queue([res], calibration=0)
        times.append(time.perf_counter() - t)
    print(f"text side of a 5-minute call ({len(call.utterances)} utterances, {sum(len(u.text) for u in call.utterances)} chars): "
          f"median {1000 * np.median(times):.1f} ms (emotion + call models + rules + scoring + queue)")


if __name__ == "__main__":
    main()
