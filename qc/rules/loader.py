"""Load and strictly validate rule files; every problem is reported as ``file:line:col: CODE message``.

Error codes: ``YAML0xx`` (syntax, duplicate keys, unknown/missing keys, wrong types: see
qc.yamlfile) and ``RUL0xx``:

=======  =====================================================================
RUL001   duplicate rule code (or dotted name)
RUL002   malformed code / name
RUL003   unknown category (did you mean ...)
RUL004   unknown severity or polarity
RUL005   unknown channel (voice / chat / ticket) or an empty channels list
RUL006   documentation missing (description what / why, message)
RUL010   unknown condition type (did you mean ...)
RUL011   unknown condition parameter (did you mean ...)
RUL012   missing condition parameter
RUL013   wrong parameter type or value
RUL020   invalid regular expression
RUL021   empty keyword list or phrase
RUL022   a window or threshold that can never match
RUL030   no positive test case (one expected to hit)
RUL031   no negative test case (one expected not to hit)
RUL032   malformed test case
=======  =====================================================================

This module reads rule files and rule entries; a ``match:`` tree is compiled by
:mod:`qc.rules.compiler` and ``tests:`` cases are read by :mod:`qc.rules.cases`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from qc.rules.cases import LINE_KEYS, TEST_KEYS, load_tests  # noqa: F401  (the keys: read as loader.*_KEYS by qc.rules.schema)
from qc.rules.compiler import compile_condition
from qc.rules.model import CATEGORIES, POLARITIES, SEVERITIES, Rule, RuleSet
from qc.rules.registry import Cond
from qc.types import CHANNELS
from qc.yamlfile import (
    Pos,
    Problems,
    YamlError,
    YamlFileError,
    YList,
    YMap,
    check_keys,
    did_you_mean,
    expect_type,
    load_each,
    type_name,
)

__all__ = ["RuleFileError", "load_rules", "check_rules", "rule_files"]

RULE_KEYS = {
    "code", "name", "description", "category", "severity", "polarity", "message", "match", "scope",
    "when", "channels", "review_below", "max_findings", "enabled", "tags", "tests",
}
REQUIRED_RULE_KEYS = ("code", "name", "description", "category", "severity", "polarity", "message", "match", "tests")
DESCRIPTION_KEYS = {"what", "why", "example"}
CODE_RE = re.compile(r"^[A-Z]{2,8}[0-9]{2,3}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class RuleFileError(YamlFileError):
    """Rule files with problems; ``errors`` holds every one of them (file:line:col: CODE message)."""


def rule_files(path: str | Path) -> list[Path]:
    """The rule files at ``path``: the file itself, or every ``*.yaml``/``*.yml`` below a folder."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def check_rules(path: str | Path) -> tuple[RuleSet, list[YamlError]]:
    """Load rules and return them with every problem found (an empty list when the files are clean)."""
    problems = Problems()
    rules: list[Rule] = []
    ids: list[tuple[str, str, Pos]] = []  # (attr, value, where) of every rule, valid or not
    files = rule_files(path)
    if not files:
        problems.add(Pos(str(path), 1, 1), "RUL000", "no rule files (*.yaml) here")
    for doc in load_each(files, problems):
        rules.extend(_load_file(doc.data, doc.path, problems, ids))
    _check_unique(ids, problems)
    errors = sorted(problems.errors, key=lambda e: (e.pos.file, e.pos.line, e.pos.col, e.code))
    return RuleSet(rules, [str(f) for f in files]), errors


def load_rules(path: str | Path) -> RuleSet:
    """Load a rule file or a folder of rule files, validating strictly.

    Raises:
        RuleFileError: any problem in any file; ``errors`` lists them all as file:line:col.
    """
    rules, errors = check_rules(path)
    if errors:
        raise RuleFileError(errors)
    return rules


def _check_unique(ids: list[tuple[str, str, Pos]], problems: Problems) -> None:
    seen: dict[tuple[str, str], Pos] = {}
    for attr, value, pos in ids:
        first = seen.get((attr, value))
        if first is not None:
            problems.add(pos, "RUL001", f"duplicate rule {attr} {value!r} (also at {first.file}:{first.line})")
        else:
            seen[(attr, value)] = pos


def _load_file(data: Any, file: str, problems: Problems, ids: list[tuple[str, str, Pos]]) -> list[Rule]:
    if data is None:
        problems.add(Pos(file, 1, 1), "YAML011", "empty file; expected `rules:` with a list of rules")
        return []
    if not isinstance(data, YMap):
        problems.add(Pos(file, 1, 1), "YAML012", f"a rule file is a mapping with `rules:`, not {type_name(data)}")
        return []
    check_keys(data, allowed={"rules", "version"}, required={"rules"}, problems=problems)
    items = data.get("rules")
    if not isinstance(items, YList):
        if "rules" in data:
            expect_type(items, list, data.where("rules"), problems, "rules")
        return []
    out = []
    for n, item in enumerate(items):
        if not isinstance(item, YMap):
            problems.add(items.where(n), "YAML012", f"each rule is a mapping, not {type_name(item)}")
            continue
        for attr in ("code", "name"):
            if isinstance(item.get(attr), str):
                ids.append((attr, item[attr], item.where(attr)))
        rule = _load_rule(item, file, problems)
        if rule is not None:
            out.append(rule)
    return out


def _str(m: YMap, key: str, problems: Problems, what: str | None = None) -> str:
    v = m.get(key)
    if v is None:
        return ""
    if not expect_type(v, str, m.where(key), problems, what or key):
        return ""
    return v


def _choice(m: YMap, key: str, choices: tuple[str, ...], problems: Problems, code: str) -> str:
    v = _str(m, key, problems)
    if v and v not in choices:
        problems.add(m.where(key), code, f"{key} {v!r} is not one of {', '.join(choices)}{did_you_mean(v, choices)}")
    return v


def _load_rule(m: YMap, file: str, problems: Problems) -> Rule | None:
    n_before = len(problems)
    code, name, where = read_code_name(m, problems, kind="rule", allowed=RULE_KEYS, required=REQUIRED_RULE_KEYS,
                                       error="RUL002", examples=("OPEN01", "opening.greeting"))
    category = _choice(m, "category", CATEGORIES, problems, "RUL003")
    severity = _choice(m, "severity", SEVERITIES, problems, "RUL004")
    polarity = _choice(m, "polarity", POLARITIES, problems, "RUL004")
    message = _str(m, "message", problems)
    if "message" in m and not message.strip():
        problems.add(m.where("message"), "RUL006", f"{where}: message is empty")

    what = why = example = ""
    desc = m.get("description")
    if isinstance(desc, YMap):
        check_keys(desc, allowed=DESCRIPTION_KEYS, required=("what", "why"), problems=problems, where=f"{where} description")
        what, why, example = (_str(desc, k, problems, f"description.{k}") for k in ("what", "why", "example"))
        for k, v in (("what", what), ("why", why)):
            if k in desc and not v.strip():
                problems.add(desc.where(k), "RUL006", f"{where}: description.{k} is empty; say {'what the rule checks' if k == 'what' else 'why it matters'}")
    elif desc is not None:
        problems.add(m.where("description"), "RUL006", f"{where}: description must be a mapping with what: and why:")

    match = compile_condition(m.get("match"), m.where("match"), problems) if "match" in m else None
    evidence_scope = None
    if "scope" in m and match is not None:
        scope_node = m["scope"]
        if isinstance(scope_node, YMap):
            wrapped = YMap(scope_node)
            wrapped.pos, wrapped.key_pos, wrapped.value_pos = scope_node.pos, dict(scope_node.key_pos), dict(scope_node.value_pos)
            wrapped["type"] = "scope"
            evidence_scope = compile_condition(wrapped, scope_node.pos, problems)
            if evidence_scope is not None:
                match = Cond(evidence_scope.type, {**evidence_scope.params, "match": match}, evidence_scope.where)
        else:
            expect_type(scope_node, dict, m.where("scope"), problems, "scope")

    when: dict[str, Any] = {}
    if "when" in m:
        node = m["when"]
        if expect_type(node, dict, m.where("when"), problems, "when"):
            for k, v in node.items():
                if isinstance(v, (YMap,)) or v is None:
                    problems.add(node.where(k), "YAML012", f"when.{k} must be a value or a list of values")
                else:
                    when[str(k)] = frozenset(str(x) for x in v) if isinstance(v, list) else frozenset([str(v)])

    channels = _channels(m, problems)

    review_below = m.get("review_below")
    if review_below is not None and expect_type(review_below, (int, float), m.where("review_below"), problems, "review_below"):
        if not 0 <= review_below <= 1:
            problems.add(m.where("review_below"), "RUL013", "review_below is an ASR confidence in [0, 1]")
    max_findings = m.get("max_findings")
    if max_findings is not None and expect_type(max_findings, int, m.where("max_findings"), problems, "max_findings") and max_findings < 1:
        problems.add(m.where("max_findings"), "RUL022", "max_findings must be 1 or more")
    enabled = m.get("enabled", True)
    expect_type(enabled, bool, m.where("enabled"), problems, "enabled")
    tags = m.get("tags") or []
    expect_type(tags, list, m.where("tags"), problems, "tags")

    tests = load_tests(m, file, problems, where)
    if match is None or len(problems) > n_before:
        return None
    return Rule(
        code=code, name=name, what=what, why=why, example=example, category=category, severity=severity,
        polarity=polarity, message=message, match=match, when=when, channels=channels, evidence_scope=evidence_scope,
        review_below=review_below, max_findings=max_findings, enabled=bool(enabled), tags=[str(t) for t in tags],
        tests=tests, file=file, line=m.where_key("code").line,
    )


def _channels(m: YMap, problems: Problems) -> tuple[str, ...]:
    """``channels:`` a list of voice / chat / ticket (or one of them); absent: every channel."""
    if "channels" not in m:
        return ()
    node = m["channels"]
    if isinstance(node, str):
        node = [node]
        where = [m.where("channels")]
    elif expect_type(node, list, m.where("channels"), problems, "channels"):
        where = [node.where(i) for i in range(len(node))]
    else:
        return ()
    if not node:
        problems.add(m.where("channels"), "RUL005", f"channels is empty; list some of {', '.join(CHANNELS)} or leave it out for all")
        return ()
    out = []
    for value, pos in zip(node, where):
        if not isinstance(value, str) or value not in CHANNELS:
            problems.add(pos, "RUL005", f"channel {value!r} is not one of {', '.join(CHANNELS)}{did_you_mean(str(value), CHANNELS)}")
        elif value in out:
            problems.add(pos, "RUL005", f"channel {value!r} is listed twice")
        else:
            out.append(value)
    return tuple(out)


# --- public helpers for other YAML formats whose entries are rule-like (the VOC taxonomy) ---

__all__ += ["read_str", "read_code_name", "compile_condition", "load_tests"]


def read_str(m: YMap, key: str, problems: Problems, what: str | None = None) -> str:
    """The string at ``key`` of a mapping read from YAML: "" when absent, "" and a ``YAML0xx``
    problem at its file:line:col when it is not a string."""
    return _str(m, key, problems, what)


def read_code_name(m: YMap, problems: Problems, *, kind: str, allowed: set[str], required: tuple[str, ...],
                   error: str, examples: tuple[str, str]) -> tuple[str, str, str]:
    """An entry's ``code`` and ``name``, checked (OPEN01, opening.greeting), after its keys are
    checked against ``allowed`` / ``required``; also ``where`` ("rule OPEN01") for messages."""
    code = _str(m, "code", problems)
    where = f"{kind} {code}" if code else kind
    check_keys(m, allowed=allowed, required=required, problems=problems, where=where)
    if code and not CODE_RE.match(code):
        problems.add(m.where("code"), error, f"code {code!r} must be capital letters then 2-3 digits ({examples[0]})")
    name = _str(m, "name", problems)
    if name and not NAME_RE.match(name):
        problems.add(m.where("name"), error, f"name {name!r} must be dotted lower_case words ({examples[1]})")
    return code, name, where
