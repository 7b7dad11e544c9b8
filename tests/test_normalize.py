"""qc.normalize: what ASR text and rule phrases become before matching."""

import pytest

from qc.normalize import find_misheard, find_pinyin, fuzzy_syllable, near_syllables, normalize, normalize_text, pinyin


@pytest.mark.parametrize("raw,want", [
    ("機主本人，請問", "机主本人请问"),
    ("ＡＢＣ１２３！　ok", "abc123ok"),
    ("我的号码是幺三八 一二三四 五六七八", "我的号码是13812345678"),
    ("七天内退款", "7天内退款"),
    ("退款需要三到五个工作日", "退款需要3到5个工作日"),
    ("一百二十元", "120元"),
    ("两千零五年", "2005年"),
    ("二十四小时", "24小时"),
    ("十五号", "15号"),
    ("工号一零八六", "工号1086"),
    ("请稍等一下", "请稍等一下"),
    ("一起去", "一起去"),
    ("一两天", "一两天"),
    ("三四天", "三四天"),
    ("万一不行", "万一不行"),
    ("千万别挂", "千万别挂"),
    ("十分抱歉", "十分抱歉"),
    ("一个问题", "一个问题"),
])
def test_normalize(raw, want):
    assert normalize_text(raw) == want


def test_positions_map_back_to_original():
    n = normalize("工號：幺零八六。")
    assert n.text == "工号1086"
    assert n.original_span(2, 6) == (3, 7)
    assert n.original_span(0, 2) == (0, 2)


def test_pinyin_one_syllable_per_char_and_homophones():
    assert pinyin("机主a1") == ("ji", "zhu", "a", "1")
    assert pinyin("鸡主") == pinyin("基主") == pinyin("机主")
    assert find_pinyin(pinyin("请问是基主本人吗"), pinyin("机主本人")) == [(3, 7, 0)]
    assert find_pinyin(pinyin("请问是本人吗"), pinyin("机主本人")) == []
    assert find_pinyin(pinyin("请问是鸡主人吗"), pinyin("机主本人"), 1) == [(3, 6, 1)]


def test_fuzzy_sounds():
    assert fuzzy_syllable("zhu") == fuzzy_syllable("zu") == "zu"
    assert fuzzy_syllable("shi") == "si"
    assert fuzzy_syllable("lan") == fuzzy_syllable("nang") == "nan"
    assert fuzzy_syllable("ji") == "ji"


def test_near_sounds_and_misheard_phrases():
    # what 8 kHz Whisper wrote for the agent's identity check and closing on unseen calls
    assert near_syllables("ben", "bei") and near_syllables("zu", "cu") and near_syllables("dian", "ding")
    # lips vs palate, another initial and another final, the same syllable: not near
    assert not near_syllables("bi", "ji") and not near_syllables("zhen", "ben") and not near_syllables("ben", "ben")
    assert not near_syllables("1", "2")
    fz = lambda t: tuple(fuzzy_syllable(s) for s in pinyin(normalize_text(t)))  # noqa: E731
    assert find_misheard(fz("请问您是北人吗"), fz("是本人吗")) == [(3, 7)]
    assert find_misheard(fz("请问您是该号码的基础被人吗"), fz("机主本人"), 2) == [(8, 12)]
    assert find_misheard(fz("请问您是基础被人吗"), fz("机主本人"), 1) == []  # two misheard, one allowed
    # a syllable added is not a mishearing (本地人), nor are other words with a shared sound (必须本人)
    assert find_misheard(fz("请问您是本地人吗"), fz("是本人吗")) == []
    assert find_misheard(fz("这个是必须本人办理的"), fz("机主本人"), 2) == []
    assert find_misheard(fz("请问您是本人吗"), fz("是本人吗")) == []  # the same sounds: not misheard
