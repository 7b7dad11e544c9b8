"""Peak memory of one long recording: decode only, and the whole call pipeline.

    python bench/bench_memory.py                     # 1 h and 2 h decode; 2.5 h refused
    python bench/bench_memory.py --pipeline 2        # also the whole pipeline on a 2 h call

Each measurement runs in a fresh process and prints its peak resident memory (ru_maxrss). The
recordings are silent stereo 8 kHz 16-bit wavs (the contact-centre format) written as sparse
files, so they cost no disk. The default ``--max-duration`` is 2 h: longer files are refused
from the header before decoding.
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
import resource, sys, time
sys.path.insert(0, {root!r})
mode, path = sys.argv[1], sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if mode == "decode":
    from qc.ingest import AudioError, decode_audio
    try:
        a = decode_audio(path)
        what = f"decoded {{a.duration / 3600:.2f}} h, samples {{a.samples.nbytes / 2**20:.0f}} MiB"
    except AudioError as e:
        what = "refused: " + str(e).split(": ", 1)[1][:80]
else:
    from qc.run.pipeline import CallJob, CallPipeline, PipelineConfig
    p = CallPipeline(PipelineConfig(rules={rules!r}, cache_dir=sys.argv[3]))
    o = p.run(CallJob(call_id="long", source=path))
    what = f"pipeline {{o.status}} {{(o.error or '')[:80]}}"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{{what}}; peak {{peak / 1024:.0f}} MiB (interpreter at start {{base / 1024:.0f}} MiB); {{time.perf_counter() - t:.1f}} s")
"""


def silent_wav(path: Path, hours: float, rate: int = 8000, channels: int = 2) -> Path:
    n = int(hours * 3600 * rate) * channels * 2
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + n) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16))
        f.write(b"data" + struct.pack("<I", n))
        f.truncate(44 + n)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, nargs="*", default=[1.0, 2.0, 2.5], help="recording lengths to decode")
    ap.add_argument("--pipeline", type=float, nargs="*", default=[], help="lengths to run through the whole pipeline")
    args = ap.parse_args()
    code = CHILD.format(root=str(ROOT), rules=str(ROOT / "rules"))
    with tempfile.TemporaryDirectory() as tmp:
        for mode, lengths in (("decode", args.hours), ("pipeline", args.pipeline)):
            for h in lengths:
                wav = silent_wav(Path(tmp) / f"{h}h.wav", h)
                env = {**os.environ, "PYTHONPATH": str(ROOT)}
                out = subprocess.run([sys.executable, "-c", code, mode, str(wav), str(Path(tmp) / "cache")],
                                     capture_output=True, text=True, env=env)
                line = out.stdout.strip() or out.stderr.strip().splitlines()[-1]
                print(f"{mode:8} {h:g} h stereo 8 kHz: {line}", flush=True)
                wav.unlink()


if __name__ == "__main__":
    main()
