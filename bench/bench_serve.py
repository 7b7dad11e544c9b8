"""Time the workbench over a night of N scored calls (default 10,000): python bench/bench_serve.py [N] [--keep DIR].

``--keep DIR`` keeps the built night in DIR, and a later run with the same DIR reuses it.

Builds the night from the seven sample calls (scored from their true scripts) cloned N times with
their own ids, agents and teams (about 12 KB of JSON per call), stores it in a history database
with 1 in 4 calls already reviewed, then runs ``qc serve`` in its own process on localhost and
times, with a logged-in session over HTTP:

- the queue page (first page, then filtered by team, by rule and by status),
- call pages of random calls (mostly not cached: each reads its call file),
- audio seeks: a Range request for the 64 KB at a finding's evidence second.

Prints p50 / p95 / max in milliseconds. Targets: pages p95 < 200 ms, seek p95 < 300 ms.
"""

from __future__ import annotations

import copy
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from qc.run.store import save_call_result  # noqa: E402
from qc.serve.store import ReviewStore  # noqa: E402
from qc.types import to_dict  # noqa: E402


def build(n: int, tmp: Path) -> tuple[Path, Path, list[tuple[str, float]]]:
    from serve_live import free_port  # noqa: F401  (imported here to fail early without the tests folder)
    from serve_night import make_sample_night

    from qc.report import write_reports
    from qc.run.store import load_call_results

    base_dir, db = make_sample_night(tmp / "base")
    base = load_call_results(base_dir)
    night = tmp / "night"
    (night / "audio").mkdir(parents=True)
    for r in base:
        shutil.copyfile(r.transcript.audio.path, night / "audio" / f"{r.call_id}.wav")
    rng = random.Random(0)
    results = []
    seeks: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    for i in range(n):
        src = base[i % len(base)]
        r = copy.deepcopy(src)
        cid = f"N{i:06d}"
        r.transcript.call_id = r.inspection.call_id = r.score.call_id = cid
        r.transcript.agent_id = r.score.agent_id = f"A{rng.randrange(200):03d}"
        r.transcript.meta = {**r.transcript.meta, "team": f"T{rng.randrange(12):02d}", "customer_id": f"K{rng.randrange(n)}"}
        r.transcript.audio.path = str(night / "audio" / f"{src.call_id}.wav")
        for f in r.inspection.findings:
            f.call_id = cid
            if f.evidence and f.evidence[0].start is not None and len(seeks) < 2000:
                seeks.append((cid, f.evidence[0].start))
        if r.emotion:
            r.emotion.call_id = cid
        save_call_result(r, night)
        results.append(r)
    print(f"wrote {n} call files in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    write_reports(results, night, night="2024-06-01", db=db, call_pages=False)
    print(f"night report and history for {n} calls in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    with ReviewStore(db) as store:
        store.add_user("bench", "admin", "bench-password")
        for r in results[::4]:
            verdicts = {f.rule: (rng.choice(["confirmed", "false_positive", "unsure"]), "") for f in r.inspection.findings}
            store.add_review("2024-06-01", r.call_id, "bench", agent_id=r.transcript.agent_id, team=r.transcript.meta["team"],
                             machine_score=r.score.score, score=to_dict(r.score), verdicts=verdicts)
    print(f"{len(results[::4])} reviews stored in {time.perf_counter() - t0:.1f} s", flush=True)
    return night, db, seeks


def reuse(tmp: Path) -> tuple[Path, Path, list[tuple[str, float]]]:
    from qc.run.store import iter_call_results

    seeks = []
    for r in iter_call_results(tmp / "night"):
        for f in r.inspection.findings:
            if f.evidence and f.evidence[0].start is not None and len(seeks) < 2000:
                seeks.append((r.call_id, f.evidence[0].start))
        if len(seeks) >= 2000:
            break
    print(f"reusing the night in {tmp}", flush=True)
    return tmp / "night", tmp / "base" / "history.sqlite", seeks


def pct(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return f"p50 {statistics.median(values):6.1f} ms  p95 {p95:6.1f} ms  max {values[-1]:6.1f} ms  (n={len(values)})"


def main() -> None:
    import httpx
    from serve_live import free_port

    n = int(next((a for a in sys.argv[1:] if a.isdigit()), 10000))
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    tmp = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bench_serve_"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        if keep and (tmp / "night" / "night.json").exists():  # a night kept by an earlier --keep run
            night, db, seeks = reuse(tmp)
        else:
            night, db, seeks = build(n, tmp)
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QC_CACHE_DIR": str(tmp / "cache")}
        t0 = time.perf_counter()
        server = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", str(night), "--db", str(db), "--port", str(port)],
                                  env=env, cwd=str(ROOT))
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=30) as c:
                while True:
                    try:
                        c.get("/login")
                        break
                    except httpx.TransportError:
                        if server.poll() is not None or time.perf_counter() - t0 > 120:
                            raise SystemExit("qc serve did not start")
                        time.sleep(0.2)
                print(f"qc serve started and loaded {n} calls in {time.perf_counter() - t0:.1f} s", flush=True)
                token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
                c.post("/login", data={"name": "bench", "password": "bench-password", "csrf": token})

                def timed(url: str, **kw) -> float:
                    t = time.perf_counter()
                    r = c.get(url, **kw)
                    ms = 1000 * (time.perf_counter() - t)
                    assert r.status_code in (200, 206), (url, r.status_code)
                    return ms

                timed("/queue")  # warm up
                rng = random.Random(1)
                queue = [timed("/queue") for _ in range(30)]
                queue += [timed(f"/queue?team=T{rng.randrange(12):02d}") for _ in range(15)]
                queue += [timed("/queue?rule=FORB01") for _ in range(10)] + [timed("/queue?status=reviewed") for _ in range(10)]
                queue += [timed(f"/queue?page={rng.randrange(2, 30)}") for _ in range(10)]
                calls = [timed(f"/call/2024-06-01/N{rng.randrange(n):06d}") for _ in range(100)]
                bytes_per_second = 8000 * 2  # 8 kHz stereo 8-bit mu-law
                seek_ms = []
                for cid, second in rng.sample(seeks, min(100, len(seeks))):
                    start = 44 + int(second * bytes_per_second)
                    seek_ms.append(timed(f"/call/2024-06-01/{cid}/audio", headers={"Range": f"bytes={start}-{start + 65535}"}))
                print(f"queue page ({n} calls):  {pct(queue)}")
                print(f"call page:               {pct(calls)}")
                print(f"audio seek (Range 64KB): {pct(seek_ms)}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
