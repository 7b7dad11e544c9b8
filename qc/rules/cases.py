"""Read a rule's ``tests:`` cases: mini transcripts with ``expect: hit / no_hit / not_applicable``
(``RUL030``-``RUL032``; the error-code table is in :mod:`qc.rules.loader`). The rule-test runner
is :mod:`qc.rules.testing`.
"""

from __future__ import annotations

from typing import Any

from qc.rules.model import RuleTest
from qc.types import CHANNELS, Transcript, Utterance
from qc.yamlfile import Pos, Problems, YList, YMap, check_keys, did_you_mean, expect_type

__all__ = ["LINE_KEYS", "TEST_KEYS", "load_tests"]

TEST_KEYS = {"name", "expect", "count", "at", "transcript", "meta", "emotion", "channel"}
LINE_KEYS = {"role", "text", "start", "end", "at", "confidence", "agent", "customer", "unknown"}


def load_tests(m: YMap, file: str, problems: Problems, where: str) -> list[RuleTest]:
    """The ``tests:`` cases of a rule-like mapping (mini transcripts with expect hit / no_hit),
    validated like a rule's; ``where`` names the entry in messages (``rule FORB01``)."""
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
