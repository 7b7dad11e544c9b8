"""Channels (voice / chat / ticket) and the chat log import (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from qc.chat import ChatLogError, import_chat, read_chat_log
from qc.ingest import MetadataError, load_call_table
from qc.rules import RuleFileError, inspect, load_rules
from qc.transcript import load_transcript
from qc.types import AudioInfo, Transcript, Utterance

ROOT = Path(__file__).resolve().parents[1]
RULES = load_rules(ROOT / "rules")

LOG = """conversation_id,sender,time,text
S1,买家小李,2024-05-01 10:00:05,在吗？我的订单还没发货
S1,客服小王,2024-05-01 10:00:40,亲，在的，帮您查一下
S1,买家小李,2024-05-01 10:01:00,好的
S1,买家小李,2024-05-01 10:02:10,查到了吗？
S1,客服小王,2024-05-01 10:03:30,明天发货，感谢您的咨询
S2,买家老张,2024-05-01 11:00:00,你好
S2,客服小王,2024-05-01 11:00:10,您好，请问有什么可以帮您
"""


def opening(channel: str | None, audio: bool = False) -> Transcript:
    t = Transcript(call_id="c", utterances=[
        Utterance("agent", "亲，在的，有什么可以帮您？", 0.0, 0.0), Utterance("customer", "我想查一下订单", 5.0, 5.0)],
        channel=channel)
    if audio:
        t.audio = AudioInfo(path="c.wav", sha256="0" * 64, duration=6.0, sample_rate=8000, channels=2)
    return t


def test_a_chat_transcript_is_not_asked_for_a_staff_number_but_a_call_is():
    chat = inspect(opening("chat"), RULES)
    assert "OPEN01" not in {f.rule for f in chat.findings} and "OPEN01" in chat.not_applicable
    assert "chat" in chat.not_applicable["OPEN01"]
    for voice in (opening("voice"), opening(None, audio=True)):  # said, or known from the recording
        assert "OPEN01" in {f.rule for f in inspect(voice, RULES).findings}
    # calls.csv's channel column (meta) counts when the transcript itself says nothing
    meta = opening(None)
    meta.meta["channel"] = "chat"
    assert "OPEN01" in inspect(meta, RULES).not_applicable


def test_voice_only_rules_stay_out_of_chat_and_chat_rules_out_of_calls():
    voice_only = {r.code for r in RULES if r.channels == ("voice",)}
    assert {"OPEN01", "IDEN01", "SILN01", "INTR01", "RATE01", "CLOSE01"} <= voice_only
    assert RULES.get("RESP01").channels == ("chat",)
    assert not RULES.get("EMPA01").channels and not RULES.get("RISK02").channels  # every channel


def test_chat_import_round_trips_with_message_times(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    written = import_chat([log], tmp_path / "out")
    assert sorted(p.name for p in written) == ["S1.json", "S2.json"]
    t = load_transcript(tmp_path / "out" / "S1.json")
    assert t.channel == "chat" and t.contact_channel == "chat"
    assert [u.role for u in t.utterances] == ["customer", "agent", "customer", "customer", "agent"]
    assert [u.start for u in t.utterances] == [0.0, 35.0, 55.0, 125.0, 205.0]
    assert t.utterances[3].text == "查到了吗？" and t.meta["started_at"] == "2024-05-01 10:00:05"
    result = inspect(t, RULES)
    slow = [f for f in result.findings if f.rule == "RESP01"]
    # waited from 10:01:00 (the first unanswered message) to 10:03:30; the 35 s answer is fine
    assert len(slow) == 1 and slow[0].evidence[0].utterance == 4 and "150" in slow[0].message
    assert "OPEN01" in result.not_applicable and "CLOSE01" not in {f.rule for f in result.findings}
    # the same log as JSON, agents named on the command line
    js = tmp_path / "log.json"
    js.write_text(json.dumps({"conversation_id": "J1", "messages": [
        {"sender": "Alice", "time": "10:00:00", "text": "hello, my parcel is late"},
        {"sender": "Bob", "time": "10:00:30", "text": "sorry, checking"}]}), encoding="utf-8")
    (j,) = read_chat_log(js, agents=["Bob"])
    assert j.call_id == "J1" and [u.role for u in j.utterances] == ["customer", "agent"] and j.utterances[1].start == 30.0


@pytest.mark.parametrize("body, message", [
    ("sender,text\nA,hi\n", r"log.csv:1: no 'time' column"),
    ("sender,time,text\n客户,10:00:00,hi\n客服,25:99,hello\n", r"log.csv:3: time '25:99' is not a time"),
    ("sender,time,text\nAlice,10:00:00,hi\n", r"log.csv:2: cannot tell whether sender 'Alice' is the agent"),
    ("sender,time,text\n客户,10:00:09,hi\n客服,10:00:01,hello\n", r"log.csv:3: time 10:00:01 is before the previous message"),
    ("sender,time,text\n客户,10:00:00,\n", r"log.csv:2: the message has no text"),
])
def test_chat_log_errors_name_file_and_line(tmp_path, body, message):
    log = tmp_path / "log.csv"
    log.write_text(body, encoding="utf-8")
    with pytest.raises(ChatLogError, match=message):
        read_chat_log(log)


def test_import_chat_cli(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    ok = CliRunner().invoke(app, ["import-chat", str(log), "--out", str(tmp_path / "out")])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "out" / "S2.json").is_file()
    bad = tmp_path / "bad.csv"
    bad.write_text("who,when\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["import-chat", str(bad), "--out", str(tmp_path / "out2")])
    assert res.exit_code == 2 and "bad.csv:1: no 'time' / 'text' / 'sender' column" in res.output


def test_channels_field_is_validated_strictly(tmp_path):
    rule = tmp_path / "r.yaml"
    rule.write_text("""rules:
  - code: TST01
    name: test.chat_only
    description: {what: 测试, why: 测试}
    category: 服务规范
    severity: minor
    polarity: forbidden
    message: m
    channels: [chat, phone]
    match: {type: keyword, any: [再见]}
    tests:
      - {expect: hit, channel: chat, transcript: [{agent: 再见}]}
      - {expect: no_hit, channel: chat, transcript: [{agent: 您好}]}
""", encoding="utf-8")
    with pytest.raises(RuleFileError, match=r"r.yaml:9:\d+: RUL005 channel 'phone' is not one of voice, chat, ticket"):
        load_rules(rule)
    rule.write_text(rule.read_text(encoding="utf-8").replace("[chat, phone]", "[]"), encoding="utf-8")
    with pytest.raises(RuleFileError, match="RUL005 channels is empty"):
        load_rules(rule)


def test_calls_csv_channel_column(tmp_path):
    table = tmp_path / "calls.csv"
    table.write_text("call_id,channel\nC1,在线\nC2,voice\n", encoding="utf-8")
    rows = load_call_table(table)
    assert rows["C1"].meta["channel"] == "chat" and rows["C2"].meta["channel"] == "voice"
    table.write_text("call_id,channel\nC1,fax\n", encoding="utf-8")
    with pytest.raises(MetadataError, match=r"calls.csv:2: channel 'fax' is not voice, chat or ticket"):
        load_call_table(table)
