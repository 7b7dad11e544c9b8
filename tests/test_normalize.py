"""qc.normalize: what ASR text and rule phrases become before matching."""

import pytest

from qc.normalize import find_pinyin, fuzzy_syllable, normalize, normalize_text, pinyin


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
