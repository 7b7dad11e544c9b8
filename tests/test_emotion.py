"""Emotion and risk: the lines that fooled snownlp, cues, risks, complaints, trajectory, volatility."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qc.emotion import analyze_call, score_text, score_utterances
from qc.types import Transcript, Utterance

ROOT = Path(__file__).resolve().parents[1]


def call(*turns: tuple[str, str], call_id: str = "T1") -> Transcript:
    """A timed transcript from (role, text) pairs, 4 s per turn."""
    return Transcript(call_id=call_id, utterances=[
        Utterance(role=r, text=t, start=4.0 * i, end=4.0 * i + 3.5) for i, (r, t) in enumerate(turns)
    ])


POLITE = [
    "您好，很高兴为您服务，请问有什么可以帮您",
    "请问您是机主本人吗，麻烦报一下身份证后四位",
    "非常抱歉给您带来不便",
    "感谢您的来电，再见",
    "您好，工号1086，很高兴为您服务。",
    "非常抱歉，我理解您的心情，马上为您处理。",
    "请您稍等，我帮您查询一下。",
    "感谢您的耐心等待，已经为您查到了。",
    "不好意思让您久等了，请问还有其他问题吗？",
    "给您添麻烦了，请您谅解。",
]


@pytest.mark.parametrize("line", POLITE)
def test_polite_agent_lines_are_not_negative(line):
    [ue] = score_utterances(call(("agent", line)))
    assert ue.negativity < 0.5, (line, ue)
    assert not any(c.startswith("rude:") for c in ue.cues)


def test_the_lines_that_fooled_snownlp():
    from snownlp import SnowNLP

    for line in ("请问您是机主本人吗，麻烦报一下身份证后四位", "您好，很高兴为您服务，请问有什么可以帮您"):
        assert SnowNLP(line).sentiments < 0.5  # snownlp reads courtesy as complaint ...
        assert score_text(line, role="agent").negativity < 0.3  # ... we do not


def test_a_garbled_polite_agent_line_is_not_lost_temper_unless_shouted():
    from qc.emotion.call import _fuse

    # Whisper's reading of sample C007's identity check: the review model calls it 0.99 negative
    line = "抱歉, 请问您是基础被人吗?麻烦抱一下身份证后四位。"
    t = score_text(line, role="agent")
    assert t.model > 0.8 and t.negativity < 0.8
    assert _fuse(t.negativity, 2.0) >= 0.8  # the same words shouted are
    assert score_text("你听不懂吗？我已经说过了！", role="agent").negativity >= 0.8  # an irritation cue is enough


def test_plain_questions_are_damped_but_angry_questions_are_not():
    assert score_text("请问我的话费是多少？").negativity < 0.5
    angry = score_text("你们到底怎么回事？凭什么乱扣我的钱？")
    assert angry.negativity >= 0.75
    assert "anger:凭什么" in angry.cues


def test_negation_switches_off_an_anger_cue():
    calm = score_text("我没有生气，就是问一下")
    cross = score_text("我真的很生气")
    assert not any(c.startswith("anger:") for c in calm.cues)
    assert "anger:生气" in cross.cues
    assert cross.negativity > calm.negativity + 0.3


def test_intensifier_strengthens_anger():
    plain = score_text("你们太敷衍")
    assert plain.negativity >= 0.75
    two = score_text("你们非常敷衍，简直不负责任")
    assert two.negativity > 0.9


def test_customer_anger_and_agent_temper():
    ce = analyze_call(call(
        ("agent", "您好，很高兴为您服务。"),
        ("customer", "你们这什么破服务，太差了！我要投诉你们！"),
        ("agent", "你听不懂吗？我已经说过了，爱投诉投诉去。"),
    ))
    assert ce.customer_angry and ce.agent_lost_temper
    assert ce.customer_peak >= 0.75 and ce.agent_peak >= 0.8
    assert [d.utterance for d in ce.drivers] == [1, 2]
    rude = ce.drivers[1]
    assert rude.role == "agent" and rude.start == 8.0 and rude.text[rude.span[0]:rude.span[1]] in ("你听不懂吗", "我已经说过了")


def test_calm_agent_with_angry_customer_has_not_lost_temper():
    ce = analyze_call(call(
        ("customer", "你们太过分了，乱扣费！"),
        ("agent", "非常抱歉给您带来不便，我理解您的心情，马上为您核实。"),
    ))
    assert ce.customer_angry and not ce.agent_lost_temper
    assert ce.agent_peak < 0.5


def test_trajectory_recovered_worsened_stable():
    recovered = analyze_call(call(
        ("customer", "你们到底怎么回事，宽带断了三天了，太差了！"),
        ("customer", "凭什么一直没人处理！"),
        ("agent", "非常抱歉，我马上为您加急处理。"),
        ("customer", "那你们什么时候能修好？"),
        ("customer", "好的，师傅已经上门修好了。"),
        ("customer", "好的，谢谢你，问题解决了。"),
    ))
    assert recovered.trajectory == "recovered" and recovered.trajectory_delta < -0.15

    worsened = analyze_call(call(
        ("customer", "你好，我想查一下上个月的账单。"),
        ("customer", "好的，谢谢。"),
        ("customer", "为什么多扣了五十块？"),
        ("customer", "凭什么乱扣费，你们这是骗子吧！"),
        ("customer", "太过分了，我要投诉你们！"),
        ("customer", "垃圾公司，受够了！"),
    ))
    assert worsened.trajectory == "worsened" and worsened.trajectory_delta > 0.15

    stable = analyze_call(call(
        ("customer", "你好，我想办理一个流量包。"),
        ("customer", "好的，十块钱的那个。"),
        ("customer", "对，就是这个。"),
        ("customer", "好的，谢谢。"),
    ))
    assert stable.trajectory == "stable" and stable.customer_peak < 0.5
    assert stable.complaint is None and stable.risks == [] and stable.drivers == []


def test_the_emotion_stage_raises_no_risk_flags_of_its_own():
    threat = analyze_call(call(("customer", "再不处理我就找记者曝光你们，还要打12315！")))
    assert threat.risks == []  # the rules (RISK01-05) are the one risk detector
    assert threat.complaint.priority == "紧急危机"  # the grade still reads the same cue table


def test_volatility_swinging_mood_vs_steady_mood():
    swings = analyze_call(call(
        ("customer", "太差了，气死我了！"), ("customer", "好的，谢谢。"),
        ("customer", "凭什么又扣我钱？垃圾！"), ("customer", "好的好的，明白了，谢谢。"),
        ("customer", "你们就是骗子！"), ("customer", "好的，谢谢你。"),
    ))
    steady = analyze_call(call(
        ("customer", "太差了，气死我了！"), ("customer", "凭什么又扣我钱？垃圾！"),
        ("customer", "你们就是骗子！"), ("customer", "受够了，太过分了！"),
    ))
    assert swings.volatility > 0.4
    assert steady.volatility < 0.2
    assert swings.volatility > steady.volatility + 0.3


def _flags(*lines: str, role: str = "customer") -> dict[str, list]:
    """Risk kind -> evidence of the rules' risk findings (RISK01-05, the one risk detector)."""
    from qc.rules import inspect, load_rules

    rules = load_rules(ROOT / "rules")
    rules = rules.only(*[r.code for r in rules if r.polarity == "risk"])
    t = call(*[(role, x) for x in lines])
    out: dict[str, list] = {}
    for f in inspect(t, rules).findings:
        out.setdefault(f.name.rsplit(".", 1)[-1], []).extend(f.evidence)
    return out


def test_risk_flags_with_evidence():
    flags = _flags(
        "再不解决我就打12315。",
        "我要找记者曝光你们。",
        "我已经请了律师，准备起诉。",
        "我的个人信息被泄露了，天天接到骚扰电话。",
        "你们的充电器冒烟着火了，差点烧到孩子。",
    )
    assert set(flags) == {"regulator", "media", "lawyer", "privacy", "safety"}
    reg = flags["regulator"][0]
    assert reg.utterance == 0 and reg.start == 0.0 and reg.text[reg.span[0]:reg.span[1]] == "12315"
    media = flags["media"][0]
    assert media.utterance == 1 and media.text[media.span[0]:media.span[1]] in ("记者", "找记者", "曝光")
    assert flags["safety"][0].utterance == 4


def test_risk_cues_survive_asr_homophones():
    flags = _flags("我要去公信不投诉你们", "我要把这事暴光")
    evidence = flags["regulator"][0]
    assert evidence.text[evidence.span[0]:evidence.span[1]] == "公信不"
    assert flags["media"][0].text[slice(*flags["media"][0].span)] == "暴光"


def test_no_risk_from_agent_lines_dismissals_or_lookalikes():
    assert _flags("您也可以拨打12315进行反映。", role="agent") == {}
    assert _flags("我不会去找媒体的，就是希望尽快处理。") == {}
    assert _flags("你记着我的号码，回头打给我。", "我想问一下新的套餐。") == {}


def test_complaint_type_and_priority():
    safety = analyze_call(call(("customer", "你们卖的电热水器漏电，我家孩子被电到了，太过分了！")))
    assert safety.complaint.priority == "紧急危机"
    assert safety.complaint.type == "product"
    assert any(e.utterance == 0 for e in safety.complaint.evidence)

    media = analyze_call(call(("customer", "你们客服态度太差了，我要发微博曝光你们！")))
    assert media.complaint.priority == "紧急危机" and media.complaint.type == "service"

    quality = analyze_call(call(("customer", "宽带断网好几天了，根本用不了，太差了！")))
    assert quality.complaint.type == "product" and quality.complaint.priority == "高度紧急"

    price = analyze_call(call(("customer", "凭什么乱收费？这个月话费多扣了二十块，我要投诉！")))
    assert price.complaint.type == "price"

    process = analyze_call(call(("customer", "办理个手续转来转去，排队等了两个小时还没处理，太过分了。")))
    assert process.complaint.type == "process" and process.complaint.priority == "重要非紧急"

    general = analyze_call(call(("customer", "你们的客服说话太敷衍了，我很不满意。")))
    assert general.complaint.priority == "一般" and general.complaint.type == "service"


def test_call_emotion_round_trips_through_json():
    from qc.types import CallEmotion, to_dict

    ce = analyze_call(call(("customer", "我要打12315投诉你们，太差了！"), ("agent", "非常抱歉。")))
    back = CallEmotion.from_dict(json.loads(json.dumps(to_dict(ce), ensure_ascii=False)))
    assert back.risks == [] and back.complaint.priority == ce.complaint.priority == "高度紧急"
    assert back.utterances[0].negativity == ce.utterances[0].negativity


def _rule_set_polite_lines() -> list[str]:
    """Agent keyword lists and passing-test agent lines of the shipped rules agents must satisfy."""
    from pathlib import Path

    import yaml

    def keywords(node):
        if isinstance(node, dict):
            if node.get("type") == "keyword" and node.get("role", "agent") != "customer":
                yield from (k for k in node.get("any", []) if isinstance(k, str))
            for v in node.values():
                yield from keywords(v)
        elif isinstance(node, list):
            for v in node:
                yield from keywords(v)

    lines: list[str] = []
    for f in sorted((Path(__file__).parents[1] / "rules").glob("*.yaml")):
        for rule in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("rules", []):
            if rule.get("polarity") != "required":
                continue
            lines += list(keywords(rule.get("match") or {})) + list(keywords(rule.get("then") or {}))
            for test in rule.get("tests", []):
                if test.get("expect") == "no_hit":
                    lines += [x["agent"] for x in test.get("transcript", []) if isinstance(x, dict) and "agent" in x]
    return sorted(set(lines))


def test_no_polite_phrase_of_the_shipped_rule_set_scores_negative():
    lines = _rule_set_polite_lines()
    assert len(lines) >= 20
    ues = score_utterances(Transcript("P", [Utterance(role="agent", text=x) for x in lines]))
    negative = [(x, ue.negativity) for x, ue in zip(lines, ues) if ue.negativity >= 0.5]
    assert negative == []
