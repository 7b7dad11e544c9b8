"""Emotion benchmark: qc.emotion side by side with plain snownlp, in the same run.

    python3 bench/bench_emotion.py [--data ../shared/data] [--quick]

Prints
1. macro-F1 (positive vs negative) on sentiment_zh (1,000 texts; CLUEmotion anger/sadness/
   disgust/fear count as negative, happiness/like as positive, surprise is left out);
2. AUC of call-level customer negativity for dissatisfied dialogues (annotated mean
   satisfaction S < 0) vs the rest, and Spearman correlation with S, on stc3 weibo helpdesk;
3. the polite agent phrases of the shipped rule set (none may score negative);
4. ms per 5-minute stereo call for emotion (text + voice).
None of these sets was used for training or model selection.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qc.emotion import analyze_call, load_text_model, score_text  # noqa: E402
from qc.types import Transcript, Utterance  # noqa: E402

NEG = {"negative", "anger", "sadness", "disgust", "fear"}
POS = {"positive", "happiness", "like"}


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    f = []
    for cls in (0, 1):
        tp = np.sum((pred == cls) & (y == cls))
        fp = np.sum((pred == cls) & (y != cls))
        fn = np.sum((pred != cls) & (y == cls))
        f.append(2 * tp / max(1, 2 * tp + fp + fn))
    return float(np.mean(f))


def ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    for v in np.unique(x):  # average ties
        m = x == v
        r[m] = r[m].mean()
    return r


def auc(pos_scores: np.ndarray, labels: np.ndarray) -> float:
    r = ranks(pos_scores)
    n1 = labels.sum()
    n0 = len(labels) - n1
    return float((r[labels == 1].sum() + n1 - n1 * (n1 + 1) / 2) / (n1 * n0)) if n1 and n0 else float("nan")


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def snow_neg(text: str) -> float:
    from snownlp import SnowNLP

    return 1.0 - SnowNLP(text).sentiments if text.strip() else 0.5


def bench_sentiment(data: Path) -> None:
    rows = [json.loads(x) for x in (data / "sentiment_zh/sentiment_zh_1000.jsonl").open(encoding="utf-8")]
    rows = [r for r in rows if r["label"] in NEG | POS]
    y = np.array([1 if r["label"] in NEG else 0 for r in rows])
    model = load_text_model()
    scores = {"snownlp": [], "qc model only": [], "qc scorer": []}
    for r in rows:
        scores["snownlp"].append(snow_neg(r["text"]))
        t = score_text(r["text"], role="customer", model=model)
        scores["qc model only"].append(model.negativity(r["text"]))
        scores["qc scorer"].append(t.negativity)
    reviews = np.array([r["label"] in ("positive", "negative") for r in rows])
    print(f"\n1. sentiment_zh macro-F1, negative vs positive: 'reviews' = the {reviews.sum()} rows labelled "
          f"positive/negative; 'all' adds {(~reviews).sum()} CLUEmotion Weibo rows (surprise left out)")
    domains = sorted({r["dataset"] for r in rows})
    print(f"   {'':16s} {'reviews':>8s} {'all':>6s} " + " ".join(f"{d[:14]:>14s}" for d in domains))
    for name, s in scores.items():
        pred = (np.array(s) >= 0.5).astype(int)
        per = []
        for d in domains:
            m = np.array([r["dataset"] == d for r in rows])
            per.append(macro_f1(y[m], pred[m]))
        print(f"   {name:16s} {macro_f1(y[reviews], pred[reviews]):8.3f} {macro_f1(y, pred):6.3f} "
              + " ".join(f"{v:14.3f}" for v in per))


def bench_dialogues(data: Path, limit: int | None) -> None:
    lines = (data / "dialogues_zh/stc3_weibo_helpdesk_200.jsonl").read_text(encoding="utf-8").splitlines()
    dialogues = [json.loads(x) for x in lines][:limit]
    s = np.array([d["labels"]["quality_mean"]["S_customer_satisfaction"] for d in dialogues])
    dissatisfied = (s < 0).astype(int)
    out = {"snownlp mean": [], "qc customer_mean": [], "qc customer_peak": [], "qc mean+peak": []}
    for d in dialogues:
        t = Transcript(call_id=d["id"], utterances=[Utterance(role=u["role"], text=u["text"]) for u in d["turns"]])
        cust = [u["text"] for u in d["turns"] if u["role"] == "customer"]
        out["snownlp mean"].append(float(np.mean([snow_neg(x) for x in cust])) if cust else 0.5)
        ce = analyze_call(t)
        out["qc customer_mean"].append(ce.customer_mean)
        out["qc customer_peak"].append(ce.customer_peak)
        out["qc mean+peak"].append((ce.customer_mean + ce.customer_peak) / 2)
    print(f"\n2. stc3 weibo helpdesk: dissatisfied (S < 0) {dissatisfied.sum()} of {len(dialogues)} dialogues")
    print(f"   {'call-level score':18s} {'AUC':>6s} {'Spearman(score, S)':>20s}")
    for name, v in out.items():
        v = np.array(v)
        print(f"   {name:18s} {auc(v, dissatisfied):6.3f} {spearman(v, s):20.3f}")
    print("   (qc customer_mean is the reported call-level negativity; Spearman is negative when "
          "higher negativity goes with lower satisfaction)")


def polite_phrases() -> list[str]:
    """Compliant agent lines of the shipped rule set: the keyword lists of the rules an agent
    must satisfy (greeting, apology, thanks, closing) and the agent lines of their passing tests."""
    import yaml

    phrases = [
        "您好，很高兴为您服务，请问有什么可以帮您",
        "请问您是机主本人吗，麻烦报一下身份证后四位",
        "非常抱歉给您带来不便",
        "感谢您的来电，再见",
    ]
    for f in sorted((ROOT / "rules").glob("*.yaml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for rule in doc.get("rules", []):
            if rule.get("polarity") != "required":
                continue

            def keywords(node):
                if isinstance(node, dict):
                    if node.get("type") == "keyword" and node.get("role", "agent") != "customer":
                        yield from node.get("any", [])
                    for v in node.values():
                        yield from keywords(v)
                elif isinstance(node, list):
                    for v in node:
                        yield from keywords(v)

            phrases += [k for k in keywords(rule.get("match") or rule.get("then") or {}) if isinstance(k, str)]
            phrases += [k for k in keywords(rule.get("then") or {}) if isinstance(k, str)]
            for test in rule.get("tests", []):
                if test.get("expect") == "no_hit":
                    phrases += [line["agent"] for line in test.get("transcript", []) if isinstance(line, dict) and "agent" in line]
    seen, out = set(), []
    for p in phrases:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def bench_polite() -> None:
    phrases = polite_phrases()
    model = load_text_model()
    qc_neg = [score_text(p, role="agent", model=model).negativity for p in phrases]
    sn_neg = [snow_neg(p) for p in phrases]
    print(f"\n3. polite agent phrases from the shipped rule set (n={len(phrases)}): negative = negativity >= 0.5")
    print(f"   qc: {sum(v >= 0.5 for v in qc_neg)} negative (max {max(qc_neg):.2f});  "
          f"snownlp: {sum(v >= 0.5 for v in sn_neg)} negative (max {max(sn_neg):.2f})")
    for p, q, s in sorted(zip(phrases, qc_neg, sn_neg), key=lambda x: -x[1])[:5]:
        print(f"   qc {q:.2f}  snownlp {s:.2f}  {p}")


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
        return x.reshape(-1, w.getnchannels()).mean(axis=1), w.getframerate()


def bench_speed(data: Path) -> None:
    wavs = sorted((data / "speech_zh/with_reference").glob("aishell1_*.wav"))
    clips = [_read_wav(p) for p in wavs]
    sr = clips[0][1]
    dialog = json.loads((data / "dialogues_zh/stc3_weibo_helpdesk_200.jsonl").read_text(encoding="utf-8").splitlines()[5])
    texts = [(u["role"], u["text"][:60]) for u in dialog["turns"]]
    total = 300.0
    audio = np.zeros((2, int(total * sr)), dtype=np.float32)
    utts, t, k = [], 0.5, 0
    while True:
        clip = clips[k % len(clips)][0]
        if t + len(clip) / sr > total:
            break
        role, text = texts[k % len(texts)]
        ch = 0 if role == "agent" else 1
        a = int(t * sr)
        audio[ch, a : a + len(clip)] = clip
        utts.append(Utterance(role=role, text=text, start=t, end=t + len(clip) / sr, channel=ch))
        t += len(clip) / sr + 0.4
        k += 1
    transcript = Transcript(call_id="speed", utterances=utts)
    from qc.ingest import AudioInfo, DecodedAudio

    dec = DecodedAudio(audio, sr, AudioInfo("speed", "0" * 64, total, sr, 2))
    analyze_call(transcript, dec)  # warm: model load, jieba dictionary
    runs = 5
    t0 = time.perf_counter()
    for _ in range(runs):
        analyze_call(transcript, dec)
    both = (time.perf_counter() - t0) / runs * 1000
    t0 = time.perf_counter()
    for _ in range(runs):
        analyze_call(transcript)
    text_only = (time.perf_counter() - t0) / runs * 1000
    print(f"\n4. speed, 5-minute stereo call at {sr} Hz, {len(utts)} utterances (after warm-up):")
    print(f"   text + voice {both:.0f} ms per call;  text only {text_only:.0f} ms per call")


def main() -> None:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--quick", action="store_true", help="first 60 dialogues only")
    args = ap.parse_args()
    meta = load_text_model().meta
    print(f"text model: {meta.get('kind')}; trained on {meta.get('trained_on')} ({meta.get('rows')} rows); "
          f"held-out macro-F1 {meta.get('heldout_macro_f1', float('nan')):.3f}")
    bench_sentiment(args.data)
    bench_dialogues(args.data, 60 if args.quick else None)
    bench_polite()
    bench_speed(args.data)


if __name__ == "__main__":
    main()
