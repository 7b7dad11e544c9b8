"""qc.yamlfile: positions, duplicate keys, all errors at once, did-you-mean."""

import pytest

from qc.yamlfile import Problems, YamlFileError, check_keys, expect_type, load_yaml, parse_yaml

TEXT = """\
name: x
items:
  - code: A1
    code: A2
  - plain
nested: {k: 1}
"""


def test_positions_are_one_based_for_keys_values_and_items():
    doc = parse_yaml(TEXT, "f.yaml")
    assert doc.data["name"] == "x"
    assert str(doc.data.where_key("items")) == "f.yaml:2:1"
    assert str(doc.data["items"].where(1)) == "f.yaml:5:5"
    assert str(doc.data["items"][0].where("code")) == "f.yaml:3:11"
    assert doc.line(4) == "    code: A2"


def test_duplicate_key_is_reported_with_both_lines_and_first_value_kept():
    doc = parse_yaml(TEXT, "f.yaml")
    assert [str(e) for e in doc.errors] == ["f.yaml:4:5: YAML002 duplicate key 'code' (first defined at line 3)"]
    assert doc.data["items"][0]["code"] == "A1"


def test_syntax_error_carries_line_and_col():
    with pytest.raises(YamlFileError) as err:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    (e,) = err.value.errors
    assert e.code == "YAML001" and e.pos.file == "bad.yaml" and e.pos.line >= 2


def test_check_keys_collects_every_error_with_hint():
    doc = parse_yaml("nmae: x\nitems: 1\nbogus: 2\n", "f.yaml")
    problems = Problems()
    check_keys(doc.data, allowed={"name", "items"}, required={"name"}, problems=problems)
    expect_type(doc.data["items"], list, doc.data.where("items"), problems, "items")
    msgs = sorted(str(e) for e in problems.errors)
    assert "f.yaml:1:1: YAML010 unknown key 'nmae'; did you mean 'name'?" in msgs
    assert "f.yaml:3:1: YAML010 unknown key 'bogus'" in msgs
    assert "f.yaml:1:1: YAML011 missing required key 'name'" in msgs
    assert any(m.startswith("f.yaml:2:8: YAML012 items must be a list") for m in msgs)
    with pytest.raises(YamlFileError) as err:
        problems.raise_if_any()
    assert len(err.value.errors) == 4


def test_bool_is_not_a_number(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("n: yes\n", encoding="utf-8")
    doc = load_yaml(p)
    problems = Problems()
    assert not expect_type(doc.data["n"], (int, float), doc.data.where("n"), problems, "n")


def test_missing_file():
    with pytest.raises(YamlFileError, match="no such file"):
        load_yaml("/nonexistent/rules.yaml")
