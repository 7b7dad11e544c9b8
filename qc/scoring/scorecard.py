"""Scorecards: read a ``scorecards/*.yaml`` file and validate it strictly, every problem at
``file:line:col`` (keys, types, points that add up, rule codes that exist and are not risk flags).
Scoring a call against a loaded scorecard is :mod:`qc.scoring.score`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from qc.defaults import scorecard_path as shipped_scorecard_path
from qc.types import SEVERITIES
from qc.yamlfile import (
    Pos,
    Problems,
    YamlFileError,
    YList,
    YMap,
    check_keys,
    did_you_mean,
    expect_type,
    load_yaml,
    parse_yaml,
)

__all__ = [
    "DIMENSIONS",
    "SEVERITIES",
    "Scorecard",
    "ScorecardDimension",
    "ScorecardItem",
    "ScorecardError",
    "load_scorecard",
    "parse_scorecard",
    "check_rule_codes",
    "default_scorecard_path",
    "iter_rule_codes",
]

#: The dimensions the shipped rules' categories map to (a scorecard may define others).
DIMENSIONS: tuple[str, ...] = ("服务规范", "业务知识", "沟通技巧", "流程执行", "情绪管理")

ScorecardError = YamlFileError
"""Raised by :func:`load_scorecard`; ``errors`` lists every problem as ``file:line:col: CODE message``."""


@dataclass
class ScorecardItem:
    """One scored item: the rules it covers and what a hit costs."""

    id: str
    name: str
    dimension: str
    rules: list[str]
    points: float  # the most this item can lose
    deduct: float  # per hit
    severity: str
    fatal: bool = False
    description: str = ""
    pos: Pos | None = None
    rule_pos: list[Pos] = field(default_factory=list)


@dataclass
class ScorecardDimension:
    """A group of items; its points are the sum of its items' points."""

    name: str
    points: float
    items: list[ScorecardItem] = field(default_factory=list)


@dataclass
class Scorecard:
    """A validated scorecard (see ``qc/schemas/scorecard.schema.json`` and docs/scoring.md)."""

    name: str
    pass_line: float
    severities: dict[str, float]
    dimensions: list[ScorecardDimension]
    version: int = 1
    path: str = "<string>"

    @property
    def items(self) -> list[ScorecardItem]:
        return [item for dim in self.dimensions for item in dim.items]

    @property
    def total(self) -> float:
        return sum(d.points for d in self.dimensions)

    def item_for_rule(self) -> dict[str, ScorecardItem]:
        """Map every referenced rule code to its item."""
        return {code: item for item in self.items for code in item.rules}


_TOP_KEYS = {"scorecard", "version", "description", "pass_line", "severities", "dimensions"}
_DIM_KEYS = {"name", "points", "description", "items"}
_ITEM_KEYS = {"id", "name", "rules", "points", "deduct", "severity", "fatal", "description"}


def default_scorecard_path() -> Path:
    """The shipped default scorecard (package data; ``scorecards/default.yaml`` in the source tree)."""
    return shipped_scorecard_path()


def load_scorecard(path: str | Path, rules: Any = None) -> Scorecard:
    """Read and strictly validate a scorecard file.

    Args:
        path: the YAML file.
        rules: optional loaded rules (a ``RuleSet``, a mapping keyed by code, or an iterable of
            codes or rule objects); when given, every referenced rule code must exist in it and
            must not be a risk rule.

    Raises:
        ScorecardError: with every problem at ``file:line:col`` (unknown keys, wrong types,
            duplicate keys or item ids, points that do not add up, unknown rule codes...).
    """
    doc = load_yaml(path)
    return _build(doc.data, doc.errors, str(path), rules)


def parse_scorecard(text: str, file: str = "<string>", rules: Any = None) -> Scorecard:
    """Like :func:`load_scorecard` for YAML text (tests, editors)."""
    doc = parse_yaml(text, file)
    return _build(doc.data, doc.errors, file, rules)


def _number(value: Any, pos: Pos, problems: Problems, what: str, minimum: float = 0.0) -> float | None:
    if not expect_type(value, (int, float), pos, problems, what):
        return None
    if value < minimum:
        problems.add(pos, "SC003", f"{what} must be >= {minimum:g}, not {value}")
        return None
    return float(value)


def _build(data: Any, errors: list, file: str, rules: Any) -> Scorecard:
    problems = Problems()
    problems.extend(errors)
    top_pos = Pos(file, 1, 1)
    if not isinstance(data, YMap):
        problems.add(getattr(data, "pos", top_pos), "SC001", "a scorecard must be a mapping with 'scorecard' and 'dimensions'")
        problems.raise_if_any()
    check_keys(data, allowed=_TOP_KEYS, required={"scorecard", "pass_line", "dimensions"}, problems=problems)

    name = data.get("scorecard", "")
    if "scorecard" in data:
        expect_type(name, str, data.where("scorecard"), problems, "'scorecard' (the name)")
    version = data.get("version", 1)
    if "version" in data:
        expect_type(version, int, data.where("version"), problems, "'version'")

    pass_line = 0.0
    if "pass_line" in data:
        pl = _number(data["pass_line"], data.where("pass_line"), problems, "'pass_line'")
        if pl is not None:
            if pl > 100:
                problems.add(data.where("pass_line"), "SC003", f"'pass_line' is a score out of 100, not {pl:g}")
            pass_line = pl

    severities: dict[str, float] = {"info": 0.0, "minor": 2.0, "major": 5.0, "critical": 10.0}
    sev = data.get("severities")
    if sev is not None and expect_type(sev, dict, data.where("severities"), problems, "'severities'"):
        for key, value in sev.items():
            if key not in SEVERITIES:
                problems.add(
                    sev.where_key(key), "SC004",
                    f"unknown severity {key!r}{did_you_mean(key, SEVERITIES)} (one of {', '.join(SEVERITIES)})",
                )
                continue
            if isinstance(value, YMap):
                check_keys(value, allowed={"deduct"}, required={"deduct"}, problems=problems, where=f"severity {key}")
                value = value.get("deduct", 0)
                where = sev[key].where("deduct") if isinstance(sev[key], YMap) else sev.where(key)
            else:
                where = sev.where(key)
            n = _number(value, where, problems, f"severity {key!r} deduction")
            if n is not None:
                severities[key] = n

    dimensions: list[ScorecardDimension] = []
    seen_items: dict[str, Pos] = {}
    seen_rules: dict[str, tuple[str, Pos]] = {}
    dims = data.get("dimensions")
    if dims is not None and expect_type(dims, list, data.where("dimensions"), problems, "'dimensions'"):
        if not dims:
            problems.add(data.where("dimensions"), "SC002", "'dimensions' is empty")
        seen_dims: dict[str, Pos] = {}
        for di, dim in enumerate(dims):
            if not expect_type(dim, dict, dims.where(di), problems, f"dimension #{di + 1}"):
                continue
            check_keys(dim, allowed=_DIM_KEYS, required={"name", "points", "items"}, problems=problems, where="dimension")
            dname = dim.get("name", f"#{di + 1}")
            if "name" in dim and expect_type(dname, str, dim.where("name"), problems, "dimension 'name'"):
                if dname in seen_dims:
                    problems.add(dim.where("name"), "SC005", f"dimension {dname!r} defined twice (first at line {seen_dims[dname].line})")
                seen_dims[dname] = dim.where("name")
            dpoints = _number(dim.get("points", 0), dim.where("points"), problems, f"dimension {dname!r} 'points'") if "points" in dim else None
            items: list[ScorecardItem] = []
            raw_items = dim.get("items")
            if raw_items is not None and expect_type(raw_items, list, dim.where("items"), problems, f"dimension {dname!r} 'items'"):
                for ii, raw in enumerate(raw_items):
                    item = _item(raw, raw_items.where(ii), str(dname), severities, problems, seen_items, seen_rules)
                    if item is not None:
                        items.append(item)
            if dpoints is not None and raw_items and len(items) == len(raw_items):
                total = sum(i.points for i in items)
                if abs(total - dpoints) > 1e-9:
                    problems.add(
                        dim.where("points"), "SC006",
                        f"dimension {dname!r} has points {dpoints:g} but its items add up to {total:g}",
                    )
            dimensions.append(ScorecardDimension(name=str(dname), points=dpoints or 0.0, items=items))

    card = Scorecard(
        name=str(name), pass_line=pass_line, severities=severities, dimensions=dimensions,
        version=int(version) if isinstance(version, int) else 1, path=file,
    )
    if rules is not None:
        problems.extend(check_rule_codes(card, rules))
    problems.raise_if_any()
    return card


def _item(
    raw: Any, pos: Pos, dimension: str, severities: dict[str, float], problems: Problems,
    seen_items: dict[str, Pos], seen_rules: dict[str, tuple[str, Pos]],
) -> ScorecardItem | None:
    if not expect_type(raw, dict, pos, problems, "an item"):
        return None
    n_before = len(problems)
    check_keys(raw, allowed=_ITEM_KEYS, required={"id", "name", "rules", "points"}, problems=problems, where="item")
    item_id = raw.get("id", "")
    if "id" in raw and expect_type(item_id, str, raw.where("id"), problems, "item 'id'"):
        if item_id in seen_items:
            problems.add(raw.where("id"), "SC007", f"item id {item_id!r} used twice (first at line {seen_items[item_id].line})")
        seen_items[item_id] = raw.where("id")
    name = raw.get("name", "")
    if "name" in raw:
        expect_type(name, str, raw.where("name"), problems, "item 'name'")
    rules: list[str] = []
    rule_pos: list[Pos] = []
    raw_rules = raw.get("rules")
    if isinstance(raw_rules, str):
        raw_rules = YList([raw_rules])
        raw_rules.pos = raw.where("rules")
        raw_rules.item_pos = [raw.where("rules")]
    if raw_rules is not None and expect_type(raw_rules, list, raw.where("rules"), problems, "item 'rules'"):
        if not raw_rules:
            problems.add(raw.where("rules"), "SC002", f"item {item_id!r} lists no rules")
        for ri, code in enumerate(raw_rules):
            where = raw_rules.where(ri)
            if not expect_type(code, str, where, problems, "a rule code"):
                continue
            if code in seen_rules:
                other, first = seen_rules[code]
                problems.add(
                    where, "SC008",
                    f"rule {code} is already scored by item {other!r} (line {first.line}); a hit would deduct twice",
                )
            seen_rules[code] = (str(item_id), where)
            rules.append(code)
            rule_pos.append(where)
    points = _number(raw["points"], raw.where("points"), problems, f"item {item_id!r} 'points'") if "points" in raw else None
    severity = raw.get("severity", "minor")
    if "severity" in raw and expect_type(severity, str, raw.where("severity"), problems, "item 'severity'"):
        if severity not in SEVERITIES:
            problems.add(
                raw.where("severity"), "SC004",
                f"unknown severity {severity!r}{did_you_mean(severity, SEVERITIES)} (one of {', '.join(SEVERITIES)})",
            )
    fatal = raw.get("fatal", False)
    if "fatal" in raw:
        expect_type(fatal, bool, raw.where("fatal"), problems, "item 'fatal'")
    deduct = None
    if "deduct" in raw:
        deduct = _number(raw["deduct"], raw.where("deduct"), problems, f"item {item_id!r} 'deduct'")
    description = raw.get("description", "")
    if "description" in raw:
        expect_type(description, str, raw.where("description"), problems, "item 'description'")
    if len(problems) > n_before or points is None:
        return None
    if deduct is None:
        deduct = severities.get(str(severity), 0.0) if not fatal else points
    if deduct > points:
        problems.add(
            raw.where("deduct") if "deduct" in raw else raw.where("points"), "SC009",
            f"item {item_id!r} deducts {deduct:g} per hit but is worth only {points:g} points",
        )
        return None
    if deduct == 0 and not fatal:
        problems.add(raw.pos, "SC009", f"item {item_id!r} deducts nothing per hit; give it 'deduct' or a severity with a deduction")
        return None
    return ScorecardItem(
        id=str(item_id), name=str(name), dimension=dimension, rules=rules, points=points, deduct=deduct,
        severity=str(severity), fatal=bool(fatal), description=str(description), pos=pos, rule_pos=rule_pos,
    )


def _rule_index(rules: Any) -> dict[str, Any]:
    """Codes -> rule objects (or None) from a RuleSet, a mapping, or an iterable of codes/rules."""
    if isinstance(rules, Mapping):
        return dict(rules)
    inner = getattr(rules, "rules", None)
    if inner is not None and not callable(inner):
        rules = inner
        if isinstance(rules, Mapping):
            return dict(rules)
    out: dict[str, Any] = {}
    for r in rules:
        if isinstance(r, str):
            out[r] = None
        else:
            out[str(getattr(r, "code"))] = r
    return out


def check_rule_codes(card: Scorecard, rules: Any) -> list:
    """Errors (``SC020`` unknown code, ``SC021`` risk rule) for the scorecard's rule references.

    Returns:
        A list of ``YamlError``, empty when every referenced code exists as a violation rule.
    """
    index = _rule_index(rules)
    problems = Problems()
    for item in card.items:
        for code, pos in zip(item.rules, item.rule_pos or [item.pos] * len(item.rules)):
            pos = pos or Pos(card.path, 1, 1)
            if code not in index:
                problems.add(pos, "SC020", f"item {item.id!r} references rule {code}, which is not in the loaded rules{did_you_mean(code, index)}")
                continue
            rule = index[code]
            if rule is not None and (getattr(rule, "kind", None) == "risk" or getattr(rule, "category", None) == "风险"):
                problems.add(pos, "SC021", f"item {item.id!r} references {code}, a risk flag; risk rules raise re-review priority and never deduct")
    return problems.errors


def iter_rule_codes(card: Scorecard) -> Iterable[str]:
    """Every rule code the scorecard references, in file order."""
    for item in card.items:
        yield from item.rules
