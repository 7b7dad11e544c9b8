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
"""

from __future__ import annotations

import inspect as _inspect
import re
from pathlib import Path
from typing import Any

from qc.rules.model import CATEGORIES, POLARITIES, SEVERITIES, Rule, RuleSet, RuleTest
from qc.rules.registry import Cond, all_conditions
from qc.types import CHANNELS, Transcript, Utterance
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
    load_yaml,
    type_name,
)

__all__ = ["RuleFileError", "load_rules", "check_rules", "rule_files"]

RULE_KEYS = {
    "code", "name", "description", "category", "severity", "polarity", "message", "match", "scope",
    "when", "channels", "review_below", "max_findings", "enabled", "tags", "tests",
}
REQUIRED_RULE_KEYS = ("code", "name", "description", "category", "severity", "polarity", "message", "match", "tests")
DESCRIPTION_KEYS = {"what", "why", "example"}
TEST_KEYS = {"name", "expect", "count", "at", "transcript", "meta", "emotion", "channel"}
LINE_KEYS = {"role", "text", "start", "end", "at", "confidence", "agent", "customer", "unknown"}
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
    for f in files:
        try:
            doc = load_yaml(f)
        except YamlFileError as e:
            problems.extend(e.errors)
            continue
        problems.extend(doc.errors)
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
    code = _str(m, "code", problems)
    where = f"rule {code}" if code else "rule"
    check_keys(m, allowed=RULE_KEYS, required=REQUIRED_RULE_KEYS, problems=problems, where=where)
    if code and not CODE_RE.match(code):
        problems.add(m.where("code"), "RUL002", f"code {code!r} must be capital letters then 2-3 digits (OPEN01)")
    name = _str(m, "name", problems)
    if name and not NAME_RE.match(name):
        problems.add(m.where("name"), "RUL002", f"name {name!r} must be dotted lower_case words (opening.greeting)")
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

    match = _compile(m.get("match"), m.where("match"), problems) if "match" in m else None
    evidence_scope = None
    if "scope" in m and match is not None:
        scope_node = m["scope"]
        if isinstance(scope_node, YMap):
            wrapped = YMap(scope_node)
            wrapped.pos, wrapped.key_pos, wrapped.value_pos = scope_node.pos, dict(scope_node.key_pos), dict(scope_node.value_pos)
            wrapped["type"] = "scope"
            evidence_scope = _compile(wrapped, scope_node.pos, problems)
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

    tests = _load_tests(m, file, problems, where)
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


# --- conditions ---

_SHORTHAND = {"all": ("all", "conditions"), "any": ("any", "conditions"), "not": ("not", "condition")}


def _compile(node: Any, pos: Pos, problems: Problems) -> Cond | None:
    if not isinstance(node, YMap):
        problems.add(pos, "YAML012", f"a condition is a mapping with `type:` (or all: / any: / not:), not {type_name(node)}")
        return None
    if "type" not in node and len(node) == 1 and next(iter(node)) in _SHORTHAND:
        key = next(iter(node))
        type_name_, param = _SHORTHAND[key]
        wrapped = YMap({"type": type_name_, param: node[key]})
        wrapped.pos = node.pos
        wrapped.key_pos = {"type": node.key_pos[key], param: node.key_pos[key]}
        wrapped.value_pos = {"type": node.key_pos[key], param: node.value_pos[key]}
        node = wrapped
    registry = all_conditions()
    ctype_name = node.get("type")
    if ctype_name is None:
        problems.add(node.pos, "RUL010", f"condition without `type:`; one of {', '.join(sorted(registry))} (or all: / any: / not:)")
        return None
    if not isinstance(ctype_name, str) or ctype_name not in registry:
        problems.add(node.where("type"), "RUL010", f"unknown condition type {ctype_name!r}{did_you_mean(str(ctype_name), registry)}")
        return None
    ctype = registry[ctype_name]
    public = {k: d for k, d in ctype.params.items() if not k.startswith("_")}
    n_before = len(problems)
    params: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type":
            continue
        if key not in public:
            problems.add(node.where_key(key), "RUL011", f"{ctype_name}: unknown parameter {key!r}{did_you_mean(str(key), public)}")
            continue
        params[key] = value
    for key, default in public.items():
        if default is _inspect.Parameter.empty and key not in params:
            problems.add(node.pos, "RUL012", f"{ctype_name}: missing parameter {key!r}")
    for key, value in list(params.items()):
        ann = ctype.annotations.get(key, "Any")
        if key in ctype.children:
            if "list" in ann:
                if expect_type(value, list, node.where(key), problems, f"{ctype_name}.{key}"):
                    params[key] = [_compile(v, value.where(i), problems) for i, v in enumerate(value)]
            else:
                params[key] = _compile(value, node.where(key), problems) if value is not None else None
            continue
        _check_param(ctype_name, key, value, ann, node.where(key), problems)
    if len(problems) > n_before:
        return None

    def report(key: str, code: str, message: str) -> None:
        problems.add(node.where(key) if key in node else node.pos, code, f"{ctype_name}: {message}")

    if ctype.prepare is not None:
        params = ctype.prepare(params, report)
    if len(problems) > n_before:
        return None
    return Cond(ctype, params, str(node.pos))


def _check_param(ctype: str, key: str, value: Any, ann: str, pos: Pos, problems: Problems) -> None:
    optional = "None" in ann
    if value is None:
        if not optional and ann != "Any":
            problems.add(pos, "YAML012", f"{ctype}.{key} must not be null")
        return
    base = ann.replace("| None", "").strip()
    what = f"{ctype}.{key}"
    if base.startswith("list"):
        if expect_type(value, list, pos, problems, what) and "[str]" in base:
            for i, v in enumerate(value):
                if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                    problems.add(value.where(i), "YAML012", f"{what}[{i}] must be a phrase (a string), not {type_name(v)}")
    elif base == "str":
        expect_type(value, str, pos, problems, what)
    elif base == "int":
        expect_type(value, int, pos, problems, what)
    elif base == "float":
        expect_type(value, (int, float), pos, problems, what)
    elif base == "bool":
        expect_type(value, bool, pos, problems, what)
    elif base == "dict":
        expect_type(value, dict, pos, problems, what)


# --- tests ---


def _load_tests(m: YMap, file: str, problems: Problems, where: str) -> list[RuleTest]:
    node = m.get("tests")
    if node is None:
        return []
    if not expect_type(node, list, m.where("tests"), problems, "tests"):
        return []
    tests = []
    for n, case in enumerate(node):
        pos = node.where(n)
        if not isinstance(case, YMap):
            problems.add(pos, "RUL032", f"{where}: a test case is a mapping with expect: and transcript:")
            continue
        before = len(problems)
        check_keys(case, allowed=TEST_KEYS, required=("expect", "transcript"), problems=problems, where=f"{where} test")
        expect = case.get("expect")
        if expect not in ("hit", "no_hit", "not_applicable"):
            problems.add(case.where("expect"), "RUL032", f"expect must be hit, no_hit or not_applicable, not {expect!r}")
        count = case.get("count")
        if count is not None and expect_type(count, int, case.where("count"), problems, "count"):
            if expect == "no_hit" and count:
                problems.add(case.where("count"), "RUL032", "count > 0 contradicts expect: no_hit")
        at = _test_at(case, expect, problems)
        meta = case.get("meta") or {}
        expect_type(meta, dict, case.where("meta"), problems, "meta")
        emotion = case.get("emotion")
        if emotion is not None and expect_type(emotion, list, case.where("emotion"), problems, "emotion"):
            for i, v in enumerate(emotion):
                expect_type(v, (int, float), emotion.where(i), problems, f"emotion[{i}]")
        utterances = _load_lines(case.get("transcript"), case.where("transcript"), problems)
        if len(problems) > before:
            continue
        if emotion is not None and len(emotion) != len(utterances):
            problems.add(case.where("emotion"), "RUL032", f"emotion has {len(emotion)} values for {len(utterances)} utterances")
            continue
        if at and max(at) > len(utterances):
            problems.add(case.where("at"), "RUL032", f"at: line {max(at)} is not in the transcript (it has {len(utterances)} lines)")
            continue
        channel = case.get("channel")
        if channel is not None and channel not in CHANNELS:
            problems.add(case.where("channel"), "RUL005", f"channel {channel!r} is not one of {', '.join(CHANNELS)}{did_you_mean(str(channel), CHANNELS)}")
            continue
        transcript = Transcript(call_id=f"{file}:{pos.line}", utterances=utterances, meta=dict(meta), channel=channel)
        tests.append(RuleTest(
            name=str(case.get("name") or f"case {n + 1}"), expect=expect, count=count, transcript=transcript,
            emotion=[float(v) for v in emotion] if emotion is not None else None, file=file, line=pos.line, at=at,
        ))
    if "tests" in m and not any(t.positive for t in tests) and len(tests) == len(node):
        problems.add(m.where_key("tests"), "RUL030", f"{where}: no positive test case (expect: hit)")
    if "tests" in m and not any(t.negative for t in tests) and len(tests) == len(node):
        problems.add(m.where_key("tests"), "RUL031", f"{where}: no negative test case (expect: no_hit)")
    return tests


def _test_at(case: YMap, expect: Any, problems: Problems) -> tuple[int, ...] | None:
    """A case's ``at:``: the transcript line (from 1), or lines, its findings must quote."""
    if "at" not in case:
        return None
    value = case["at"]
    lines = value if isinstance(value, list) else [value]
    if expect != "hit":
        problems.add(case.where("at"), "RUL032", "at marks the lines a hit quotes; use it with expect: hit")
    elif not lines or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in lines):
        problems.add(case.where("at"), "RUL032", f"at is a transcript line number counted from 1 (at: 2) or a list of them, not {value!r}")
    else:
        return tuple(sorted(set(lines)))
    return None


def _load_lines(node: Any, pos: Pos, problems: Problems) -> list[Utterance]:
    if not isinstance(node, YList) or not node:
        problems.add(pos, "RUL032", "transcript is a non-empty list of lines like `- agent: 您好`")
        return []
    out = []
    for i, line in enumerate(node):
        lpos = node.where(i)
        if not isinstance(line, YMap):
            problems.add(lpos, "RUL032", "a transcript line is a mapping: `- agent: 您好` or `- {role: agent, text: 您好, start: 0, end: 1.5}`")
            continue
        check_keys(line, allowed=LINE_KEYS, problems=problems, where="transcript line")
        roles = [r for r in ("agent", "customer", "unknown") if r in line]
        if len(roles) == 1 and "text" not in line and "role" not in line:
            role, text = roles[0], line[roles[0]]
        elif not roles and "role" in line and "text" in line:
            role, text = line["role"], line["text"]
            if role not in ("agent", "customer", "unknown"):
                problems.add(line.where("role"), "RUL032", f"role must be agent, customer or unknown, not {role!r}")
        else:
            problems.add(lpos, "RUL032", "a transcript line needs exactly one of agent: / customer: / unknown:, or role: and text:")
            continue
        start, end = line.get("start"), line.get("end")
        if "at" in line:
            at = line["at"]
            if not (isinstance(at, list) and len(at) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in at)):
                problems.add(line.where("at"), "RUL032", "at is [start, end] in seconds")
                continue
            start, end = at
        for k, v in (("start", start), ("end", end), ("confidence", line.get("confidence"))):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                problems.add(line.where(k), "YAML012", f"{k} must be a number")
        if start is not None and end is not None and isinstance(start, (int, float)) and isinstance(end, (int, float)) and end < start:
            problems.add(lpos, "RUL032", f"end {end} is before start {start}")
        conf = line.get("confidence")
        out.append(Utterance(
            role=str(role), text=str(text if text is not None else ""),
            start=float(start) if isinstance(start, (int, float)) else None,
            end=float(end) if isinstance(end, (int, float)) else None,
            confidence=float(conf) if isinstance(conf, (int, float)) else None,
        ))
    return out


# --- public helpers for other YAML formats whose entries are rule-like (the VOC taxonomy) ---

__all__ += ["read_str", "compile_condition", "load_tests"]


def read_str(m: YMap, key: str, problems: Problems, what: str | None = None) -> str:
    """The string at ``key`` of a mapping read from YAML: "" when absent, "" and a ``YAML0xx``
    problem at its file:line:col when it is not a string."""
    return _str(m, key, problems, what)


def compile_condition(node: Any, pos: Pos, problems: Problems) -> Cond | None:
    """Compile a ``match:`` condition tree (every registered condition type, the all / any / not
    shorthands); every problem is added to ``problems`` at its file:line:col. None when invalid."""
    return _compile(node, pos, problems)


def load_tests(m: YMap, file: str, problems: Problems, where: str) -> list[RuleTest]:
    """The ``tests:`` cases of a rule-like mapping (mini transcripts with expect hit / no_hit),
    validated like a rule's; ``where`` names the entry in messages (``rule FORB01``)."""
    return _load_tests(m, file, problems, where)
