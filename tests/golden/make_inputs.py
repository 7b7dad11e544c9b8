"""Writes the golden cases: tests/golden/transcripts/*.json (transcripts, the goldens' input) and
tests/golden/input/*.json (hand-built inspections and emotions for the scoring and report unit tests).

Run once by hand when the cases change (python tests/golden/make_inputs.py); the files are
committed. The golden outputs (tests/golden/expected) are what the real stages make of the
transcripts; regenerate them with QC_REGEN_GOLDEN=1 pytest tests/test_golden.py.
"""
import json
from pathlib import Path

HERE = Path(__file__).parent / "input"
TRANSCRIPTS = Path(__file__).parent / "transcripts"


def utt(role, text, start, end, conf=0.95):
    return {"role": role, "text": text, "start": start, "end": end, "confidence": conf, "channel": 0 if role == "agent" else 1, "words": []}


def ev(i, u):
    return {"utterance": i, "role": u["role"], "start": u["start"], "end": u["end"], "text": u["text"], "span": None}


def finding(cid, rule, name, cat, sev, msg, evs, kind="violation", needs_review=False):
    return {"call_id": cid, "rule": rule, "name": name, "category": cat, "severity": sev, "message": msg,
            "evidence": evs, "kind": kind, "confidence": 0.5 if needs_review else 1.0, "needs_review": needs_review}


def emo(cid, peak=0.1, mean=0.05, traj="stable", delta=0.0, angry=False, temper=False, risks=(), complaint=None, drivers=(),
        dissatisfied=0.08, unresolved=0.12, why=None):
    return {"dissatisfied": dissatisfied, "unresolved": unresolved, "outcome_evidence": list(drivers if why is None else why),
            "call_id": cid, "utterances": [], "customer_peak": peak, "customer_mean": mean, "agent_peak": 0.1, "agent_mean": 0.05,
            "trajectory": traj, "trajectory_delta": delta, "volatility": 0.1, "customer_angry": angry, "agent_lost_temper": temper,
            "drivers": list(drivers), "complaint": complaint, "risks": list(risks)}


ALL = ["OPEN01", "CLOSE01", "FORBID01", "ID01", "EMPATHY01", "KNOW01", "EMO01", "RISK01"]


def call(cid, agent, team, start, customer, queue, utts, findings, emotion, checked=ALL, na=None, audio=None):
    t = {"call_id": cid, "agent_id": agent, "utterances": utts, "audio": audio, "asr": None, "roles_inferred": False,
         "meta": {"team": team, "started_at": start, "customer_id": customer, "queue": queue}}
    return {"transcript": t, "inspection": {"call_id": cid, "findings": findings, "checked": list(checked), "not_applicable": na or {}},
            "emotion": emotion}


cases = []
# G01 clean call
u = [utt("agent", "您好，工号一零二四为您服务，请问有什么可以帮您？", 0.8, 5.0), utt("customer", "我想查一下话费。", 5.5, 7.0),
     utt("agent", "好的，请问您是机主本人吗？", 7.5, 9.0), utt("customer", "是的。", 9.5, 10.0),
     utt("agent", "已经帮您查好了，还有其他可以帮您的吗？感谢来电，再见。", 10.5, 15.0)]
cases.append(call("G01", "A101", "一组", "2024-05-20T09:00:00+08:00", "K1", "账单查询", u, [], emo("G01")))
# G02 fatal: forbidden words, customer angry, worsened, complaint 高度紧急
u = [utt("agent", "喂，说。", 0.5, 1.5), utt("customer", "你们这个宽带又断了，太差了！", 2.0, 5.0),
     utt("agent", "你自己不会重启吗？烦不烦。", 5.5, 8.0), utt("customer", "什么态度！我要投诉你！", 8.5, 11.0)]
cases.append(call("G02", "A201", "二组", "2024-05-20T10:00:00+08:00", "K2", "宽带故障", u, [
    finding("G02", "OPEN01", "opening.greeting", "服务规范", "major", "开场未使用标准问候语", [ev(0, u[0])]),
    finding("G02", "FORBID01", "forbidden.words", "服务规范", "critical", "使用服务禁语", [ev(2, u[2])]),
    finding("G02", "EMPATHY01", "empathy.apology", "沟通技巧", "major", "客户不满时未致歉安抚", [ev(1, u[1])]),
    finding("G02", "CLOSE01", "closing.farewell", "服务规范", "major", "未使用结束语", [ev(3, u[3])]),
], emo("G02", peak=0.92, mean=0.7, traj="worsened", delta=0.4, angry=True, drivers=[ev(3, u[3])], dissatisfied=0.93, unresolved=0.81,
       complaint={"type": "service", "priority": "高度紧急", "evidence": [ev(3, u[3])]})))
# G03 needs_review hit on a fatal rule (low ASR confidence) + personal numbers + html in text
u = [utt("agent", "您好，很高兴为您服务。", 0.5, 2.0), utt("customer", "我手机号13812345678，身份证110101199003071234。", 2.5, 8.0),
     utt("agent", "<b>好的</b> 您的卡号6222 0212 3456 7890 123我记下了，你烦不烦", 8.5, 13.0, conf=0.42),
     utt("customer", "我的电话是幺三九 一二三四 五六七八。", 13.5, 16.0), utt("agent", "感谢来电，再见。", 16.5, 18.0)]
cases.append(call("G03", "A101", "一组", "2024-05-20T11:00:00+08:00", "K3", "账单查询", u, [
    finding("G03", "FORBID01", "forbidden.words", "服务规范", "critical", "疑似服务禁语", [ev(2, u[2])], needs_review=True),
    finding("G03", "ID01", "identity.verify", "流程执行", "critical", "办理业务前未核实身份", [ev(1, u[1])]),
], emo("G03", peak=0.2, mean=0.1)))
# G04 capped deductions: KNOW01 hit four times (5 each, cap 15); N/A item EMO01 (audio-only)
u = [utt("agent", "您好，请问有什么可以帮您？", 0.5, 2.0)] + [utt("agent", f"这个套餐我也不太清楚第{i}项。", 3.0 + 3 * i, 5.0 + 3 * i) for i in range(4)] + [
    utt("agent", "感谢来电，再见。", 20.0, 22.0)]
cases.append(call("G04", "A102", "一组", "2024-05-20T12:00:00+08:00", "K4", "套餐变更", u, [
    finding("G04", "KNOW01", "knowledge.unsure", "业务知识", "major", "业务解答含糊", [ev(i + 1, u[i + 1])]) for i in range(4)
], emo("G04", peak=0.35, mean=0.2), checked=[c for c in ALL if c != "EMO01"], na={"EMO01": "audio-only check on a text transcript"}))
# G05 risk flag (media) + complaint 紧急危机, no deductions
u = [utt("agent", "您好，请问有什么可以帮您？", 0.5, 2.0), utt("customer", "再不解决我就找媒体曝光，还要打12315！", 2.5, 6.0),
     utt("agent", "非常抱歉给您带来不便，我马上为您升级处理。感谢来电，再见。", 6.5, 10.0)]
cases.append(call("G05", "A202", "二组", "2024-05-20T13:00:00+08:00", "K5", "投诉", u, [
    finding("G05", "RISK01", "risk.media", "风险", "critical", "客户提及媒体曝光", [ev(1, u[1])], kind="risk"),
], emo("G05", peak=0.8, mean=0.5, traj="recovered", delta=-0.2, dissatisfied=0.86, unresolved=0.64, why=[ev(1, u[1])], risks=[{"kind": "media", "evidence": ev(1, u[1])}, {"kind": "regulator", "evidence": ev(1, u[1])}],
       complaint={"type": "service", "priority": "紧急危机", "evidence": [ev(1, u[1])]})))
# G06 repeat of G04's customer, same matter, minor issue; complaint again
u = [utt("agent", "您好。", 0.5, 1.0), utt("customer", "上周套餐变更还没生效，我要投诉！", 1.5, 4.0), utt("agent", "我帮您查一下。", 4.5, 6.0)]
cases.append(call("G06", "A201", "二组", "2024-05-20T16:00:00+08:00", "K4", "套餐变更", u, [
    finding("G06", "OPEN01", "opening.greeting", "服务规范", "major", "开场白不完整", [ev(0, u[0])]),
    finding("G06", "CLOSE01", "closing.farewell", "服务规范", "major", "未使用结束语", [ev(2, u[2])]),
], emo("G06", peak=0.6, mean=0.4, traj="stable", dissatisfied=0.57, unresolved=0.44, why=[ev(1, u[1])], complaint={"type": "process", "priority": "重要非紧急", "evidence": [ev(1, u[1])]})))
# G07..G10 clean calls for the calibration sample
for k, (agent, team) in enumerate([("A101", "一组"), ("A102", "一组"), ("A202", "二组"), ("A202", "二组")], start=7):
    u = [utt("agent", "您好，请问有什么可以帮您？", 0.5, 2.0), utt("customer", "查积分。", 2.5, 3.5), utt("agent", "您有两千积分。感谢来电，再见。", 4.0, 7.0)]
    cases.append(call(f"G{k:02d}", agent, team, f"2024-05-20T{10 + k}:00:00+08:00", f"K{k}", "积分兑换", u, [], emo(f"G{k:02d}")))

HERE.mkdir(parents=True, exist_ok=True)
TRANSCRIPTS.mkdir(parents=True, exist_ok=True)
for c in cases:
    cid = c["transcript"]["call_id"]
    (TRANSCRIPTS / f"{cid}.json").write_text(json.dumps(c["transcript"], ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    hand = {"inspection": c["inspection"], "emotion": c["emotion"]}
    (HERE / f"{cid}.json").write_text(json.dumps(hand, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
print(len(cases), "cases")
