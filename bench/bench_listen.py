"""Does qc hear the script without inventing it? Required-phrase decisions from 8 kHz audio.

    python bench/bench_listen.py --calls /work/tts_calls            # TTS calls with meta.expected
    python bench/bench_listen.py --calls /work/tts_calls --limit 12 --modes plain,hotwords,relisten

Each call folder holds ``ID.wav`` (stereo, agent left) and ``ID.json``: the true turns as a qc
transcript whose ``meta.expected`` says, per required rule (OPEN01, IDEN01, CLOSE01), whether the
agent ``said`` the phrase or it is ``missing`` (the agent said something else, often alike in
sound). Only the agent channel is recognised (the required rules look at the agent only); the
customer's true turns are kept so that turns and windows are as in the call.

Modes: ``plain`` (no hotwords), ``hotwords`` (the rules' words, :func:`qc.rules.vocabulary`),
``relisten`` (hotwords, then a required rule about to deduct is re-checked on its window with
beam 10 and its own words, as ``qc score`` does), ``plain+relisten`` (no hotwords, re-checked). Printed per mode: found-rate (said phrases
found), false-heard (missing phrases heard anyway; target 0), agent CER against the true script,
RATE01 false alarms on calls read at normal pace and hits on calls with a fast line
(``meta.fast_turns``), ASR seconds.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RULES = ("OPEN01", "IDEN01", "CLOSE01")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", default="/work/tts_calls")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--modes", default="plain,hotwords,relisten")
    ap.add_argument("--json", help="also write per-call decisions here")
    args = ap.parse_args()

    from qc.asr import load_transcriber
    from qc.asr.metrics import cer
    from qc.asr.transcriber import _distinct_channels, _gate_bleed, _to_16k
    from qc.ingest import decode_audio
    from qc.run.pipeline import CallPipeline, PipelineConfig
    from qc.rules import inspect, load_rules
    from qc.rules.vocabulary import vocabulary
    from qc.transcript import load_transcript

    rules = load_rules(ROOT / "rules")
    required = rules.only(*RULES, "RATE01")
    files = sorted(p for p in Path(args.calls).glob("*.json") if not p.name.startswith("_"))
    calls = []
    for p in files:
        ref = load_transcript(p)
        if ref.meta.get("expected") and p.with_suffix(".wav").is_file():
            calls.append((ref, p.with_suffix(".wav")))
    calls = calls[: args.limit] if args.limit else calls
    modes = args.modes.split(",")
    print(f"{len(calls)} calls from {args.calls}; modes {modes}", file=sys.stderr)
    t = load_transcriber()
    agent_words = vocabulary(rules, "agent")
    pipe = CallPipeline(PipelineConfig(rules=str(ROOT / "rules")))
    pipe._transcriber = t
    rows = []
    for mode in modes:
        t.options["hotwords"] = {"agent": agent_words} if mode in ("hotwords", "relisten") else None
        stats = {"said": 0, "found": 0, "missing": 0, "heard": 0, "rate_fa": 0, "rate_ref": 0, "rate_tp": 0, "fast": 0, "heard_script": 0,
                 "err": 0.0, "chars": 0, "asr_s": 0.0, "relisten_s": 0.0, "audio_s": 0.0}
        for ref, wav in calls:
            audio = decode_audio(wav)
            x = _gate_bleed(_distinct_channels(_to_16k(audio)))[0]
            t0 = time.perf_counter()
            segments, speech = t._recognize_speech(x, t.prompt_for("agent"))
            agent = t._utterances(segments, speech, 0, "agent", {"dropped": [], "trimmed": []})
            stats["asr_s"] += time.perf_counter() - t0
            stats["audio_s"] += audio.duration
            heard = copy.deepcopy(ref)
            heard.utterances = sorted(agent + [u for u in ref.utterances if u.role != "agent"],
                                      key=lambda u: (u.start or 0.0, u.channel or 0))
            heard.audio = audio.info
            found = {f.rule for f in inspect(heard, required).findings}
            if mode in ("relisten", "plain+relisten") and found & set(RULES):
                t0 = time.perf_counter()
                ins = inspect(heard, required)
                patched, _ = pipe.relisten(heard, audio, ins)
                stats["relisten_s"] += time.perf_counter() - t0
                found = {f.rule for f in inspect(patched, required).findings}
            truth = "".join(u.text for u in ref.utterances if u.role == "agent")
            stats["err"] += cer(truth, "".join(u.text for u in agent)) * len(truth)
            stats["chars"] += len(truth)
            fast = bool(ref.meta.get("fast_turns"))
            stats["fast"] += fast
            stats["rate_tp"] += fast and "RATE01" in found
            stats["rate_fa"] += not fast and "RATE01" in found
            stats["rate_ref"] += not fast and bool(inspect(ref, rules.only("RATE01")).findings)
            decisions = {}
            on_script = {f.rule for f in inspect(ref, required).findings}
            for code, exp in ref.meta["expected"].items():
                if code not in RULES:
                    continue
                passed = code not in found
                decisions[code] = (exp, "heard" if passed else "not heard")
                if exp == "said":
                    stats["said"] += 1
                    stats["found"] += passed
                else:
                    stats["missing"] += 1
                    stats["heard"] += passed
                    stats["heard_script"] += code not in on_script
            rows.append({"mode": mode, "call": ref.call_id, "decisions": decisions, "rate01": "RATE01" in found,
                         "agent_text": "".join(u.text for u in agent)})
            print(mode, ref.call_id, decisions, file=sys.stderr, flush=True)
        s = stats
        print(f"| {mode} | {len(calls)} | {s['found']}/{s['said']} = {s['found'] / max(s['said'], 1):.3f} "
              f"| {s['heard']}/{s['missing']} (on the true script: {s['heard_script']}) | {s['err'] / max(s['chars'], 1):.3f} | {s['rate_fa']}/{len(calls) - s['fast']} (true script: {s['rate_ref']}); fired on {s['rate_tp']}/{s['fast']} fast "
              f"| {s['asr_s']:.1f} | {s['relisten_s']:.1f} | {s['audio_s']:.0f} |", flush=True)
    print("| mode | calls | found-rate (said) | false-heard (missing; the rules on the true script) | agent CER | RATE01 false alarms (normal-pace calls); fired on calls with a fast line | ASR s | re-listen s | audio s |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
