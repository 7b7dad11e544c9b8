"""Rule decisions on unseen TTS calls: reference text vs what qc hears in the 8 kHz audio.

    python bench/bench_tts_calls.py                       # stereo, all calls in /work/tts_calls
    python bench/bench_tts_calls.py --mono                # the same calls down-mixed to mono: roles too
    python bench/bench_tts_calls.py --hotwords on --relisten on   # where the checkout has them

The calls come from bench/make_tts_calls.py (real helpdesk dialogues read by an offline TTS voice;
see its docstring; they live outside the repository). Each has its true turns and, by design, which
of the three required phrases the agent said: the staff number in the opening (OPEN01), the identity
check (IDEN01) and the closing (CLOSE01). When one is left out, the agent says something that sounds
close instead.

Printed:
- rule-hit agreement: the rules run on the true turns (reference) and on the transcript of the audio;
  every (call, rule) pair where either fired counts; micro precision / recall / F1 of the audio's hits
  against the reference's, and per rule;
- required phrases: on the calls where the agent did NOT say it, how often the audio transcript
  "heard" it anyway (false heard; target 0); on the calls where she did, how often it was found;
  how many of the required decisions were left needs_review;
- RATE01 false alarms on calls whose agent spoke at normal pace, and hits on the calls with a fast line;
- with --mono: the share of transcript lines whose role is right (a line's true role is the role of
  the true turn it overlaps most), and how many lines stayed unknown;
- night RTF: (ASR + rules) seconds / audio seconds over the calls transcribed in this run (cached
  transcripts are reused unless --no-cache, and are not timed).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REQUIRED = ("OPEN01", "IDEN01", "CLOSE01")
DEFAULT_CALLS = Path("/work/tts_calls")


def _switch(value: str) -> bool:
    if value not in ("on", "off"):
        raise argparse.ArgumentTypeError("on or off")
    return value == "on"


def load_calls(folder: Path, limit: int | None) -> list[dict]:
    from qc.transcript import load_transcript

    meta = {}
    if (folder / "calls.csv").exists():
        with open(folder / "calls.csv", encoding="utf-8") as f:
            meta = {r["call_id"]: r for r in csv.DictReader(f)}
    calls = []
    for wav in sorted(folder.glob("*.wav")):
        ref_path = wav.with_suffix(".json")
        if not ref_path.exists():  # samples/: the true turns are in reference/
            ref_path = folder / "reference" / f"{wav.stem}.json"
        if not ref_path.exists():
            continue
        raw = json.loads(ref_path.read_text(encoding="utf-8"))
        calls.append({"id": wav.stem, "wav": wav, "reference": load_transcript(ref_path),
                      "expected": raw["meta"].get("expected", {}), "fast_turns": raw["meta"].get("fast_turns", []),
                      "meta": {k: v for k, v in meta.get(wav.stem, {}).items() if k in ("direction",)}})
    if not calls:
        sys.exit(f"{folder}: no calls (T###.wav + T###.json); build them with bench/make_tts_calls.py")
    if limit and limit < 0:  # the last -N calls
        return calls[limit:]
    return calls[:limit] if limit else calls


def role_accuracy(transcript, reference) -> tuple[int, int, int]:
    """(lines whose role is right, lines matched to a true turn, lines left unknown)."""
    right = matched = unknown = 0
    for u in transcript.utterances:
        best, role = 0.0, None
        for t in reference.utterances:
            ov = min(u.end or 0, t.end or 0) - max(u.start or 0, t.start or 0)
            if ov > best:
                best, role = ov, t.role
        if role is None:
            continue
        matched += 1
        unknown += u.role == "unknown"
        right += u.role == role
    return right, matched, unknown


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=Path, default=DEFAULT_CALLS, help=f"folder of calls (default {DEFAULT_CALLS})")
    ap.add_argument("--limit", type=int, help="first N calls only (-N: the last N)")
    ap.add_argument("--skip", type=int, default=0, help="leave out the first N calls")
    ap.add_argument("--mono", action="store_true", help="down-mix each call to mono (roles inferred)")
    ap.add_argument("--hotwords", type=_switch, help="on/off: the rules' words as hotwords (if the checkout has it)")
    ap.add_argument("--relisten", type=_switch, help="on/off: re-decode before a deduction (if the checkout has it)")
    ap.add_argument("--no-cache", action="store_true", help="transcribe again even when cached")
    ap.add_argument("--json", type=Path, help="also write per-call results here (with each re-check: window, "
                    "what was heard, its agreement with the first pass, whether the rule passed)")
    args = ap.parse_args()

    from qc.asr import load_transcriber
    from qc.run.cache import TranscriptCache
    from qc.ingest import DecodedAudio, decode_audio, file_sha256
    from qc.rules import inspect, load_rules

    options = {}
    if args.hotwords:  # the rules' own words per role, as the night batch passes them
        from qc.rules.vocabulary import vocabulary

        rules_for_vocab = load_rules(ROOT / "rules")
        options["hotwords"] = {role: vocabulary(rules_for_vocab, role) for role in ("agent", "customer")}
    pipeline = None
    if args.relisten:  # re-listening is the pipeline's step between rules and scoring
        from qc.run.pipeline import CallPipeline, PipelineConfig

        pipeline = CallPipeline(PipelineConfig(rules=str(ROOT / "rules"), relisten=True))
    relisten_s = 0.0
    calls = load_calls(args.calls, args.limit)[args.skip:]
    rules = load_rules(ROOT / "rules")
    transcriber = load_transcriber(**options)
    cache = TranscriptCache()
    audio_s = busy_s = 0.0
    timed = 0
    rows = []
    for c in calls:
        ref = dataclasses.replace(c["reference"], meta={**c["reference"].meta, **c["meta"]})
        ref_insp = inspect(ref, rules)
        audio = decode_audio(c["wav"])
        sha = file_sha256(c["wav"])
        if args.mono:
            sha = hashlib.sha256(f"{sha}:mono".encode()).hexdigest()  # the down-mix is another recording
            audio = DecodedAudio(audio.samples.mean(axis=0, keepdims=True), audio.sample_rate,
                                 dataclasses.replace(audio.info, channels=1, sha256=sha))
        key = transcriber.cache_key(sha)
        t0 = time.perf_counter()
        hyp = None if args.no_cache else cache.get(key)
        cached = hyp is not None
        if hyp is None:
            hyp = transcriber.transcribe(audio, call_id=c["id"], meta=dict(c["meta"]))
            cache.put(key, hyp)
        hyp.meta.update(c["meta"])
        if pipeline is not None:
            result = pipeline.score(hyp, audio)
            hyp_insp = result.inspection
            relistened = result.transcript.meta.get("asr_relistened") or []
            relisten_s += sum(n.get("seconds", 0.0) for n in result.transcript.meta.get("asr_relistened") or [])
        else:
            hyp_insp = inspect(hyp, rules)
            relistened = []
        if not cached:
            busy_s += time.perf_counter() - t0
            audio_s += audio.duration
            timed += 1
        fired_ref = {f.rule for f in ref_insp.findings}
        fired_hyp = {f.rule for f in hyp_insp.findings}
        review = {f.rule for f in hyp_insp.findings if f.needs_review}
        rate_hits = [f for f in hyp_insp.findings if f.rule == "RATE01"]
        fast_spans = [(ref.utterances[k].start, ref.utterances[k].end) for k in c["fast_turns"]]
        rate_false = [f for f in rate_hits if not any(
            e.start is not None and min(e.end, b) - max(e.start, a) > 0 for e in f.evidence for a, b in fast_spans)]
        row = {"call": c["id"], "expected": c["expected"], "ref_fired": sorted(fired_ref),
               "hyp_fired": sorted(fired_hyp), "needs_review": sorted(review),
               "checked_ref": sorted(ref_insp.checked), "checked_hyp": sorted(hyp_insp.checked),
               "fast": bool(fast_spans), "rate_hits": len(rate_hits), "rate_false": len(rate_false),
               "dropped": len(hyp.meta.get("asr_dropped", [])), "relistened": relistened}
        if args.mono:
            row["roles"] = role_accuracy(hyp, ref)
        rows.append(row)
        print(f"{c['id']} ref={','.join(sorted(fired_ref)) or '-'} audio={','.join(sorted(fired_hyp)) or '-'}"
              + (f" roles={row['roles'][0]}/{row['roles'][1]}" if args.mono else "")
              + (" (cached)" if cached else ""), file=sys.stderr)

    report(rows, args, audio_s, busy_s, timed)
    if pipeline is not None:
        print(f"re-listening: {relisten_s:.1f} s of ASR on {len(rows)} calls "
              f"({relisten_s / busy_s:.1%} of the first pass, when it ran here)" if busy_s else
              f"re-listening: {relisten_s:.1f} s of ASR on {len(rows)} calls")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def report(rows: list[dict], args, audio_s: float, busy_s: float, timed: int) -> None:
    mode = "mono (down-mixed)" if args.mono else "stereo"
    switches = ", ".join(f"{k} {'on' if v else 'off'}" for k, v in
                         (("hotwords", args.hotwords), ("relisten", args.relisten)) if v is not None)
    print(f"\n{len(rows)} calls from {args.calls}, {mode}{'; ' + switches if switches else ''}")

    # design vs reference text: the calls say what they were built to say
    designed = [r for r in rows if r["expected"]]
    agree = sum((r["expected"][code] == "missing") == (code in r["ref_fired"]) for r in designed for code in REQUIRED)
    print(f"reference text vs design, required decisions: {agree}/{len(designed) * len(REQUIRED)} agree")

    # rule-hit agreement, reference text vs audio
    per = Counter()
    for r in rows:
        both_checked = set(r["checked_ref"]) & set(r["checked_hyp"])
        for code in both_checked:
            a, b = code in r["ref_fired"], code in r["hyp_fired"]
            if a or b:
                per[(code, "tp" if a and b else "fn" if a else "fp")] += 1
    codes = sorted({code for code, _ in per})
    tp, fp, fn = (sum(per[(c, k)] for c in codes) for k in ("tp", "fp", "fn"))
    p, rc, f1 = _f1(tp, fp, fn)
    print(f"rule hits, audio vs reference text: micro P {p:.3f} R {rc:.3f} F1 {f1:.3f} (tp {tp}, fp {fp}, fn {fn})")
    print(f"  {'rule':8s} {'ref':>4s} {'audio':>5s} {'both':>4s} {'F1':>6s}")
    for c in codes:
        a, b, t = per[(c, "tp")] + per[(c, "fn")], per[(c, "tp")] + per[(c, "fp")], per[(c, "tp")]
        print(f"  {c:8s} {a:4d} {b:5d} {t:4d} {_f1(t, b - t, a - t)[2]:6.3f}")

    # required phrases: false heard on the negatives, found on the positives
    print("required phrases (by design): false heard on 'missing', found on 'said', needs_review")
    tot = Counter()
    for code in REQUIRED:
        neg = [r for r in designed if r["expected"][code] == "missing"]
        pos = [r for r in designed if r["expected"][code] == "said"]
        false_heard = sum(code not in r["hyp_fired"] for r in neg)
        found = sum(code not in r["hyp_fired"] for r in pos)
        review = sum(code in r["needs_review"] for r in rows)
        tot.update(neg=len(neg), fh=false_heard, pos=len(pos), found=found, review=review)
        print(f"  {code:8s} false heard {false_heard:2d}/{len(neg):2d}   found {found:2d}/{len(pos):2d}   "
              f"needs_review {review:2d}")
    print(f"  {'all':8s} false heard {tot['fh']:2d}/{tot['neg']:2d}   found {tot['found']:2d}/{tot['pos']:2d} "
          f"({tot['found'] / max(tot['pos'], 1):.3f})   needs_review {tot['review']:2d}/{len(rows) * len(REQUIRED)}")

    normal = [r for r in rows if not r["fast"]]
    fast = [r for r in rows if r["fast"]]
    print(f"RATE01: false alarms on {sum(r['rate_false'] > 0 for r in normal)}/{len(normal)} normal-pace calls "
          f"({sum(r['rate_false'] for r in rows)} findings outside a fast line in all); "
          f"fast line found on {sum(r['rate_hits'] > r['rate_false'] for r in fast)}/{len(fast)} calls")
    dropped = [r for r in rows if r["dropped"]]
    print(f"ASR dropped segments: {sum(r['dropped'] for r in rows)} on {len(dropped)} calls")
    if args.mono:
        right, matched, unknown = (sum(r["roles"][k] for r in rows) for k in range(3))
        worst = sorted(rows, key=lambda r: r["roles"][0] / max(r["roles"][1], 1))[:3]
        print(f"mono roles right: {right}/{matched} lines ({right / max(matched, 1):.3f}), unknown {unknown}; "
              f"calls >= 0.9: {sum(r['roles'][0] >= 0.9 * r['roles'][1] for r in rows)}/{len(rows)}; worst "
              + ", ".join(f"{r['call']} {r['roles'][0]}/{r['roles'][1]}" for r in worst))
    if timed:
        print(f"night RTF (ASR + rules, {timed} calls transcribed now): {busy_s:.1f} s / {audio_s:.0f} s audio "
              f"= {busy_s / audio_s:.3f}")
    else:
        print("night RTF: all transcripts came from the cache (run with --no-cache to time)")


if __name__ == "__main__":
    main()
