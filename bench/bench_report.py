"""Time report generation for N synthetic calls (default 10,000): python bench/bench_report.py [N] [--no-call-pages]."""
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from qc.report import write_reports  # noqa: E402
from qc.scoring import score_call  # noqa: E402
from scoring_cases import load_cases  # noqa: E402
from qc.scoring import load_scorecard  # noqa: E402
from scoring_cases import GOLDEN  # noqa: E402
import copy  # noqa: E402


def main() -> None:
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), 10000))
    pages = "--no-call-pages" not in sys.argv
    base = load_cases()
    card = load_scorecard(GOLDEN / "scorecard.yaml")
    rng = random.Random(0)
    results = []
    t0 = time.perf_counter()
    for i in range(n):
        r = copy.deepcopy(base[i % len(base)])
        cid = f"N{i:06d}"
        r.transcript.call_id = r.inspection.call_id = cid
        r.transcript.agent_id = f"A{rng.randrange(200):03d}"
        r.transcript.meta = {**r.transcript.meta, "team": f"T{rng.randrange(12):02d}", "customer_id": f"K{rng.randrange(n)}"}
        for f in r.inspection.findings:
            f.call_id = cid
        if r.emotion:
            r.emotion.call_id = cid
        r.score = score_call(r.transcript, r.inspection, r.emotion, card)
        results.append(r)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_reports(results, Path(tmp) / "out", night="2024-05-20", db=Path(tmp) / "h.sqlite", call_pages=pages)
        t2 = time.perf_counter()
        size = sum(p.stat().st_size for p in (Path(tmp) / "out").rglob("*") if p.is_file())
    print(f"calls={n} call_pages={pages} scoring={t1 - t0:.2f}s report={t2 - t1:.2f}s ({1000 * (t2 - t1) / n:.2f} ms/call) output={size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
