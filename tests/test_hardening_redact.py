"""Personal data never leaves the results store unmasked (issue 12).

A real night (text transcripts, the shipped rules, the CLI in a subprocess) with planted phone,
ID-card and bank-card numbers in every written and spoken form and an address, in the calls'
words, in calls.csv and in a reviewer note; then every output is searched for them: HTML, CSV,
XLSX, JSON, the SQLite dump, logs and the terminal output of every command.
"""
import csv
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qc.report.redact import find_addresses, redact_text

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "samples" / "reference"

PHONE_FORMS = ["13800138000", "138 0013 8000", "138，0013，8000", "138  0013  8000", "138、0013、8000",
               "幺三八，零零幺三，八零零零", "幺三八零零幺三八零零零", "一三八 零零一三 八零零零"]
ID_FORMS = ["110101199003071234", "11010119900307123X", "一一零一零一一九九零零三零七一二三四"]
BANK_FORMS = ["6222021234567890", "6222，0212，3456，7890", "6222 0212 3456 7890 123"]
ADDRESS = "北京市朝阳区建国路88号3号楼2单元501室"
PLANTED = PHONE_FORMS + ID_FORMS + BANK_FORMS + [ADDRESS]
# what must never show, whatever the form: the hidden middle digits and the street part
SECRETS = PLANTED + ["0013", "零零幺三", "零零一三", "19900307", "0212345678", "0212，3456", "建国路", "501室"]


@pytest.mark.parametrize("text", PLANTED)
def test_every_planted_form_is_masked(text):
    masked = redact_text(f"我的是{text}，好的")
    assert len(masked) == len(text) + 6 and "*" in masked
    assert not any(s in masked for s in SECRETS), masked


@pytest.mark.parametrize("text,masked", [
    ("寄到广东省深圳市南山区科技园路八号阳光花园3栋2单元502", "寄到广东省深圳市*********************"),
    ("地址是上海市浦东新区世纪大道一百号", "地址是上海市***********"),
    ("我住在朝阳区建国路88号", "我住在*********"),
])
def test_addresses_masked_from_the_district_on(text, masked):
    assert redact_text(text) == masked


@pytest.mark.parametrize("text", ["我3号打过电话", "五月20号到的", "走了一路", "我知道了，路上3号", "朝阳区", "去超市买东西",
                                  "我13800138000，一个小时后打", "第1、2、3项", "2024-05-20 10:00"])
def test_ordinary_text_keeps_its_words(text):
    assert find_addresses(text) == []
    if "138" not in text:
        assert redact_text(text) == text


def _cli(*args, cwd, check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QC_CACHE_DIR": str(cwd / "cache")}
    p = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout + p.stderr


def _texts(folder: Path):
    """(name, text) of every output file: text files, the inside of xlsx, a dump of sqlite."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.endswith((".sqlite-wal", ".sqlite-shm")):
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    yield f"{path}:{name}", z.read(name).decode("utf-8", "replace")
        elif path.suffix == ".sqlite":
            con = sqlite3.connect(path)
            yield str(path), "\n".join(con.iterdump())
            con.close()
        else:
            yield str(path), path.read_bytes().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pii")
    src = tmp / "in"
    shutil.copytree(REFERENCE, src)
    # the customer reads out every form, in a complaint so that the lines become evidence
    data = json.loads((src / "C004.json").read_text(encoding="utf-8"))
    lines = [f"我要投诉，我电话是{PHONE_FORMS[i % len(PHONE_FORMS)]}，身份证{ID_FORMS[i % len(ID_FORMS)]}，"
             f"卡号{BANK_FORMS[i % len(BANK_FORMS)]}，住{ADDRESS}，你们太差了！" for i in range(len(PHONE_FORMS))]
    t = data["utterances"][-1]["end"] + 1
    for i, text in enumerate(lines):
        role = "customer" if i % 2 == 0 else "agent"
        data["utterances"].append({"role": role, "channel": 1 if role == "customer" else 0, "start": t, "end": t + 3, "text": text})
        t += 4
    (src / "C004.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    rows = list(csv.DictReader((ROOT / "samples" / "calls.csv").read_text(encoding="utf-8-sig").splitlines()))
    for r in rows:
        r["ticket_note"] += f"，回访{PHONE_FORMS[2]}，地址{ADDRESS}"
        r["customer_phone"] = "13800138000"
    with open(src / "calls.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    out = tmp / "night"
    terminal = [_cli("-v", "score", str(src), "--out", str(out), "--rules", str(ROOT / "rules"), "--db", "h.sqlite", "--workers", "1", cwd=tmp)]
    night_json = json.loads((out / "night.json").read_text(encoding="utf-8"))
    c004 = next(c for c in night_json["calls"] if c["call_id"] == "C004")
    rule = next(d["rule"] for i in c004["score"]["items"] for d in i["deductions"])
    (tmp / "v.csv").write_text(f"call_id,rule,verdict,note\nC004,{rule},confirmed,客户留了{PHONE_FORMS[5]}和{ID_FORMS[0]}，{ADDRESS}\n", encoding="utf-8")
    terminal.append(_cli("review", "import", "v.csv", "--db", "h.sqlite", cwd=tmp))
    terminal.append(_cli("-v", "report", str(out), "--out", str(tmp / "rep"), "--db", "h.sqlite", cwd=tmp))
    terminal.append(_cli("agent", "A102", "--db", "h.sqlite", cwd=tmp))
    terminal.append(_cli("inspect", str(src / "C004.json"), "--rules", str(ROOT / "rules"), "--out", str(tmp / "insp"), cwd=tmp))
    terminal.append(_cli("emotion", "score", str(src / "C004.json"), cwd=tmp))
    terminal.append(_cli("emotion", "score", "--json", str(src / "C004.json"), cwd=tmp))
    return tmp, out, "\n".join(terminal)


def _leaks(text):
    return [s for s in SECRETS if s in text]


def test_no_planted_value_in_any_output(night):
    tmp, out, terminal = night
    checked = 0
    for name, text in _texts(tmp):
        rel = Path(name.split(":")[0]).relative_to(tmp)
        if rel.parts[0] in ("in", "cache", "v.csv") or rel.parts[:2] == ("night", "calls") and rel.suffix == ".json" or ".qc" in rel.parts:
            continue  # the inputs, the transcript cache and the results store keep the raw text
        assert _leaks(text) == [], f"{name} shows {_leaks(text)}"
        checked += 1
    assert checked > 20
    assert _leaks(terminal) == [], f"terminal output shows {_leaks(terminal)}"
    assert "138****8000" in (out / "calls" / "C004.html").read_text(encoding="utf-8")
    assert "138****8000" in terminal  # the masked form is what the terminal shows


def test_results_store_keeps_raw_text_owner_only(night):
    _, out, _ = night
    raw = (out / "calls" / "C004.json").read_text(encoding="utf-8")
    assert PHONE_FORMS[5] in raw  # the source for re-review is untouched
    assert stat.S_IMODE((out / "calls").stat().st_mode) == 0o700
    for p in (out / "calls").glob("*.json"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_no_redact_shows_raw_values_but_never_in_history(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    data = json.loads((REFERENCE / "C004.json").read_text(encoding="utf-8"))
    data["utterances"].append({"role": "customer", "channel": 1, "start": 99, "end": 100, "text": f"我要投诉，电话{PHONE_FORMS[0]}，你们太差了"})
    (src / "C004.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "night"
    _cli("score", str(src), "--out", str(out), "--rules", str(ROOT / "rules"), "--db", "h.sqlite", "--workers", "1", "--no-redact", cwd=tmp_path)
    shown = "".join(text for name, text in _texts(out) if not name.endswith(".json") or "/calls/" not in name)
    assert PHONE_FORMS[0] in shown
    db = "\n".join(sqlite3.connect(tmp_path / "h.sqlite").iterdump())
    assert _leaks(db) == []


def test_customer_id_that_is_a_phone_number_is_stored_hashed():
    from types import SimpleNamespace

    from qc.report.history import contact_of

    def call(meta):
        return SimpleNamespace(call_id="X", transcript=SimpleNamespace(meta=meta, agent_id="A1"), emotion=None)

    by_id = contact_of(call({"customer_id": "138 0013 8000"}), "2024-05-20", "t")
    by_phone = contact_of(call({"phone": "13800138000"}), "2024-05-20", "t")
    assert by_id.customer.startswith("h:") and by_id.customer == by_phone.customer  # same customer either way
    assert contact_of(call({"customer_id": "K5012"}), "2024-05-20", "t").customer == "K5012"
