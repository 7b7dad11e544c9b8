"""Risk flags: one cue table for the emotion stage and rules/risk.yaml, sound-alikes only on word
boundaries, and the false flags found on real helpdesk dialogues (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qc.emotion.risk import RISK_KINDS, risk_cues
from qc.rules import inspect, load_rules
from qc.types import Transcript, Utterance

ROOT = Path(__file__).resolve().parents[1]
RULES = load_rules(ROOT / "rules")
RISK_RULES = RULES.only(*[r.code for r in RULES if r.polarity == "risk"])
RULE_KIND = {r.code: r.match.params["kind"] for r in RISK_RULES}


def customer(*lines: str) -> Transcript:
    return Transcript(call_id="t", utterances=[Utterance(role="customer", text=x) for x in lines])


def kinds(*lines: str) -> set[str]:
    """Risk kinds the rules (RISK01-05, the one risk detector) raise."""
    return {RULE_KIND[f.rule] for f in inspect(customer(*lines), RISK_RULES).findings}


def test_every_risk_kind_has_one_shipped_rule_reading_the_shared_cue_table():
    assert sorted(RULE_KIND.values()) == sorted(RISK_KINDS)
    assert all(r.match.type.name == "risk_cue" for r in RISK_RULES)


@pytest.mark.parametrize("line", [
    "已转发原中文确认函2次到指定邮箱，一直没有收到。",  # 转发原 ~ 法院 across 转发|原
    "师傅来的时候我还没起床。",  # 没起 ~ 煤气 across 没|起床
    "我是你们的重度用户，流量根本不够用。",  # 重度 ~ 中毒, a correctly written word
    "网络定期或时常掉线，麻烦看一下。",  # 期或 ~ 起火 across 定期|或
    "我的银行卡号是6222021234567890123，帮我查一下扣款。",  # 12345 inside a card number
    "我们学校对这个的投诉率这么高你们都不做统计么",  # 高你们 ~ 告你们
    "我用工商银行的卡交的费。",
    "手机中毒了吗，老是自动跳出广告。",
])
def test_false_flags_from_real_dialogues_stay_quiet(line):
    assert kinds(line) == set()


@pytest.mark.parametrize("line", [
    "扣了我三个月的费没人管 @人民日报",
    "请及时解决 @央视新闻",
    "这件事我已经联系了新京报和澎湃新闻的记者。",
    "你们再不处理我就发微博，让大家都看看。",
    "不给退我就曝光你们！",
    "这种公司太坑了，求扩散！",
    "麻烦大家帮忙转发，不要再上当了。",
    "我要发到网上让所有人知道。",
])
def test_media_threats_and_news_accounts(line):
    assert "media" in kinds(line)


def test_regulator_accounts_are_regulators_and_media_accounts_media():
    assert kinds("乱扣费！@12315消费者维权") == {"regulator"}
    assert kinds("乱扣费！@CCTV315") == {"media"}
    assert kinds("我要打12345市长热线反映") == {"regulator"}


def test_sound_alikes_on_word_boundaries_still_fire():
    cues = risk_cues("我要去公信不投诉你们")
    assert [(c.kind, c.cue, c.how) for c in cues] == [("regulator", "工信部", "sound")]
    assert kinds("我要去公信部告你们") == {"regulator", "lawyer"}


def test_agent_lines_and_dismissals_raise_nothing():
    t = Transcript(call_id="t", utterances=[Utterance(role="agent", text="您也可以拨打12315进行反映。")])
    assert inspect(t, RISK_RULES).findings == []
    assert kinds("我不会去找媒体的，就是希望尽快处理。") == set()


@pytest.mark.parametrize("line", [
    "哪里有卖果树苗的 急需啊 @本地晚报",  # a local paper tagged to ask for help
    "今天拍的花开了 @本地晚报 @城市生活助手",  # a photo post tagging local accounts
    "这条短信说我中了某电视台节目的大奖。",  # a medium named inside a scam message
    "这个机顶盒少了CCTV6频道，清晰度一般。",  # a channel name
    "这样设置默认彩铃符合工信部的规定吗",  # a regulator cited, not gone to
    "频段要等工信部许可才开通。",
    "法院的文书是派出所负责的吗",  # a court named
    "我理解电信是为了保护顾客隐私。",  # personal data named, not leaked
    "说是不寄证件怕物流丢了导致客户信息泄露。",  # a precaution, not a leak
    "下班路上看见一家饭店着火了。",  # a hazard seen elsewhere
    "不能查出来？//@某某客服:您好，对于您的号码被泄露我们深感遗憾。",  # the agent's reply quoted back
])
def test_names_without_a_threat_or_a_report_stay_quiet(line):
    assert kinds(line) == set()


@pytest.mark.parametrize("line,kind", [
    ("宽带坏了一周没人修，为什么？@本地晚报", "media"),
    ("这种做法已经投诉到工信部了。", "regulator"),
    ("我要去法院起诉你们。", "lawyer"),
    ("我已经咨询律师了。", "lawyer"),
    ("我的个人信息被泄露给了推销公司。", "privacy"),
    ("家里的路由器冒烟着火了！", "safety"),
])
def test_names_with_a_threat_or_a_report_still_fire(line, kind):
    assert kind in kinds(line)
