"""VOC taxonomy files: customer-journey stage -> tag -> owning department, each tag a rule-engine condition.

A taxonomy file (``voc/*.yaml``) looks like::

    version: 1
    departments: [计费中心, 网络运维部]
    stages:
      - stage: 计费
        tags:
          - code: BILL01
            name: billing.unexpected_charge
            label: 扣费异常
            department: 计费中心
            description: {what: 客户反映被多扣、乱扣费用。, why: 计费差错直接造成投诉与退费。}
            in: trigger                  # trigger (default) | customer | call
            match: {type: keyword, any: [乱扣费, 多扣], homophone: 0}
            tests:
              - {expect: hit, transcript: [{customer: 你们乱扣费}]}
              - {expect: no_hit, transcript: [{customer: 我想查一下话费}]}

``match`` is compiled by the rule engine's own compiler (every condition type of ``qc rules``:
keyword by sound, similar examples, regex, all / any / not, sequence ...) and run on the utterances
``in`` names: the customer's trigger turns (the sentences that say why they called, see
:func:`qc.voc.tagging.trigger_turns`), every customer utterance, or the whole call. ``tests`` are
mini transcripts exactly like a rule's.

Error codes (besides ``YAML0xx`` and the ``RUL0xx`` condition codes): ``VOC001`` duplicate tag
code or name, ``VOC002`` malformed code / name, ``VOC003`` unknown department, ``VOC004`` bad
``in:``, ``VOC005`` a stage without tags / duplicate stage, ``VOC006`` documentation missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from qc.rules.loader import compile_condition, load_tests, read_code_name, read_str, rule_files
from qc.rules.model import RuleTest
from qc.rules.registry import Cond
from qc.yamlfile import Pos, Problems, YamlError, YamlFileError, YList, YMap, check_keys, did_you_mean, expect_type, load_each, type_name

__all__ = ["SCOPES", "Tag", "Taxonomy", "TaxonomyError", "check_taxonomy", "load_taxonomy", "default_taxonomy_path"]

#: Where a tag's condition looks: the customer's trigger turns, every customer line, the whole call.
SCOPES = ("trigger", "customer", "call")
TOP_KEYS = {"version", "departments", "stages"}
STAGE_KEYS = {"stage", "description", "tags"}
TAG_KEYS = {"code", "name", "label", "department", "description", "in", "match", "tests", "enabled"}
REQUIRED_TAG_KEYS = ("code", "name", "label", "department", "description", "match", "tests")


class TaxonomyError(YamlFileError):
    """Taxonomy files with problems; ``errors`` holds every one (file:line:col: CODE message)."""


@dataclass
class Tag:
    """One VOC tag: what customers call about, the journey stage it belongs to and who owns it."""

    code: str
    name: str
    label: str
    stage: str
    department: str
    what: str
    why: str
    match: Cond
    scope: str = "trigger"
    enabled: bool = True
    tests: list[RuleTest] = field(default_factory=list)
    file: str = ""
    line: int = 0


@dataclass
class Taxonomy:
    """Tags from one file or a folder, in file order, with the departments and stages they use."""

    tags: list[Tag]
    departments: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def reads_agent(self) -> bool:
        """Whether any enabled tag looks at the agent's lines (``in: call``)."""
        return any(t.scope == "call" for t in self.tags if t.enabled)

    def __iter__(self) -> Iterator[Tag]:
        return iter(self.tags)

    def __len__(self) -> int:
        return len(self.tags)

    def get(self, code: str) -> Tag:
        for t in self.tags:
            if t.code == code:
                return t
        raise KeyError(code)

    def only(self, *codes: str) -> Taxonomy:
        """A taxonomy with just these tag codes."""
        return Taxonomy([t for t in self.tags if t.code in codes], self.departments, self.stages, self.files)


def default_taxonomy_path() -> Path:
    """``voc/`` in the working directory, else the starter taxonomy shipped beside the package."""
    here = Path("voc")
    if here.is_dir() and any(here.glob("*.y*ml")):
        return here
    from qc.defaults import voc_path

    return voc_path()


def check_taxonomy(path: str | Path) -> tuple[Taxonomy, list[YamlError]]:
    """Load a taxonomy file or folder and return it with every problem found (empty when clean)."""
    problems = Problems()
    tax = Taxonomy([], files=[])
    files = rule_files(path)
    if not files:
        problems.add(Pos(str(path), 1, 1), "VOC000", "no taxonomy files (*.yaml) here")
    pending: list[tuple[YMap, str, Pos]] = []  # (tag node, stage, department position) checked once all departments are known
    tax.files.extend(str(f) for f in files)
    for doc in load_each(files, problems):
        _load_file(doc.data, doc.path, tax, pending, problems)
    seen: dict[tuple[str, str], Pos] = {}
    for node, stage, _ in pending:
        for attr in ("code", "name"):
            v = node.get(attr)
            if isinstance(v, str):
                first = seen.get((attr, v))
                if first is not None:
                    problems.add(node.where(attr), "VOC001", f"duplicate tag {attr} {v!r} (also at {first.file}:{first.line})")
                else:
                    seen[(attr, v)] = node.where(attr)
        tag = _load_tag(node, stage, tax.departments, problems)
        if tag is not None:
            tax.tags.append(tag)
    errors = sorted(problems.errors, key=lambda e: (e.pos.file, e.pos.line, e.pos.col, e.code))
    return tax, errors


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load and strictly validate a taxonomy (default: :func:`default_taxonomy_path`).

    Raises:
        TaxonomyError: any problem in any file; ``errors`` lists them all as file:line:col.
    """
    tax, errors = check_taxonomy(path if path is not None else default_taxonomy_path())
    if errors:
        raise TaxonomyError(errors)
    return tax


def _load_file(data: Any, file: str, tax: Taxonomy, pending: list, problems: Problems) -> None:
    if data is None:
        problems.add(Pos(file, 1, 1), "YAML011", "empty file; expected `departments:` and `stages:`")
        return
    if not isinstance(data, YMap):
        problems.add(Pos(file, 1, 1), "YAML012", f"a taxonomy file is a mapping with `departments:` and `stages:`, not {type_name(data)}")
        return
    check_keys(data, allowed=TOP_KEYS, required=("stages",), problems=problems)
    deps = data.get("departments")
    if deps is not None and expect_type(deps, list, data.where("departments"), problems, "departments"):
        for i, d in enumerate(deps):
            if not isinstance(d, str) or not d.strip():
                problems.add(deps.where(i), "YAML012", f"departments[{i}] must be a department name (a string), not {type_name(d)}")
            elif d not in tax.departments:
                tax.departments.append(d)
    stages = data.get("stages")
    if stages is None or not expect_type(stages, list, data.where("stages"), problems, "stages"):
        return
    for i, st in enumerate(stages):
        if not isinstance(st, YMap):
            problems.add(stages.where(i), "YAML012", f"each stage is a mapping with stage: and tags:, not {type_name(st)}")
            continue
        check_keys(st, allowed=STAGE_KEYS, required=("stage", "tags"), problems=problems, where="stage")
        name = st.get("stage")
        if "stage" in st and (not isinstance(name, str) or not name.strip()):
            problems.add(st.where("stage"), "YAML012", "stage must be a name (a string)")
            continue
        if name in tax.stages:
            problems.add(st.where("stage"), "VOC005", f"stage {name!r} is defined twice; put its tags under one entry")
        elif name:
            tax.stages.append(name)
        tags = st.get("tags")
        if "tags" not in st:
            continue
        if not isinstance(tags, YList) or not tags:
            problems.add(st.where("tags"), "VOC005", f"stage {name!r}: tags must be a non-empty list of tags")
            continue
        for k, node in enumerate(tags):
            if not isinstance(node, YMap):
                problems.add(tags.where(k), "YAML012", f"each tag is a mapping, not {type_name(node)}")
                continue
            pending.append((node, str(name or ""), tags.where(k)))


def _load_tag(m: YMap, stage: str, departments: list[str], problems: Problems) -> Tag | None:
    n_before = len(problems)
    code, name, where = read_code_name(m, problems, kind="tag", allowed=TAG_KEYS, required=REQUIRED_TAG_KEYS,
                                       error="VOC002", examples=("BILL01", "billing.overcharge"))
    label = read_str(m, "label", problems)
    if "label" in m and not label.strip():
        problems.add(m.where("label"), "VOC006", f"{where}: label is empty; give the short name a report shows")
    dept = read_str(m, "department", problems)
    if dept and departments and dept not in departments:
        problems.add(m.where("department"), "VOC003", f"{where}: unknown department {dept!r}{did_you_mean(dept, departments)}; list it under departments:")
    what = why = ""
    desc = m.get("description")
    if isinstance(desc, YMap):
        check_keys(desc, allowed={"what", "why", "example"}, required=("what", "why"), problems=problems, where=f"{where} description")
        what, why = read_str(desc, "what", problems), read_str(desc, "why", problems)
        for k, v in (("what", what), ("why", why)):
            if k in desc and not v.strip():
                problems.add(desc.where(k), "VOC006", f"{where}: description.{k} is empty")
    elif desc is not None:
        problems.add(m.where("description"), "VOC006", f"{where}: description must be a mapping with what: and why:")
    scope = read_str(m, "in", problems) or "trigger"
    if scope not in SCOPES:
        problems.add(m.where("in"), "VOC004", f"{where}: in {scope!r} is not one of {', '.join(SCOPES)}{did_you_mean(scope, SCOPES)}")
    enabled = m.get("enabled", True)
    expect_type(enabled, bool, m.where("enabled"), problems, "enabled")
    match = compile_condition(m.get("match"), m.where("match"), problems) if "match" in m else None
    tests = load_tests(m, m.pos.file, problems, where) if "tests" in m else []
    if match is None or len(problems) > n_before:
        return None
    return Tag(code=code, name=name, label=label, stage=stage, department=dept, what=what, why=why, match=match,
               scope=scope, enabled=bool(enabled), tests=tests, file=m.pos.file, line=m.where_key("code").line)
