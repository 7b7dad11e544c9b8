"""qc.voc: taxonomy files, call tagging, emerging topics, spikes and the closed loop across nights."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qc.types import CallEmotion, Transcript, Utterance
from qc.voc import TaxonomyError, check_taxonomy, load_taxonomy, run_tag_tests, tag_call, trigger_turns
from qc.voc.report import write_voc_report
from qc.voc.store import VocStore, VocStoreError
from qc.voc.topics import emerging_topics
from qc.voc.trends import lift, pareto, quadrants, spike_pvalue

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).parent / "data" / "voc_bad" / "broken.yaml"


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy(ROOT / "voc")


# --- the taxonomy file format ---


def test_shipped_taxonomy_is_clean_and_covers_the_journey(tax):
    assert len(tax) >= 15
    assert {"计费中心", "网络运维部", "物流部", "售后服务部", "客服中心"} <= {t.department for t in tax}
    assert len(tax.stages) >= 6
    for t in tax:
        assert t.what and t.why and t.label, t.code
        assert any(c.expect == "hit" for c in t.tests) and any(c.expect == "no_hit" for c in t.tests), t.code


def test_every_tag_case_passes(tax):
    failed = [str(r) for r in run_tag_tests(tax) if not r.ok]
    assert not failed, "\n".join(failed)


def test_broken_taxonomy_reports_every_problem_with_file_line_col():
    _, errors = check_taxonomy(BAD)
    got = {(e.code, e.pos.line) for e in errors}
    assert ("VOC003", 9) in got  # 计费中新: unknown department, with a did-you-mean
    assert ("VOC001", 15) in got  # BILL01 twice
    assert ("VOC004", 19) in got  # in: trigger_turn
    assert ("RUL010", 21) in got  # keywrod: the rule engine's own compiler reports it
    assert ("RUL031", 22) in got  # no negative case
    assert all(str(e).startswith(f"{BAD}:{e.pos.line}:{e.pos.col}: ") for e in errors)
    dept = next(e for e in errors if e.code == "VOC003")
    assert "did you mean '计费中心'" in dept.message
    with pytest.raises(TaxonomyError):
        load_taxonomy(BAD)


def test_cli_check_and_test_exit_codes():
    from cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["voc", "check", str(BAD)])
    assert res.exit_code == 1 and f"{BAD}:9:" in res.output
    res = runner.invoke(app, ["voc", "test", str(ROOT / "voc")])
    assert res.exit_code == 0, res.output


# --- tagging one call ---


def _call(cid, *lines, timed=False, meta=None):
    us = []
    t = 0.0
    for role, text in lines:
        us.append(Utterance(role=role, text=text, start=t if timed else None, end=t + 3 if timed else None))
        t += 4
    return Transcript(call_id=cid, utterances=us, meta=meta or {})


def test_trigger_skips_greetings_and_the_reason_is_quoted_with_its_time(tax):
    call = _call("c1", ("agent", "您好，工号1086，请问有什么可以帮您？"), ("customer", "喂，你好。"), ("agent", "您好，请讲。"),
                 ("customer", "我家宽带从昨天晚上开始就断网了，到现在还没好。"), ("agent", "我帮您报修。"),
                 ("customer", "好的，谢谢。"), timed=True)
    assert trigger_turns(call)[0] == 3
    v = tag_call(call, tax)
    assert "NET02" in v.codes and "网络运维部" in v.departments
    assert v.reason_utterance == 3 and v.quote().startswith("[00:12] “我家宽带")
    ev = next(t for t in v.tags if t.code == "NET02").evidence
    assert ev.utterance == 3 and ev.text[ev.span[0]:ev.span[1]] == "宽带"
    assert v.resolved and v.resolution_source == "cues"


def test_chat_addressing_is_not_content_and_unresolved_cues_count(tax):
    chat = _call("w1", ("customer", "@某某官方客服 //@某某客服:亲，请私信我们"), ("customer", "@某某客服 我下单五天了还不发货，什么时候能到？"),
                 ("agent", "亲，已为您催促仓库。"), ("customer", "到现在还是没发货，我要投诉！"))
    v = tag_call(chat, tax)
    assert "DELI01" in v.codes
    assert "SERV02" not in v.codes  # 私信 sat in the agent's quoted repost, not in the customer's words
    assert v.quote().startswith("“") and "@" not in v.reason
    assert not v.resolved


def test_the_emotion_stages_unresolved_model_wins_when_present(tax):
    call = _call("m1", ("customer", "我想查一下话费。"), ("agent", "好的。"), ("customer", "好的谢谢，解决了。"))
    assert tag_call(call, tax).resolved
    emotion = CallEmotion(call_id="m1")
    emotion.unresolved = 0.9  # what the call-level unresolved model adds to CallEmotion
    v = tag_call(call, tax, emotion)
    assert not v.resolved and v.resolution_source == "model"


# --- trends ---


def test_spike_pvalue_and_lift_and_quadrants():
    hist = [(5, 100)] * 14
    p_quiet, e = spike_pvalue(hist, 6, 100)
    p_surge, _ = spike_pvalue(hist, 25, 100)
    assert abs(e - 5.0) < 0.1 and p_quiet > 0.2 and p_surge < 1e-6
    value, nt, ntf = lift([True, True, False, False], [True, True, True, False])
    assert nt == 2 and ntf == 2 and abs(value - (1.0 / 0.75)) < 1e-9
    assert [k for k, _, _ in pareto({"a": 1, "b": 5, "c": 2})] == ["b", "c", "a"]
    q = quadrants({"a": (50, 0.6), "b": (2, 0.6), "c": (40, 0.1), "d": (1, 0.0)}, 0.3)
    assert q == {"a": "优先改进", "b": "重点关注", "c": "效率优化", "d": "保持观察"}


# --- simulated nights (synthetic sentences, no dialogue data) ---

LINES = {
    "BILL01": ["这个月话费怎么多扣了五十块", "你们乱扣费，我要查账单", "为什么扣了我两百块钱"],
    "NET02": ["家里宽带又断网了", "光猫一直亮红灯，宽带上不去", "网速特别慢，宽带是不是有问题"],
    "DELI01": ["下单三天了还没发货", "快递一直不动，物流信息不更新", "我的包裹什么时候到"],
    "PLAN01": ["我想换一个便宜点的套餐", "现在有什么优惠的套餐", "套餐里的流量不够用"],
    None: ["我想问一下营业厅几点关门", "你们那个电视节目怎么不播了", "麻烦帮我查个东西"],
}


@dataclass
class FakeResult:
    transcript: Transcript
    emotion: object = None
    inspection: object = None

    @property
    def call_id(self):
        return self.transcript.call_id


def _night(day: str, counts: dict, rng: random.Random, extra: list[str] = ()) -> list[FakeResult]:
    out = []
    for key, n in counts.items():
        for k in range(n):
            text = rng.choice(LINES[key])
            out.append(FakeResult(_call(f"{day}-{key}-{k}", ("agent", "您好，请问有什么可以帮您？"), ("customer", text), ("agent", "好的，我帮您处理。"))))
    for k, text in enumerate(extra):
        out.append(FakeResult(_call(f"{day}-x-{k}", ("agent", "您好，请问有什么可以帮您？"), ("customer", text), ("agent", "好的。"))))
    return out


def _nights(n: int, start=date(2026, 1, 1)):
    return [(start + timedelta(days=i)).isoformat() for i in range(n)]


def test_a_planted_spike_is_found_and_raised_to_its_department(tmp_path, tax):
    rng = random.Random(7)
    db = tmp_path / "h.sqlite"
    nights = _nights(16)
    found = {}
    for i, day in enumerate(nights):
        base = {"BILL01": 8 + rng.randint(-2, 2), "NET02": 6 + rng.randint(-2, 2), "DELI01": 5, "PLAN01": 7, None: 10}
        if i == 13:
            base["NET02"] = 30  # the planted surge: a broadband outage
        out = tmp_path / day
        out.mkdir()
        rep = write_voc_report(_night(day, base, rng), out, day, db=db, taxonomy=tax)
        found[day] = [s.key for s in rep.spikes]
    assert found[nights[13]] == ["NET02"]
    assert all(not v for d, v in found.items() if d != nights[13])
    with VocStore(db) as store:
        (item,) = store.items()
    assert item.tag == "NET02" and item.department == "网络运维部" and item.status == "待办" and item.opened == nights[13]


def test_an_untagged_cluster_surfaces_as_an_emerging_topic(tmp_path, tax):
    rng = random.Random(3)
    remote = ["电视盒子的遥控器按了没反应", "遥控器没反应，电视盒子开不了", "新买的电视盒子遥控器按哪个键都没反应",
              "机顶盒遥控器没反应怎么回事", "电视盒子遥控器配对不上没反应", "遥控器完全没反应，电视盒子看不了"]
    noise = ["营业厅周末几点开门", "你们公司地址在哪里", "我想给你们提个建议", "上次那位工作人员叫什么名字"]
    results = _night("2026-02-01", {"BILL01": 5, "NET02": 5}, rng, extra=remote + noise)
    rep = write_voc_report(results, tmp_path, "2026-02-01", taxonomy=tax)
    untagged = {v.call_id for v in rep.vocs if not v.tags}
    assert len(untagged) == len(remote) + len(noise)
    top = rep.topics[0]
    assert "遥控器" in top.phrases[:3]
    remote_ids = {f"2026-02-01-x-{k}" for k in range(len(remote))}
    assert len(remote_ids & set(top.members)) >= 5 and len(set(top.members) - remote_ids) <= 1
    assert "遥控器" in (tmp_path / "voc.html").read_text(encoding="utf-8")


def test_emerging_topics_is_deterministic_and_ignores_tiny_input():
    assert emerging_topics([("a", "你好")]) == []
    pairs = [(str(i), t) for i, t in enumerate(["积分兑换失败", "积分兑换不了", "积分怎么兑换", "发票开错了", "发票抬头开错", "发票要重开"])]
    a = emerging_topics(pairs, min_size=2, seed=1)
    b = emerging_topics(pairs, min_size=2, seed=1)
    assert [t.members for t in a] == [t.members for t in b] and a


def test_a_departments_loop_item_is_carried_across_nights_until_closed(tmp_path, tax):
    from cli import app

    rng = random.Random(11)
    db = tmp_path / "h.sqlite"
    nights = _nights(12)
    pages = {}
    for i, day in enumerate(nights):
        counts = {"BILL01": 6, "DELI01": 4 if i != 8 else 25, None: 6}
        out = tmp_path / day
        out.mkdir()
        write_voc_report(_night(day, counts, rng), out, day, db=db, taxonomy=tax)
        pages[day] = (out / "voc.html").read_text(encoding="utf-8")
        if i == 9:  # the department adopted it the day after the spike
            res = CliRunner().invoke(app, ["voc", "update", "1", "--status", "已采纳", "--note", "已联系快递公司", "--db", str(db)])
            assert res.exit_code == 0, res.output
        if i == 10:
            res = CliRunner().invoke(app, ["voc", "update", "1", "--status", "完结", "--db", str(db)])
            assert res.exit_code == 0, res.output
    title = "发货与配送时效（DELI01）突增"
    assert title not in pages[nights[7]]
    assert all(title in pages[d] for d in nights[8:11])
    assert "已联系快递公司" in pages[nights[10]]
    assert title not in pages[nights[11]]  # closed: off the report
    res = CliRunner().invoke(app, ["voc", "list", "--all", "--db", str(db)])
    assert "#1\t完结\t物流部" in res.output
    res = CliRunner().invoke(app, ["voc", "update", "1", "--status", "搞定", "--db", str(db)])
    assert res.exit_code == 1 and "完结" in res.output  # the error names the valid statuses
    with VocStore(db) as store, pytest.raises(VocStoreError):
        store.update_item(99, status="完结")


def test_the_night_report_links_the_voc_page_and_writes_a_sheet_per_department(tmp_path):
    from openpyxl import load_workbook

    from qc.report import write_reports
    from scoring_cases import load_cases

    rep = write_reports(load_cases(), tmp_path, night="2024-05-20", db=tmp_path / "h.sqlite", calibration=0)
    assert 'href="voc.html"' in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert rep.voc is not None and (tmp_path / "voc.html").exists()
    sheets = load_workbook(tmp_path / "voc.xlsx", read_only=True).sheetnames
    assert "计费中心" in sheets and "闭环跟踪" in sheets and "新话题" in sheets


def test_the_prefilter_never_changes_a_tag(tax):
    from qc.voc.prefilter import need_of

    cases = [c.transcript for t in tax for c in t.tests]
    cases.append(_call("pf", ("customer", "家里手机信好差，套參也太贵"), ("agent", "好的"), ("customer", "你们态度太差，一直推诿")))
    for call in cases:
        fast, slow = tag_call(call, tax), tag_call(call, tax, prefilter=False)
        assert [(t.code, t.evidence) for t in fast.tags] == [(t.code, t.evidence) for t in slow.tags], call.call_id
    needs = {t.code: need_of(t.match) for t in tax}
    assert needs["NET02"] is not None and "信号差" not in needs["NET02"].sound
    assert "信号差" in needs["NET01"].sound  # matched by sound: 信号差 heard as 信好差
    assert "信号" not in needs["NET01"].sound and "信号" in needs["NET01"].text  # two characters: only as written
    assert {"怎么", "如何", "怎样"} <= needs["HOW01"].text  # the regex (怎么|如何|怎样)…: one of its literals
    assert needs["PLAN01"].similar  # similar examples: a character-overlap bound


def test_prefilter_bounds_are_safe():
    from rapidfuzz import fuzz

    from qc.rules.conditions.text import _pinyin_line_of
    from qc.voc.prefilter import regex_literals, similar_possible, sound_key

    assert regex_literals(r"订单号\d+") == {"订单号"}
    assert regex_literals(r"(怎么|如何)\w{0,3}设置") == {"怎么", "如何"}
    assert regex_literals(r"(ab|c?)d") == {"d"} and regex_literals(r"x?y") == {"y"}
    assert regex_literals(r"(?i)abc") is None and regex_literals(r"\d+") is None
    rng = random.Random(3)
    alphabet = "套餐流量话费扣钱怎么这么高宽带断网了我的"
    for _ in range(3000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
        for scorer, score in (("partial", fuzz.partial_ratio), ("ratio", fuzz.ratio)):
            if scorer == "partial" and len(a) < 0.6 * len(b):
                continue
            if score(a, b) >= 70:
                assert similar_possible(a, (b,), 70, scorer), (a, b, scorer)
    for text in ("家里手机信好差", "4g卡套參", "abc123", "以及移机", "营业厅几点"):
        line = _pinyin_line_of(text, False)[0]
        for phrase in ("信号差", "4g卡", "套餐", "停机", "移机", "c12", "机"):
            assert (sound_key(phrase) in sound_key(text)) == (_pinyin_line_of(phrase, False)[0] in line), (text, phrase)


def test_cli_tag_trend_and_add(tmp_path, tax):
    from cli import app

    from qc.transcript import save_transcript

    call = _call("t1", ("agent", "您好，请问有什么可以帮您？"), ("customer", "我家宽带又断网了。"), ("agent", "马上报修。"), timed=True)
    save_transcript(call, tmp_path / "t1.json")
    runner = CliRunner()
    res = runner.invoke(app, ["voc", "tag", str(tmp_path / "t1.json")])
    assert res.exit_code == 0 and res.output.startswith("t1\tNET02\t网络运维部") and "[00:04] “我家宽带又断网了。”" in res.output
    rng = random.Random(5)
    db = tmp_path / "h.sqlite"
    for i, day in enumerate(_nights(10)):
        (tmp_path / day).mkdir()
        write_voc_report(_night(day, {"BILL01": 6, "NET02": 5 if i != 9 else 24, None: 5}, rng), tmp_path / day, day, db=db, taxonomy=tax)
    res = runner.invoke(app, ["voc", "trend", "--db", str(db), "--last", "3"])
    assert res.exit_code == 0 and "NET02" in res.output and "*" in res.output, res.output
    res = runner.invoke(app, ["voc", "add", "BILL01", "账单模板改版后的多扣费", "--night", "2026-01-10", "--db", str(db), "-t", str(ROOT / "voc")])
    assert res.exit_code == 0 and "计费中心" in res.output
    res = runner.invoke(app, ["voc", "add", "BILL1", "x", "--db", str(db), "-t", str(ROOT / "voc")])
    assert res.exit_code == 2 and "did you mean 'BILL01'" in res.output
    res = runner.invoke(app, ["voc", "list", "--department", "计费中心", "--db", str(db)])
    assert "账单模板改版后的多扣费" in res.output and "宽带" not in res.output


def test_tags_that_read_the_agent_or_the_emotion_stage():
    """``in: call`` reads agent lines; a ``sentiment`` condition reads the CallEmotion of the lines it sees."""
    scopes = load_taxonomy(Path(__file__).parent / "data" / "voc_scopes" / "scopes.yaml")
    assert scopes.reads_agent
    results = run_tag_tests(scopes)
    assert len(results) == 4 and all(r.ok for r in results), [str(r) for r in results]
    call = _call("s1", ("agent", "您好"), ("customer", "我家宽带坏了"), ("agent", "明天给您回电"))
    v = tag_call(call, scopes)
    assert v.codes == ["AGNT01"] and v.tags[0].evidence.utterance == 2 and v.tags[0].evidence.role == "agent"


def test_voc_uses_only_public_names_of_other_modules():
    import ast

    for path in sorted((ROOT / "qc" / "voc").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qc.") and not node.module.startswith("qc.voc"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name}:{node.lineno} imports {private} from {node.module}"


def test_topic_features_drop_boilerplate_and_add_phrases():
    from qc.voc.topics import features, strip_boilerplate

    assert strip_boilerplate("你好！系统更新以后相册打不开。谢谢！") == "系统更新以后相册打不开。"
    f = features("#双十一# 新年快乐！系统更新以后相册照片不见了")
    assert "相册" in f and "照片" in f and "相册照片" in f and "快乐" not in f
