"""Hardening of user-written YAML (issue 12): billion laughs, size cap, `on:` as a key."""
import resource

import pytest

from qc.yamlfile import MAX_BYTES, YamlFileError, load_yaml, parse_yaml

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)
)


def test_billion_laughs_refused_fast_with_position():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(YamlFileError) as e:  # refused at the first alias, before any expansion
        parse_yaml(LAUGHS, "laughs.yaml")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # kB
    err = e.value.errors[0]
    assert err.code == "YAML006" and err.pos.line == 2 and "alias" in err.message


def test_rule_loader_refuses_alias(tmp_path):
    from qc.rules import check_rules

    f = tmp_path / "r.yaml"
    f.write_text(LAUGHS, encoding="utf-8")
    rules, errors = check_rules(f)
    assert len(rules.rules) == 0 and any("YAML006" in str(x) and "r.yaml:2:" in str(x) for x in errors)


def test_file_over_one_megabyte_refused(tmp_path):
    f = tmp_path / "big.yaml"
    f.write_text("# " + "x" * MAX_BYTES + "\nrules: []\n", encoding="utf-8")
    with pytest.raises(YamlFileError) as e:
        load_yaml(f)
    assert "big.yaml:1:1" in str(e.value) and "1 MB" in str(e.value)


def test_on_is_a_string_key_and_yes_no_are_strings():
    doc = parse_yaml("on: raw\noff: 1\nyes: no\nflag: true\nother: False\n")
    assert doc.data == {"on": "raw", "off": 1, "yes": "no", "flag": True, "other": False}


def test_regex_condition_accepts_on_raw(tmp_path):
    from qc.rules import check_rules

    src = (
        "rules:\n"
        "  - code: TEST01\n    name: test.on_raw\n    category: 沟通技巧\n    severity: minor\n    polarity: forbidden\n"
        "    description: {what: w, why: y}\n    message: m\n"
        "    match: {type: regex, pattern: 'ABC', on: raw}\n"
        "    tests:\n      - {name: t, expect: hit, transcript: [{agent: ABC}]}\n"
        "      - {name: u, expect: no_hit, transcript: [{agent: abc}]}\n"
    )
    f = tmp_path / "r.yaml"
    f.write_text(src, encoding="utf-8")
    _, errors = check_rules(f)
    assert errors == [], errors
