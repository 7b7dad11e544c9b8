"""The Ray engine on a local Ray instance gives exactly the local engine's results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("ray")

from qc.run.night import score_night  # noqa: E402

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "samples" / "reference"


def results_json(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "calls").glob("*.json"))}


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, logging_level="ERROR")
    yield ray
    ray.shutdown()


def test_ray_engine_matches_local_engine(local_ray, tmp_path):
    inputs = [REFERENCE / "C003.json", REFERENCE / "C004.json", REFERENCE / "C006.json"]
    kw = dict(meta=ROOT / "samples" / "calls.csv", rules=ROOT / "rules", report=False)
    local = score_night(inputs, tmp_path / "local", cache_dir=tmp_path / "c1", **kw)
    on_ray = score_night(inputs, tmp_path / "ray", engine="ray", workers=2, cache_dir=tmp_path / "c2", **kw)
    assert on_ray.exit_code == local.exit_code == 0
    assert on_ray.count("scored") == 3
    ray_results = results_json(tmp_path / "ray")
    assert ray_results == results_json(tmp_path / "local")
    assert {f["rule"] for f in ray_results["C003"]["inspection"]["findings"]} >= {"FORB01"}
    # resuming works the same way on Ray
    again = score_night(inputs, tmp_path / "ray", engine="ray", workers=2, cache_dir=tmp_path / "c2", **kw)
    assert again.count("resumed") == 3


def test_ray_engine_reports_a_bad_file_and_scores_the_rest(local_ray, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    summary = score_night([REFERENCE / "C001.json", bad], tmp_path / "out", engine="ray", workers=2,
                          rules=ROOT / "rules", report=False, cache_dir=tmp_path / "c")
    assert summary.exit_code == 1
    assert [c.call_id for c in summary.calls if c.status == "scored"] == ["C001"]
    assert summary.failed[0].error.startswith(str(bad))
