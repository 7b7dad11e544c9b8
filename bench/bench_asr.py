"""Benchmark the ASR stage: CER, real-time factor, peak memory, and the cost of silence.

    python bench/bench_asr.py                 # plain faster-whisper and qc 16k + 8k, openai-whisper 16k
    python bench/bench_asr.py --backends plain,faster-whisper --limit 5

"plain" is faster-whisper itself on the same weights (beam 5, no VAD, no qc post-processing), run
in the same bench so qc's own steps (VAD, guard, t2s) are judged against it on the same machine.
CER uses ../shared/data/speech_zh/manifest.tsv (rows with a reference). "exact" = human-written
references: the corpus's own transcripts (AISHELL, WenetSpeech) and the TTS repos' prompt texts;
"all" adds ASR goldens from repo docs and unverified toy labels.
Texts are normalised (OpenCC t2s, punctuation and spaces removed) before CER. The 8 kHz column is
a telephone round trip: 300-3400 Hz band-pass, 8 kHz, G.711 μ-law, then back to 16 kHz.
Each backend runs in its own process so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SPEECH = ROOT.parent / "shared" / "data" / "speech_zh"
sys.path.insert(0, str(ROOT))


def telephone(x16: np.ndarray) -> np.ndarray:
    """16 kHz -> 300-3400 Hz, 8 kHz, μ-law 8 bit -> back to 16 kHz."""
    from scipy.signal import butter, resample_poly, sosfilt

    sos = butter(4, [300, 3400], btype="band", fs=16000, output="sos")
    x8 = resample_poly(sosfilt(sos, x16), 1, 2)
    mu = 255.0
    y = np.sign(x8) * np.log1p(mu * np.clip(np.abs(x8), 0, 1)) / np.log1p(mu)
    y = np.round(y * 127) / 127  # 8-bit code words
    x8 = np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu
    return resample_poly(x8, 2, 1).astype(np.float32)


def manifest(limit: int | None) -> list[dict]:
    rows = []
    with open(SPEECH / "manifest.tsv", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["reference_transcript"].strip():
                r["exact"] = r["reference_type"].startswith(("corpus_reference", "prompt_text"))
                rows.append(r)
    return rows[:limit] if limit else rows


class Plain:
    """faster-whisper as its users call it: same weights, beam, language; no VAD, no qc steps."""

    def __init__(self, beam: int):
        from qc.asr import load_transcriber

        self.beam = beam
        self.model = load_transcriber("faster-whisper")._whisper()

    def recognize(self, x: np.ndarray) -> None:
        list(self.model.transcribe(x, language="zh", beam_size=self.beam)[0])

    def text(self, x: np.ndarray) -> str:
        from qc.normalize import to_simplified

        segments, _ = self.model.transcribe(x, language="zh", beam_size=self.beam)
        return to_simplified("".join(s.text for s in segments))


def worker(backend: str, rates: list[str], limit: int | None, beam: int) -> dict:
    from qc.asr import load_transcriber
    from qc.asr.metrics import cer
    from qc.ingest import DecodedAudio, decode_audio

    t = Plain(beam) if backend == "plain" else load_transcriber(backend, beam_size=beam)
    t0 = time.perf_counter()
    t.recognize(np.zeros(16000, np.float32) + 1e-4)  # load the model outside the timing
    load_s = time.perf_counter() - t0
    out: dict = {"backend": backend, "load_s": round(load_s, 1), "rates": {}}
    for rate in rates:
        audio_s = busy_s = 0.0
        per_file = []
        for r in manifest(limit):
            a = decode_audio(SPEECH / r["file"])
            x = a.samples.mean(axis=0).astype(np.float32)
            if rate == "8k":
                x = telephone(x)
            t1 = time.perf_counter()
            if isinstance(t, Plain):
                hyp = t.text(x)
            else:
                tr = t.transcribe(DecodedAudio(x[None], 16000, a.info), call_id=r["file"])
                hyp = "".join(u.text for u in tr.utterances)
            busy_s += time.perf_counter() - t1
            audio_s += a.duration
            per_file.append({"file": r["file"], "exact": r["exact"], "cer": cer(r["reference_transcript"], hyp),
                             "ref_len": len(r["reference_transcript"]), "hyp": hyp})
        out["rates"][rate] = {"audio_s": audio_s, "busy_s": busy_s, "files": per_file}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def silence_cost(beam: int) -> dict:
    """A 60 s stereo call with 8.5 s of speech vs the same speech alone."""
    from qc.asr import load_transcriber
    from qc.ingest import AudioInfo, DecodedAudio, decode_audio

    t = load_transcriber("faster-whisper", beam_size=beam)
    t.recognize(np.zeros(16000, np.float32) + 1e-4)
    a = decode_audio(SPEECH / "with_reference/aishell1_BAC009S0764W0121.wav").samples[0]
    b = decode_audio(SPEECH / "with_reference/aishell1_BAC009S0724W0121.wav").samples[0]
    call = np.zeros((2, 16000 * 60), np.float32)
    call[0, 16000: 16000 + len(a)] = a
    call[1, 16000 * 40: 16000 * 40 + len(b)] = b
    info = AudioInfo("synthetic", "0" * 64, 60.0, 16000, 2)

    def timed(samples: np.ndarray) -> tuple[float, float]:
        """Best of 3: (CPU seconds of this process, wall seconds); CPU time is what a shared
        machine's load does not blur."""
        best = (1e9, 1e9)
        for _ in range(3):
            t0, c0 = time.perf_counter(), time.process_time()
            t.transcribe(DecodedAudio(samples, 16000, info), call_id="x")
            best = min(best, (time.process_time() - c0, time.perf_counter() - t0))
        return best

    sa, sb, whole = timed(a[None]), timed(b[None]), timed(call)
    return {"call_s": 60.0, "speech_s": (len(a) + len(b)) / 16000, "speech_only_s": sa[1] + sb[1], "call_cost_s": whole[1],
            "speech_only_cpu_s": sa[0] + sb[0], "call_cpu_s": whole[0]}


def summarise(res: dict) -> list[str]:
    lines = []
    for rate, r in res["rates"].items():
        def agg(files):
            # corpus-level CER: total errors / total reference characters
            n = sum(f["ref_len"] for f in files) or 1
            return sum(f["cer"] * f["ref_len"] for f in files) / n

        exact = [f for f in r["files"] if f["exact"]]
        lines.append(
            f"| {res['backend']} | {rate} | {len(exact)}/{len(r['files'])} | {agg(exact):.3f} | {agg(r['files']):.3f} "
            f"| {r['busy_s'] / r['audio_s']:.3f} | {res['peak_rss_mb']:.0f} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="plain,faster-whisper,openai-whisper",
                    help="plain = faster-whisper without qc (no VAD), the baseline")
    ap.add_argument("--limit", type=int, default=None, help="only the first N manifest rows")
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--openai-8k", action="store_true", help="also run openai-whisper on 8 kHz (slow)")
    ap.add_argument("--no-silence", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--rates", default="16k,8k", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write all results here")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rates.split(","), args.limit, args.beam)))
        return
    results = []
    for backend in args.backends.split(","):
        rates = "16k,8k" if backend in ("plain", "faster-whisper") or args.openai_8k else "16k"
        cmd = [sys.executable, __file__, "--worker", backend, "--rates", rates, "--beam", str(args.beam)]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        print(f"running {backend} ({rates}) ...", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{backend} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"\nASR benchmark (beam {args.beam}, Whisper base weights, CPU; provisional on a shared machine)\n"
          "plain = faster-whisper without VAD or any qc step, same weights and beam\n")
    print("| backend | audio | exact files/all | CER exact | CER all | RTF | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print("\n".join(summarise(r)))
    rtf = {r["backend"]: r["rates"]["16k"]["busy_s"] / r["rates"]["16k"]["audio_s"] for r in results}
    if "openai-whisper" in rtf and "faster-whisper" in rtf:
        print(f"\nspeed-up of faster-whisper int8 over openai-whisper: {rtf['openai-whisper'] / rtf['faster-whisper']:.1f}x")
    if not args.no_silence:
        s = silence_cost(args.beam)
        print(f"\nstereo call {s['call_s']:.0f} s with {s['speech_s']:.1f} s of speech: {s['call_cost_s']:.2f} s "
              f"to transcribe; the same speech alone: {s['speech_only_s']:.2f} s "
              f"(ratio {s['call_cost_s'] / s['speech_only_s']:.2f}); CPU time {s['call_cpu_s']:.2f} s vs "
              f"{s['speech_only_cpu_s']:.2f} s (ratio {s['call_cpu_s'] / s['speech_only_cpu_s']:.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
