"""Rule test cases may say which line a hit quotes (`expect: hit` with `at: 2`, semgrep's ruleid habit)."""

from __future__ import annotations

from pathlib import Path

from qc.rules import check_rules, run_rule_tests

RULE = """\
rules:
  - code: FORB09
    name: etiquette.blame_test
    description: {what: 坐席不得推诿。, why: 推诿引发投诉。}
    category: 服务规范
    severity: major
    polarity: forbidden
    message: 推诿
    match: {type: keyword, role: agent, any: [不归我管]}
    tests:
CASES
"""

TRANSCRIPT = "[{agent: 您好，请讲。}, {agent: 这个不归我管。}, {customer: 那归谁管？}, {agent: 真的不归我管。}]"


def _load(tmp_path: Path, cases: list[str]):
    text = RULE.replace("CASES", "\n".join(f"      - {c}" for c in cases + ["{expect: no_hit, transcript: [{agent: 好的。}]}"]))
    path = tmp_path / "rule.yaml"
    path.write_text(text, encoding="utf-8")
    return check_rules(path)


def test_at_names_exactly_the_lines_the_findings_quote(tmp_path):
    rules, errors = _load(tmp_path, [
        f"{{name: right lines, expect: hit, at: [2, 4], transcript: {TRANSCRIPT}}}",
        f"{{name: one line missing, expect: hit, at: 2, transcript: {TRANSCRIPT}}}",
        f"{{name: wrong line, expect: hit, at: [3, 4], count: 2, transcript: {TRANSCRIPT}}}",
    ])
    assert errors == []
    results = {r.case.name: r for r in run_rule_tests(rules)}
    assert results["right lines"].ok
    assert not results["one line missing"].ok  # line 4 is quoted too, and at: 2 says only line 2
    wrong = results["wrong line"]
    assert not wrong.ok and wrong.findings == 2  # the count is right, the lines are not
    assert str(wrong).endswith("expected hit (count 2) at line 3, 4, got 2 finding(s) at line 2, 4")


def test_at_is_validated_with_the_line_it_is_on(tmp_path):
    rules, errors = _load(tmp_path, [
        f"{{expect: hit, transcript: {TRANSCRIPT}}}",
        f"{{expect: no_hit, at: 2, transcript: {TRANSCRIPT}}}",
        f"{{expect: hit, at: 0, transcript: {TRANSCRIPT}}}",
        f"{{expect: hit, at: '2', transcript: {TRANSCRIPT}}}",
        f"{{expect: hit, at: 5, transcript: {TRANSCRIPT}}}",
    ])
    found = [(e.pos.line, e.code, e.message) for e in errors]
    assert [(line, code) for line, code, _ in found] == [(12, "RUL032"), (13, "RUL032"), (14, "RUL032"), (15, "RUL032")]
    assert "use it with expect: hit" in found[0][2]
    assert "line 5 is not in the transcript (it has 4 lines)" in found[3][2]
