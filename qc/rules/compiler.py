"""Compile a rule's ``match:`` condition tree against the condition registry, checking every
parameter's name, presence and type (``RUL010``-``RUL013``; each type's ``prepare`` adds ``RUL020``-
``RUL022``). The error-code table is in :mod:`qc.rules.loader`.
"""

from __future__ import annotations

import inspect as _inspect
from typing import Any

from qc.rules.registry import Cond, all_conditions
from qc.yamlfile import Pos, Problems, YMap, did_you_mean, expect_type, type_name

__all__ = ["compile_condition"]

_SHORTHAND = {"all": ("all", "conditions"), "any": ("any", "conditions"), "not": ("not", "condition")}


def compile_condition(node: Any, pos: Pos, problems: Problems) -> Cond | None:
    """Compile a ``match:`` condition tree (every registered condition type, the all / any / not
    shorthands); every problem is added to ``problems`` at its file:line:col. None when invalid."""
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
                    params[key] = [compile_condition(v, value.where(i), problems) for i, v in enumerate(value)]
            else:
                params[key] = compile_condition(value, node.where(key), problems) if value is not None else None
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
