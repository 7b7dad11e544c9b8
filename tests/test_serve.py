"""The reviewer workbench (qc serve) through Starlette's TestClient on the sample night."""

import hashlib
import re
import shutil
import sqlite3

import pytest
from typer.testing import CliRunner

pytest.importorskip("starlette")
pytest.importorskip("httpx")
pytest.importorskip("multipart")

from serve_night import HOSTILE, NIGHT, make_sample_night  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from qc.serve.app import ServeConfig, create_app  # noqa: E402
from qc.serve.auth import hash_password, sign, unsign, verify_password  # noqa: E402
from qc.serve.review import cohen_kappa  # noqa: E402
from qc.serve.store import ReviewStore, StoreError  # noqa: E402

PW = "correct-horse-1"
USERS = {
    "rita": ("reviewer", None, None), "remy": ("reviewer", None, None), "lena": ("lead", "一组", None),
    "leo": ("lead", "二组", None), "wang": ("agent", None, "A101"), "li": ("agent", None, "A102"),
    "chen": ("agent", None, "A201"),
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    night, db = make_sample_night(tmp_path_factory.mktemp("serve"))
    with ReviewStore(db) as store:
        for name, (role, team, agent) in USERS.items():
            store.add_user(name, role, PW, team=team, agent_id=agent)
    return night, db


@pytest.fixture()
def app(sample, tmp_path):
    night, db = sample
    # a fresh copy of the database per test: reviews and claims from one test never leak into another
    copy = tmp_path / "h.sqlite"
    src = sqlite3.connect(db)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    return create_app(ServeConfig(nights=[night], db=copy, audio_cache=tmp_path / "audio-cache"))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" (?:content|value)="([^"]+)"', html).group(1)


def login(app, name: str, password: str = PW) -> tuple[TestClient, str]:
    c = TestClient(app)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": name, "password": password, "csrf": token, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c, csrf_of(c.get("/queue" if USERS[name][0] != "agent" else "/my").text)


def review(c, token, call_id, verdicts=None, added=()):
    r = c.post("/claim", data={"night": NIGHT, "call_id": call_id, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    data = {"csrf": token, "add_rule": [a[0] for a in added] or [""], "add_utt": [str(a[1]) for a in added] or [""],
            "add_note": [a[2] for a in added] or [""]}
    for rule, (v, note) in (verdicts or {}).items():
        data[f"v_{rule}"], data[f"n_{rule}"] = v, note
    r = c.post(f"/call/{NIGHT}/{call_id}/review", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c.get(f"/call/{NIGHT}/{call_id}").text


def reviewed_score(html: str) -> str:
    return re.search(r'id="reviewed-score"[^>]*>([^<]+)<', html).group(1)


def machine_score(html: str) -> str:
    return re.search(r'id="machine-score"[^>]*>([^<]+)<', html).group(1)


# --- auth ---


def test_every_page_needs_a_login(app):
    c = TestClient(app)
    for path in ("/", "/queue", "/my", "/teams", "/disputes", "/calibration", f"/call/{NIGHT}/C003",
                 f"/call/{NIGHT}/C003/audio", "/export/verdicts.csv"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    token = csrf_of(c.get("/login").text)  # a valid anonymous token still does not log anyone in
    for path in ("/claim", f"/call/{NIGHT}/C003/review", f"/call/{NIGHT}/C003/dispute", "/disputes/1", "/logout"):
        assert c.post(path, data={"csrf": token, "night": NIGHT, "call_id": "C003"}).status_code == 401, path


def test_login_redirects_only_inside_the_app(app):
    c = TestClient(app)
    token = csrf_of(c.get("/login").text)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        r = c.post("/login", data={"name": "rita", "password": PW, "csrf": token, "next": target}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/", target
        c = TestClient(app)
        token = csrf_of(c.get("/login").text)


def test_wrong_password_and_forged_cookie_are_refused(app):
    c = TestClient(app)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": "rita", "password": "wrong-password", "csrf": token}, follow_redirects=False)
    assert r.status_code == 401 and "qc_session" not in r.headers.get("set-cookie", "")
    r = c.post("/login", data={"name": "nobody", "password": PW, "csrf": token}, follow_redirects=False)
    assert r.status_code == 401
    forged = sign({"sid": "x", "user": "rita", "exp": 4102444800}, b"not the server's secret")
    c.cookies.set("qc_session", forged)
    assert c.get("/queue", follow_redirects=False).status_code == 303


def test_logout_kills_the_session_cookie(app):
    c, token = login(app, "rita")
    stolen = c.cookies.get("qc_session")
    assert c.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    thief = TestClient(app)
    thief.cookies.set("qc_session", stolen)
    assert thief.get("/queue", follow_redirects=False).status_code == 303  # back to the login page


def test_csrf_is_refused(app):
    c, token = login(app, "rita")
    assert c.post("/claim", data={"night": NIGHT, "call_id": "C003"}).status_code == 403
    assert c.post("/claim", data={"night": NIGHT, "call_id": "C003", "csrf": token[:-2] + "xx"}).status_code == 403
    _, other_token = login(app, "remy")
    assert c.post("/claim", data={"night": NIGHT, "call_id": "C003", "csrf": other_token}).status_code == 403
    assert "复核中: " not in c.get("/queue").text  # nothing was claimed
    anon = TestClient(app)
    anon.get("/login")
    assert anon.post("/login", data={"name": "rita", "password": PW}).status_code == 403  # login form too


def test_roles(app):
    c, _ = login(app, "wang")
    for path in ("/queue", "/disputes", "/teams", "/calibration", "/export/verdicts.csv"):
        assert c.get(path).status_code == 403, path
    c, _ = login(app, "rita")
    for path in ("/disputes", "/teams", "/calibration", "/my"):
        assert c.get(path).status_code == 403, path
    c, _ = login(app, "lena")
    assert all(c.get(p).status_code == 200 for p in ("/queue", "/teams", "/disputes", "/calibration"))
    # a lead sees their own team only
    queue = c.get("/queue").text
    assert "C002" in queue and "C003" not in queue and "C004" in queue
    assert c.get(f"/call/{NIGHT}/C003").status_code == 403


def test_passwords_are_hashed(sample):
    _, db = sample
    stored = sqlite3.connect(db).execute("SELECT pw_hash FROM serve_users WHERE name = 'rita'").fetchone()[0]
    assert stored.startswith("scrypt$") and PW not in stored
    assert verify_password(PW, stored) and not verify_password(PW + "x", stored) and not verify_password(PW, None)
    assert hash_password(PW) != hash_password(PW)  # salted
    assert unsign(sign({"a": 1, "exp": 0}, b"k"), b"k") is None  # expired


# --- queue and call page ---


def test_queue_is_ranked_with_reasons_filters_and_progress(app):
    c, _ = login(app, "rita")
    html = c.get("/queue").text
    order = re.findall(r'data-call="(\w+)"', html)
    assert order[:5] == ["C004", "C003", "C002", "C005", "C006"] and order[-1] == "C007"  # calibration sample last
    assert "风险" in html and "+60" in html  # media and regulator, 30 per kind
    assert re.findall(r'data-call="(\w+)"', c.get("/queue?rule=FORB01").text) == ["C003"]
    assert set(re.findall(r'data-call="(\w+)"', c.get("/queue?team=二组").text)) == {"C003", "C006", "C007"}
    assert re.findall(r'data-call="(\w+)"', c.get("/queue?risk=yes").text) == ["C004"]
    assert set(re.findall(r'data-call="(\w+)"', c.get("/queue?agent=A101").text)) == {"C005"}
    assert "C001" in c.get("/queue?scope=all").text
    review(c, csrf_of(html), "C002", {"IDEN01": ("confirmed", "")})
    html = c.get("/queue").text
    assert re.search(r'id="done">1<', html)
    assert re.findall(r'data-call="(\w+)"', c.get("/queue?status=reviewed").text) == ["C002"]


def test_call_page_escapes_and_masks_text(app):
    c, _ = login(app, "rita")
    html = c.get(f"/call/{NIGHT}/C001").text
    assert HOSTILE.split()[0] not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "13812345678" not in html and "138****5678" in html
    assert "<script src=\"/static/serve.js\"></script>" in html  # the only script, served by the app
    assert "script-src 'self'" in c.get(f"/call/{NIGHT}/C001").headers["content-security-policy"]
    js = c.get("/static/serve.js")
    assert js.status_code == 200 and "timeupdate" in js.text


def test_audio_is_served_with_range_requests(app, sample):
    night, _ = sample
    data = (night / "audio" / "C003.wav").read_bytes()
    c, _ = login(app, "rita")
    url = f"/call/{NIGHT}/C003/audio"
    full = c.get(url)
    assert full.status_code == 200 and full.content == data and full.headers["accept-ranges"] == "bytes"
    part = c.get(url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == data[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    seek = len(data) // 2  # a seek to the middle of the call
    tail = c.get(url, headers={"Range": f"bytes={seek}-"})
    assert tail.status_code == 206 and tail.content == data[seek:]
    assert c.get(url, headers={"Range": f"bytes={len(data) + 10}-"}).status_code == 416


def test_audio_outside_the_night_is_refused(sample, tmp_path):
    import json
    import shutil

    night, db = sample
    copy = tmp_path / "night"
    shutil.copytree(night, copy)
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"RIFF-not-yours")
    # C002 points into the copied night (a relative path); the others lead out of it
    for call_id, path in (("C003", str(outside)), ("C006", "../secret.wav"), ("C005", "/etc/passwd"), ("C002", "audio/C002.wav")):
        f = copy / "calls" / f"{call_id}.json"
        d = json.loads(f.read_text(encoding="utf-8"))
        d["transcript"]["audio"]["path"] = path
        f.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    app = create_app(ServeConfig(nights=[copy], db=db, audio_cache=tmp_path / "cache"))
    c, _ = login(app, "rita")
    for call_id in ("C003", "C006", "C005"):
        r = c.get(f"/call/{NIGHT}/{call_id}/audio")
        assert r.status_code == 403 and b"RIFF-not-yours" not in r.content and b"root:" not in r.content, call_id
        assert 'id="player"' not in c.get(f"/call/{NIGHT}/{call_id}").text
    assert c.get(f"/call/{NIGHT}/C002/audio").content == (copy / "audio" / "C002.wav").read_bytes()  # inside: served
    assert c.get(f"/call/{NIGHT}/C004/audio").status_code == 403  # still the original night's file: outside this one
    # the audio root given on the command line lets the outside file through
    app = create_app(ServeConfig(nights=[copy], db=db, audio_roots=[tmp_path], audio_cache=tmp_path / "cache"))
    c, _ = login(app, "rita")
    assert c.get(f"/call/{NIGHT}/C003/audio").content == b"RIFF-not-yours"


# --- reviewing ---


def test_false_positive_raises_the_reviewed_score_and_leaves_the_night_alone(app, sample):
    night, _ = sample
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in night.rglob("*") if p.is_file()}
    c, token = login(app, "rita")
    html = c.get(f"/call/{NIGHT}/C003").text
    assert machine_score(html) == "85.0" and reviewed_score(html) == "—"
    html = review(c, token, "C003", {"FORB01": ("false_positive", "客户转述，不是坐席说的")})
    assert machine_score(html) == "85.0" and float(reviewed_score(html)) > 85.0
    assert "误报不扣" in html and "客户转述" in html
    assert re.search(r'id="prec-FORB01">0% \(0/1\)', html)  # the rule's precision moved
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in night.rglob("*") if p.is_file()}
    assert before == after
    # confirming instead keeps the machine's deduction; the latest review counts
    html = review(c, token, "C003", {"FORB01": ("confirmed", "")})
    assert reviewed_score(html) == "85.0" and re.search(r'id="prec-FORB01">100% \(1/1\)', html)


def test_precision_counts_verdicts_from_qc_review_import(app, tmp_path):
    from cli import app as cli_app

    db = app.state.workbench.config.db
    (tmp_path / "v.csv").write_text("call_id,rule,verdict,note\nC005,SILN01,false_positive,hold music\n", encoding="utf-8")
    assert CliRunner().invoke(cli_app, ["review", "import", str(tmp_path / "v.csv"), "--db", str(db)]).exit_code == 0
    c, token = login(app, "rita")
    assert re.search(r'id="prec-SILN01">0% \(0/1\)', c.get(f"/call/{NIGHT}/C005").text)
    # the workbench's own review of the call replaces the imported verdict
    html = review(c, token, "C005", {"SILN01": ("confirmed", "")})
    assert re.search(r'id="prec-SILN01">100% \(1/1\)', html)


def test_unsure_changes_nothing_and_a_missed_finding_deducts(app):
    c, token = login(app, "rita")
    assert reviewed_score(review(c, token, "C006", {"INTR01": ("unsure", "听不清")})) == "98.0"
    html = review(c, token, "C001", {}, added=[("FORB01", 1, "漏检: 推诿")])
    assert float(reviewed_score(html)) < 100.0 and "FORB01 #1" in html


def test_claims_keep_two_reviewers_apart(app):
    a, ta = login(app, "rita")
    b, tb = login(app, "remy")
    assert a.post("/claim", data={"night": NIGHT, "call_id": "C003", "csrf": ta}, follow_redirects=False).status_code == 303
    r = b.post("/claim", data={"night": NIGHT, "call_id": "C003", "csrf": tb})
    assert r.status_code == 409 and "rita" in r.text
    r = b.post(f"/call/{NIGHT}/C003/review", data={"csrf": tb, "v_FORB01": "false_positive"})
    assert r.status_code == 409
    assert "复核中: rita" in b.get("/queue").text
    # once reviewed, another reviewer cannot take the call over; a lead can review it again
    review(a, ta, "C003", {"FORB01": ("confirmed", "")})
    r = b.post("/claim", data={"night": NIGHT, "call_id": "C003", "csrf": tb})
    assert r.status_code == 409 and "a lead may review it again" in r.text
    lead, tl = login(app, "leo")
    assert lead.post("/claim", data={"night": NIGHT, "call_id": "C003", "csrf": tl}, follow_redirects=False).status_code == 303
    # the calibration sample takes two reviewers, and no third
    for c, t in ((a, ta), (b, tb)):
        assert c.post("/claim", data={"night": NIGHT, "call_id": "C007", "csrf": t}, follow_redirects=False).status_code == 303
    assert lead.post("/claim", data={"night": NIGHT, "call_id": "C007", "csrf": tl}).status_code == 409


def test_agents_see_only_their_own_reviewed_calls(app):
    rev, token = login(app, "rita")
    review(rev, token, "C002", {"IDEN01": ("confirmed", "")})  # A102's call
    review(rev, token, "C003", {"FORB01": ("confirmed", "")})  # A201's call
    li, _ = login(app, "li")
    assert li.get(f"/call/{NIGHT}/C002").status_code == 200 and "C002" in li.get("/my").text
    assert li.get(f"/call/{NIGHT}/C004").status_code == 404  # their own call, not reviewed yet
    for call_id in ("C003", "C001"):
        assert li.get(f"/call/{NIGHT}/{call_id}").status_code == 404
        assert li.get(f"/call/{NIGHT}/{call_id}/audio").status_code == 404
    assert "C003" not in li.get("/my").text
    wang, wt = login(app, "wang")
    assert wang.post(f"/call/{NIGHT}/C002/dispute", data={"csrf": wt, "rule": "IDEN01", "reason": "x"}).status_code == 404


def test_dispute_overturned_by_the_lead_and_both_kept(app):
    rev, token = login(app, "rita")
    review(rev, token, "C002", {"IDEN01": ("confirmed", "没核身份")})
    li, lt = login(app, "li")
    assert li.post(f"/call/{NIGHT}/C002/dispute", data={"csrf": lt, "rule": "TEMP01", "reason": "没扣这项"}).status_code == 400
    r = li.post(f"/call/{NIGHT}/C002/dispute", data={"csrf": lt, "rule": "IDEN01", "reason": "客户是老客户<b>已核实</b>"},
                follow_redirects=False)
    assert r.status_code == 303
    leo, _ = login(app, "leo")  # another team's lead does not see it
    assert "C002" not in leo.get("/disputes").text
    lena, lt2 = login(app, "lena")
    page = lena.get("/disputes").text
    assert "&lt;b&gt;已核实&lt;/b&gt;" in page and "待处理" in page
    dispute_id = re.search(r'data-id="(\d+)"', page).group(1)
    assert leo.post(f"/disputes/{dispute_id}", data={"csrf": csrf_of(leo.get("/queue").text), "decision": "overturned"}).status_code == 404
    r = lena.post(f"/disputes/{dispute_id}", data={"csrf": lt2, "decision": "overturned", "note": "录音里有核身"}, follow_redirects=False)
    assert r.status_code == 303
    html = li.get(f"/call/{NIGHT}/C002").text
    assert reviewed_score(html) == "100.0" and machine_score(html) == "90.0"
    assert "客户是老客户" in html and "录音里有核身" in html and "已撤销扣分" in html
    assert "dispute:" in html  # the lead's review is a new review; the reviewer's stays in the record
    assert lena.post(f"/disputes/{dispute_id}", data={"csrf": lt2, "decision": "upheld"}).status_code == 400  # decided once


def test_dispute_upheld_keeps_the_deduction(app):
    rev, token = login(app, "rita")
    review(rev, token, "C002", {"IDEN01": ("confirmed", "")})
    li, lt = login(app, "li")
    li.post(f"/call/{NIGHT}/C002/dispute", data={"csrf": lt, "rule": "IDEN01", "reason": "不同意"})
    lena, t = login(app, "lena")
    dispute_id = re.search(r'data-id="(\d+)"', lena.get("/disputes").text).group(1)
    lena.post(f"/disputes/{dispute_id}", data={"csrf": t, "decision": "upheld", "note": "确未核身"})
    html = li.get(f"/call/{NIGHT}/C002").text
    assert reviewed_score(html) == "90.0" and "维持扣分" in html and "不同意" in html


def test_calibration_kappa_and_rule_agreement(app):
    a, ta = login(app, "rita")
    b, tb = login(app, "remy")
    review(a, ta, "C007", {}, added=[("FORB01", 2, "")])
    review(b, tb, "C007", {})
    for call_id, rule in (("C003", "FORB01"), ("C005", "SILN01"), ("C006", "INTR01")):
        review(a, ta, call_id, {rule: ("false_positive", "")})
    lena, _ = login(app, "lena")
    html = lena.get("/calibration").text
    assert re.search(r'id="kappa-sample">-?\d\.\d\d<', html)  # two reviewers on the calibration call
    row = re.search(r'id="rule-FORB01">(.*?)</tr>', html, re.S).group(1)
    assert "0%" in row  # one false positive, no confirmation


def test_cohen_kappa():
    assert cohen_kappa([]) is None
    assert cohen_kappa([(1, 1), (0, 0), (1, 1), (0, 0)]) == 1.0
    assert cohen_kappa([(1, 0), (0, 1)]) == pytest.approx(-1.0)
    # 20 items: both yes 7, a yes b no 3, a no b yes 2, both no 8 -> po 0.75, pe 0.5 -> kappa 0.5
    pairs = [(1, 1)] * 7 + [(1, 0)] * 3 + [(0, 1)] * 2 + [(0, 0)] * 8
    assert cohen_kappa(pairs) == pytest.approx(0.5)


def test_verdicts_export_reads_back_into_qc_review_import_and_the_workbench(app, sample, tmp_path):
    from cli import app as cli_app

    c, token = login(app, "rita")
    review(c, token, "C003", {"FORB01": ("false_positive", "转述, 非坐席原话"), "TEMP01": ("unsure", "")})
    review(c, token, "C002", {"IDEN01": ("confirmed", "")})
    csv_text = c.get("/export/verdicts.csv").content.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("call_id,rule,verdict,note") and len(lines) == 3  # unsure is left out
    path = tmp_path / "verdicts.csv"
    path.write_text(csv_text, encoding="utf-8")
    other = tmp_path / "other.sqlite"  # another copy of the night's history: qc review import needs its calls stored
    shutil.copyfile(sample[1], other)
    res = CliRunner().invoke(cli_app, ["review", "import", str(path), "--db", str(other)])
    assert res.exit_code == 0 and "2 verdicts" in res.output, res.output
    lena, lt = login(app, "lena")
    flipped = csv_text.replace("C002,IDEN01,confirmed", "C002,IDEN01,false_positive")
    r = lena.post("/import/verdicts", data={"csrf": lt}, files={"file": ("v.csv", flipped.encode("utf-8-sig"), "text/csv")},
                  follow_redirects=False)
    assert r.status_code == 303, r.text
    assert reviewed_score(c.get(f"/call/{NIGHT}/C002").text) == "100.0"
    r = lena.post("/import/verdicts", data={"csrf": lt}, files={"file": ("bad.csv", b"call_id,rule,verdict\nC999,X,maybe\n", "text/csv")})
    assert r.status_code == 400 and "bad.csv:2" in r.text


# --- CLI ---


def test_users_cli(tmp_path):
    from cli import app as cli_app

    db = str(tmp_path / "h.sqlite")
    runner = CliRunner()
    res = runner.invoke(cli_app, ["users", "add", "amy", "--role", "lead", "--team", "一组", "--db", db], input="s3cret-pass\ns3cret-pass\n")
    assert res.exit_code == 0 and "amy (lead, team 一组)" in res.output, res.output
    res = runner.invoke(cli_app, ["users", "add", "amy", "--role", "lead", "--db", db], input="s3cret-pass\ns3cret-pass\n")
    assert res.exit_code == 2 and "exists" in res.output
    res = runner.invoke(cli_app, ["users", "add", "bob", "--role", "boss", "--db", db], input="s3cret-pass\ns3cret-pass\n")
    assert res.exit_code == 2 and "reviewer, lead, agent, admin" in res.output
    res = runner.invoke(cli_app, ["users", "add", "bob", "--role", "agent", "--db", db, "--password", "short"])
    assert res.exit_code == 2 and "8 characters" in res.output
    res = runner.invoke(cli_app, ["users", "list", "--db", db])
    assert "amy\tlead\t一组" in res.output
    with ReviewStore(db) as store:
        assert store.login("amy", "s3cret-pass").role == "lead" and store.login("amy", "wrong") is None
        with pytest.raises(StoreError):
            store.add_user("a b", "reviewer", "longenough")


def test_serve_cli_refuses_an_empty_user_table_and_a_bad_night(tmp_path, sample):
    from cli import app as cli_app

    night, _ = sample
    res = CliRunner().invoke(cli_app, ["serve", str(night), "--db", str(tmp_path / "empty.sqlite")])
    assert res.exit_code == 2 and "qc users add" in res.output
    with ReviewStore(tmp_path / "h.sqlite") as store:
        store.add_user("adm", "admin", "longenough")
    res = CliRunner().invoke(cli_app, ["serve", str(tmp_path), "--db", str(tmp_path / "h.sqlite")])
    assert res.exit_code == 2 and "no calls/ folder" in res.output


def test_spoken_personal_numbers_are_replaced_by_a_tone(sample, tmp_path):
    import json
    import shutil
    import wave

    import numpy as np

    from qc.ingest import decode_audio

    night, db = sample
    copy = tmp_path / "night"
    shutil.copytree(night, copy)
    f = copy / "calls" / "C002.json"
    d = json.loads(f.read_text(encoding="utf-8"))
    u = d["transcript"]["utterances"][1]  # a customer line; it now reads out a mobile number between 1.0 s and 2.0 s
    start = u["start"]
    u["text"] = "我的号码是13812345678"
    u["words"] = [{"start": start, "end": start + 1.0, "text": "我的号码是", "probability": 0.9},
                  {"start": start + 1.0, "end": start + 2.0, "text": "13812345678", "probability": 0.9}]
    d["transcript"]["audio"]["path"] = "audio/C002.wav"
    f.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    app = create_app(ServeConfig(nights=[copy], db=db, audio_cache=tmp_path / "cache"))
    c, _ = login(app, "rita")
    r = c.get(f"/call/{NIGHT}/C002/audio")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    served = tmp_path / "served.wav"
    served.write_bytes(r.content)
    with wave.open(str(served)) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        got = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, channels).T / 32767.0
    original = decode_audio(copy / "audio" / "C002.wav", sample_rate=rate).samples
    inside = slice(int((start + 1.2) * rate), int((start + 1.8) * rate))
    before = slice(0, int((start + 0.7) * rate))
    assert np.abs(got[:, before] - original[:, before]).max() < 1e-3  # untouched before the number
    tone = 0.2 * np.sin(2 * np.pi * 1000.0 * np.arange(inside.start, inside.stop) / rate)
    assert np.abs(got[:, inside] - tone).max() < 1e-3 and np.abs(original[:, inside] - tone).max() > 0.05
    part = c.get(f"/call/{NIGHT}/C002/audio", headers={"Range": "bytes=100-299"})
    assert part.status_code == 206 and part.content == r.content[100:300]  # the masked copy seeks too
    assert list((tmp_path / "cache").glob("*.wav"))  # made once, kept
    assert (copy / "audio" / "C002.wav").read_bytes() == (night / "audio" / "C002.wav").read_bytes()


def test_a_night_scored_without_its_report_gets_the_same_queue(sample, tmp_path):
    import shutil

    night, db = sample
    copy = tmp_path / "night"
    shutil.copytree(night, copy)
    (copy / "night.json").unlink()  # as `qc score --no-report` leaves it
    app = create_app(ServeConfig(nights=[copy], db=db, audio_cache=tmp_path / "cache"))
    assert list(app.state.workbench.nights) == [NIGHT]
    c, _ = login(app, "rita")
    order = re.findall(r'data-call="(\w+)"', c.get("/queue").text)
    assert order[:5] == ["C004", "C003", "C002", "C005", "C006"] and len(order) == 6


def test_session_key_lives_in_a_0600_file_not_in_the_database(sample, tmp_path, monkeypatch):
    import os
    import stat

    from qc.serve.auth import SecretError, load_secret, secret_path

    night, db = sample
    copy = tmp_path / "k.sqlite"
    shutil.copyfile(db, copy)
    with sqlite3.connect(copy) as con:  # a database from before the move: the key is taken out of it
        con.execute("INSERT OR REPLACE INTO serve_meta VALUES ('secret', ?)", ("ab" * 32,))
    monkeypatch.delenv("QC_SECRET", raising=False)
    app = create_app(ServeConfig(nights=[night], db=copy, audio_cache=tmp_path / "a"))
    key = secret_path(copy)
    assert key.is_file() and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert app.state.workbench.secret == bytes.fromhex("ab" * 32)  # sessions signed before the move stay valid
    with sqlite3.connect(copy) as con:
        assert con.execute("SELECT COUNT(*) FROM serve_meta WHERE key = 'secret'").fetchone()[0] == 0
    c, _ = login(app, "rita")  # and the app works with it
    assert c.get("/queue").status_code == 200
    assert create_app(ServeConfig(nights=[night], db=copy, audio_cache=tmp_path / "a")).state.workbench.secret == bytes.fromhex("ab" * 32)
    os.chmod(key, 0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        load_secret(copy)
    monkeypatch.setenv("QC_SECRET", "short")
    with pytest.raises(SecretError, match="32 characters"):
        load_secret(copy)
    monkeypatch.setenv("QC_SECRET", "x" * 40)
    assert load_secret(copy) == b"x" * 40


def test_only_a_permitted_user_unmasks_and_every_unmask_is_logged(app, sample):
    night, _ = sample
    store = app.state.workbench.store
    store.add_user("ada", "admin", PW)
    with pytest.raises(StoreError, match="agents may not unmask"):
        store.add_user("zhao", "agent", PW, unmask=True)
    original = (night / "audio" / "C001.wav").read_bytes()

    rita, rtoken = login(app, "rita")  # a reviewer without the permission: masked, toned, refused
    html = rita.get(f"/call/{NIGHT}/C001").text
    assert "13812345678" not in html and 'id="unmask"' not in html
    r = rita.post(f"/call/{NIGHT}/C001/unmask", data={"csrf": rtoken, "reason": "看看"}, follow_redirects=False)
    assert r.status_code == 403
    assert rita.get(f"/call/{NIGHT}/C001/audio").content != original

    ada = TestClient(app)
    token = csrf_of(ada.get("/login").text)
    ada.post("/login", data={"name": "ada", "password": PW, "csrf": token, "next": "/"})
    html = ada.get(f"/call/{NIGHT}/C001").text
    token = csrf_of(html)
    assert "13812345678" not in html and 'id="unmask"' in html  # masked until asked for, even for an admin
    r = ada.post(f"/call/{NIGHT}/C001/unmask", data={"csrf": token, "reason": ""}, follow_redirects=False)
    assert r.status_code == 400  # a reason is required
    r = ada.post(f"/call/{NIGHT}/C001/unmask", data={"csrf": token, "reason": "客户投诉核实号码"}, follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    grant = url.split("unmask=")[1]
    html = ada.get(url).text
    assert "13812345678" in html and 'id="unmasked"' in html and f"/audio?unmask={grant}" in html
    assert ada.get(f"/call/{NIGHT}/C001/audio?unmask={grant}").content == original
    assert ada.get(f"/call/{NIGHT}/C001/audio").content != original  # without the grant: toned
    assert "13812345678" not in ada.get(f"/call/{NIGHT}/C002?unmask={grant}").text  # the grant is for C001 only
    log = store.unmasks(NIGHT, "C001")
    assert [(x.user, x.call_id, x.reason) for x in log] == [("ada", "C001", "客户投诉核实号码")] and log[0].at
    # someone else's grant unmasks nothing
    assert "13812345678" not in rita.get(url).text
    assert rita.get(f"/call/{NIGHT}/C001/audio?unmask={grant}").content != original

    store.add_user("lena", "lead", PW, team="一组", replace=True, unmask=True)  # a lead given the permission
    lena, ltoken = login(app, "lena")
    r = lena.post(f"/call/{NIGHT}/C001/unmask", data={"csrf": ltoken, "reason": "质检申诉"}, follow_redirects=False)
    assert r.status_code == 303 and "13812345678" in lena.get(r.headers["location"]).text
    assert [x.user for x in store.unmasks(NIGHT, "C001")] == ["lena", "ada"]
