"""The rules JSON Schema and the docs' condition table are generated from the registry and never drift."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from qc.rules import loader
from qc.rules.registry import REGISTRY, all_conditions, condition
from qc.rules.schema import condition_table, generated_files, rules_schema

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_schema_and_docs_table_are_up_to_date():
    for path, text in generated_files(ROOT).items():
        assert path.read_text(encoding="utf-8") == text, f"{path.relative_to(ROOT)} is out of date: run python3 -m qc.rules.schema"


def _errors(rule_file: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(rules_schema())
    return [e.message for e in validator.iter_errors(rule_file)]


def _rule(match: dict, **extra) -> dict:
    return {"rules": [{
        "code": "TEST01", "name": "test.rule", "description": {"what": "w", "why": "y"}, "category": "服务规范",
        "severity": "minor", "polarity": "forbidden", "message": "m", "match": match,
        "tests": [{"expect": "hit", "transcript": [{"agent": "甲"}]}, {"expect": "no_hit", "transcript": [{"agent": "乙"}]}],
        **extra,
    }]}


def test_every_condition_parameter_comes_from_its_signature():
    schema = rules_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    by_type = {c["properties"]["type"]["const"]: c for c in schema["$defs"]["condition"]["anyOf"] if "type" in c["properties"]}
    assert set(by_type) == set(all_conditions())
    regex = by_type["regex"]
    assert regex["required"] == ["type", "pattern"]
    assert regex["properties"]["on"] == {"type": "string", "default": "normalized"}
    assert by_type["sequence"]["properties"]["when"] == {"$ref": "#/$defs/condition"}
    assert _errors(_rule({"type": "keyword", "any": ["不归我管"], "role": "agent"})) == []
    assert _errors(_rule({"any": [{"type": "regex", "pattern": "a"}, {"not": {"type": "keyword", "any": ["b"]}}]})) == []
    assert _errors(_rule({"type": "regex"}))  # missing required parameter
    assert _errors(_rule({"type": "keyword", "any": ["a"], "anny": ["b"]}))  # unknown parameter
    assert _errors(_rule({"type": "silence", "min_seconds": "ten"}))  # wrong type


def test_a_new_condition_type_is_one_function():
    @condition("schema_probe")
    def schema_probe(ctx, scope, *, phrase: str, times: int = 2, role: str | None = None) -> list:
        """Probe: ``phrase`` said ``times`` times."""
        return []

    try:
        [probe] = [c for c in rules_schema()["$defs"]["condition"]["anyOf"] if c["properties"].get("type") == {"const": "schema_probe"}]
        assert probe["required"] == ["type", "phrase"]
        assert probe["properties"]["times"] == {"type": "integer", "default": 2}
        assert probe["properties"]["role"] == {"type": ["string", "null"]}
        assert "| `schema_probe` | `phrase` str (required) · `times` int = 2 · `role` str |  | Probe: `phrase` said `times` times. |" in condition_table()
    finally:
        del REGISTRY["schema_probe"]


def test_rule_keys_come_from_the_loader_and_their_types_from_rule(monkeypatch):
    rule = rules_schema()["$defs"]["rule"]
    assert set(rule["properties"]) == loader.RULE_KEYS
    assert rule["required"] == list(loader.REQUIRED_RULE_KEYS)
    assert rule["properties"]["enabled"] == {"type": "boolean"}  # from Rule.enabled: bool
    assert set(rule["properties"]["scope"]["properties"]) == set(all_conditions()["scope"].params) - {"match"}
    assert set(rule["properties"]["tests"]["items"]["properties"]) == loader.TEST_KEYS
    monkeypatch.setattr(loader, "RULE_KEYS", loader.RULE_KEYS | {"colour"})
    with pytest.raises(ValueError, match="colour"):
        rules_schema()

