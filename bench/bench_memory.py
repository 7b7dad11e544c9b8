"""Peak memory of one long recording: decode only, and the whole call pipeline.

    python bench/bench_memory.py                         # 1 h and 2 h decode; 2.5 h refused
    python bench/bench_memory.py --hours --pipeline 2    # the whole pipeline on a 2 h call
    python bench/bench_memory.py --root ../main ...      # the same, with another checkout's qc

Each measurement runs in a fresh process and prints its peak resident memory (ru_maxrss) and
its time. The recordings are stereo 8 kHz 16-bit wavs (the contact-centre format) written as
sparse files, so they cost no disk: digital silence, and for ``--pipeline`` the sample calls
(``--calls`` of them, samples/C001... in turn) spread evenly over the recording, so the VAD
reads the whole 2 h and Whisper, the rules, re-listening and the voice features run on real
speech (with 12 calls a channel has more than 5 min of speech: it is recognised in groups).
Decoding keeps the wav as int16 at 8 kHz (220 MiB for 2 h stereo); ``decode16k`` is the
float32 16 kHz decode the library still offers. The default ``--max-duration`` is 2 h: longer
files are refused from the header before decoding.
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import inspect, resource, sys, time
sys.path.insert(0, {root!r})
mode, path = sys.argv[1], sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if mode.startswith("decode"):
    from qc.ingest import AudioError, decode_audio
    compact = mode == "decode" and "sample_rate: int | None" in inspect.getsource(decode_audio)
    try:
        a = decode_audio(path, **({{"sample_rate": None}} if compact else {{}}))
        what = (f"decoded {{a.duration / 3600:.2f}} h, samples {{a.samples.nbytes / 2**20:.0f}} MiB "
                f"({{a.samples.dtype}}, {{a.sample_rate}} Hz)")
    except AudioError as e:
        what = "refused: " + str(e).split(": ", 1)[1][:80]
else:
    from qc.run.pipeline import CallJob, CallPipeline, PipelineConfig
    p = CallPipeline(PipelineConfig(rules={rules!r}, cache_dir=sys.argv[3]))
    o = p.run(CallJob(call_id="long", source=path))
    n = len(((o.result or {{}}).get("transcript") or {{}}).get("utterances") or [])
    what = f"pipeline {{o.status}} {{(o.error or '')[:80]}}, {{n}} utterances"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{{what}}; peak {{peak / 1024:.0f}} MiB (interpreter at start {{base / 1024:.0f}} MiB); {{time.perf_counter() - t:.1f}} s")
"""


def long_wav(path: Path, hours: float, calls: int = 0, rate: int = 8000, channels: int = 2) -> Path:
    """A sparse stereo 8 kHz wav of ``hours``: silence, with ``calls`` sample calls spread over it."""
    n = int(hours * 3600 * rate) * channels * 2
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + n) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16))
        f.write(b"data" + struct.pack("<I", n))
        f.truncate(44 + n)
        if calls:
            import numpy as np

            sys.path.insert(0, str(ROOT))
            from qc.ingest import decode_audio

            samples = sorted((ROOT / "samples").glob("C*.wav"))
            step = n // (2 * channels) // calls
            for i in range(calls):
                x = decode_audio(samples[i % len(samples)], sample_rate=rate).samples
                pcm = np.clip(np.round(x.T * 32767), -32768, 32767).astype("<i2").tobytes()
                f.seek(44 + i * step * 2 * channels)
                f.write(pcm[: n - i * step * 2 * channels])
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, nargs="*", default=[1.0, 2.0, 2.5], help="recording lengths to decode")
    ap.add_argument("--decode16k", type=float, nargs="*", default=[], help="lengths to decode as float32 at 16 kHz")
    ap.add_argument("--pipeline", type=float, nargs="*", default=[], help="lengths to run through the whole pipeline")
    ap.add_argument("--calls", type=int, default=12, help="sample calls spread over a --pipeline recording")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose qc is measured")
    args = ap.parse_args()
    root = args.root.resolve()
    code = CHILD.format(root=str(root), rules=str(ROOT / "rules"))
    with tempfile.TemporaryDirectory() as tmp:
        for mode, lengths in (("decode", args.hours), ("decode16k", args.decode16k), ("pipeline", args.pipeline)):
            for h in lengths:
                wav = long_wav(Path(tmp) / f"{h}h.wav", h, args.calls if mode == "pipeline" else 0)
                env = {**os.environ, "PYTHONPATH": str(root)}
                out = subprocess.run([sys.executable, "-c", code, mode, str(wav), str(Path(tmp) / "cache")],
                                     capture_output=True, text=True, env=env)
                line = out.stdout.strip() or out.stderr.strip().splitlines()[-1]
                extra = f", {args.calls} calls in it" if mode == "pipeline" else ""
                print(f"{mode:9} {h:g} h stereo 8 kHz{extra}: {line}", flush=True)
                wav.unlink()


if __name__ == "__main__":
    main()
