"""Throughput of the full shipped rule set over realistic synthetic 5-minute calls (one core).

    python bench/bench_rules.py [--calls 10000] [--rules rules/]

Each synthetic call has ~70 timed utterances (agent/customer alternating, back-channels, overlaps,
pauses, some ASR-style traditional characters and Chinese numerals, word confidences), drawn with a
fixed seed from phrase banks typical of a telecom/e-commerce hotline. Prints calls/s.

The phrase banks repeat, so the per-text caches (normalisation, pinyin lines) hit far more often
than on a real night where almost every utterance is new text. ``--cold`` empties those caches
before every call (inside the timing), which is the realistic figure for real transcripts.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qc.rules import inspect, load_rules  # noqa: E402
from qc.types import CallEmotion, Transcript, Utterance, UtteranceEmotion  # noqa: E402

AGENT = [
    "您好，工号{n}，很高兴为您服务", "请问是机主本人吗", "麻烦您报一下身份证后四位", "好的，我这边帮您查询一下，请稍等",
    "让您久等了，查到您本月话费是{m}元", "这个费用是增值业务产生的", "我帮您提交工单，24小时内会有专人联系您",
    "非常抱歉给您带来不便", "嗯", "好的", "您看还有其他可以帮您的吗", "感谢您的来电，再见", "退款会在七个工作日内原路退回",
    "这个需要您到营业厅办理", "我理解您的心情，我马上帮您处理", "您的套餐是五十八元每月包含二十G流量", "這是規定，我也沒辦法",
    "人工服务时间是早上八点到晚上十点", "正在为您转接", "这个问题需要转到售后部门处理，您看可以吗",
]
CUSTOMER = [
    "你好，我想查一下话费", "是的，我是机主", "后四位是幺二三四", "为什么这个月多扣了{m}块钱", "你们怎么回事，乱扣费",
    "嗯", "对", "好的", "那什么时候能处理好", "我的快递一直没到，都好几天了", "我要投诉", "再不处理我就打12315",
    "我的号码是幺三八一二三四五六七八", "订单号是{o}", "没有了，谢谢", "那我怎么办", "你们这服务太差了", "好吧",
]


def synth_call(rng: random.Random, k: int) -> Transcript:
    t, us = rng.uniform(0, 8), []
    n = rng.randint(60, 80)
    for i in range(n):
        role = "agent" if i % 2 == 0 else "customer"
        if rng.random() < 0.1:
            role = "customer" if role == "agent" else "agent"
        bank = AGENT if role == "agent" else CUSTOMER
        text = rng.choice(bank).format(n=rng.randint(1000, 9999), m=rng.randint(5, 200), o=rng.randint(10**8, 10**9))
        dur = max(0.4, len(text) / rng.uniform(3.5, 5.5))
        start = max(0.0, t - (rng.uniform(0.2, 1.0) if rng.random() < 0.08 else 0.0))
        conf = rng.uniform(0.45, 0.99)
        us.append(Utterance(role=role, text=text, start=round(start, 2), end=round(start + dur, 2), confidence=conf))
        t = start + dur + (rng.uniform(8, 15) if rng.random() < 0.02 else rng.uniform(0.2, 1.5))
    meta = {"direction": rng.choice(["inbound", "inbound", "outbound"]), "ticket_note": "客户咨询话费，回访电话13812345678"}
    return Transcript(call_id=f"synth{k:05d}", utterances=us, meta=meta)


def _text_cache_clearers() -> list:
    """cache_clear of every cache keyed by utterance text (the per-character tables stay: a real night
    warms them within a few calls)."""
    import qc.emotion.risk as risk
    import qc.normalize
    import qc.rules.conditions.text as text_conditions

    funcs = [qc.normalize.normalize, getattr(text_conditions, "_pinyin_line_of", None),
             getattr(risk, "risk_cues", None), getattr(risk, "complaint_cues", None), getattr(risk, "_word_bounds", None)]
    return [f.cache_clear for f in funcs if f is not None]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--rules", default=str(Path(__file__).resolve().parents[1] / "rules"))
    ap.add_argument("--cold", action="store_true", help="empty the per-text caches before every call (unique text, as on real calls)")
    args = ap.parse_args()
    rules = load_rules(args.rules)
    rng = random.Random(20240601)
    calls = [synth_call(rng, k) for k in range(args.calls)]
    # a stand-in CallEmotion, as the night batch passes the emotion stage's result to inspect()
    emotions = [CallEmotion(c.call_id, [UtteranceEmotion(i, u.role, rng.random() * 0.9, 0.0) for i, u in enumerate(c.utterances)]) for c in calls]
    n_utts = sum(len(c.utterances) for c in calls)
    inspect(calls[0], rules, emotions[0])  # warm lazy imports and caches
    clear = _text_cache_clearers() if args.cold else []
    t0, c0 = time.perf_counter(), time.process_time()
    findings = 0
    for c, e in zip(calls, emotions):
        for f in clear:
            f()
        findings += len(inspect(c, rules, e).findings)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"caches: {'cold (emptied before every call)' if args.cold else 'warm (phrase banks repeat)'}")
    print(f"rules: {len(rules)}  calls: {len(calls)}  utterances/call: {n_utts / len(calls):.1f}  findings: {findings}")
    print(f"wall: {dt:.2f} s  throughput: {len(calls) / dt:.0f} calls/s  ({dt / len(calls) * 1000:.2f} ms/call, one core)")
    print(f"cpu:  {cpu:.2f} s  throughput: {len(calls) / cpu:.0f} calls/s of CPU time (less sensitive to a busy machine)")


if __name__ == "__main__":
    main()
