"""Registry of condition types: one small pure function per type, registered by name.

A condition function takes the call context and the scope (utterance indices it may look at)
followed by its parameters as keyword-only arguments, and returns the hits it found::

    @condition("keyword", prepare=_prepare_keyword)
    def keyword(ctx, scope, *, any=(), all=(), ...) -> list[Hit]: ...

The YAML ``type:`` picks the function; the other keys are its keyword arguments. The loader
checks keys against the signature (unknown keys with did-you-mean, missing required ones, types
from the annotations), then ``prepare`` normalises and precompiles parameters once per rule
set, reporting semantic problems (invalid regex, empty keyword list) to the loader.
"""

from __future__ import annotations

import inspect as _inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from qc.rules.context import CallContext, Hit

__all__ = ["ConditionType", "Cond", "REGISTRY", "Report", "condition", "get_condition", "all_conditions"]

Report = Callable[[str, str, str], None]
"""``report(key, code, message)``: how a ``prepare`` hook records a problem at a parameter's position."""


@dataclass(frozen=True)
class ConditionType:
    """A registered condition: its function, parameter names/defaults and optional ``prepare`` hook.

    ``prepare(params, report)`` returns the prepared params; ``report(key, code, message)``
    records a problem at that key's position. ``children`` names parameters holding nested
    conditions (combinators, sequence), which the loader compiles first.
    """

    name: str
    func: Callable[..., list]
    params: dict[str, Any]  # name -> default (inspect.Parameter.empty when required)
    annotations: dict[str, str]
    prepare: Callable[..., dict] | None
    children: tuple[str, ...]
    needs_timing: bool
    doc: str


REGISTRY: dict[str, ConditionType] = {}


def condition(
    name: str,
    *,
    prepare: Callable[..., dict] | None = None,
    children: tuple[str, ...] = (),
    needs_timing: bool = False,
) -> Callable[[Callable[..., list]], Callable[..., list]]:
    """Register a condition function under ``name``; refuses a name that is already taken."""

    def register(func: Callable[..., list]) -> Callable[..., list]:
        if name in REGISTRY:
            raise ValueError(f"condition type {name!r} is already registered by {REGISTRY[name].func.__module__}")
        sig = _inspect.signature(func)
        params = {
            p.name: p.default
            for p in sig.parameters.values()
            if p.kind is _inspect.Parameter.KEYWORD_ONLY
        }
        annotations = {
            p.name: str(p.annotation)
            for p in sig.parameters.values()
            if p.kind is _inspect.Parameter.KEYWORD_ONLY
        }
        REGISTRY[name] = ConditionType(
            name=name,
            func=func,
            params=params,
            annotations=annotations,
            prepare=prepare,
            children=children,
            needs_timing=needs_timing,
            doc=(func.__doc__ or "").strip(),
        )
        return func

    return register


def get_condition(name: str) -> ConditionType:
    """The registered condition type ``name`` (the built-in ones register when :mod:`qc.rules` is
    imported, which importing this module does first; this module never imports them, so the
    dependency points one way: conditions -> registry)."""
    return REGISTRY[name]


def all_conditions() -> dict[str, ConditionType]:
    """Every registered condition type, built-in ones included."""
    return dict(REGISTRY)


@dataclass(frozen=True)
class Cond:
    """A compiled condition: its type and prepared parameters, with where it was written."""

    type: ConditionType
    params: dict[str, Any]
    where: str = ""

    def run(self, ctx: CallContext, scope: tuple[int, ...]) -> list[Hit]:
        """Evaluate on ``scope`` (utterance indices); returns the hits."""
        return self.type.func(ctx, scope, **self.params)

    @property
    def needs_timing(self) -> bool:
        """True when this condition, or one nested in it, needs utterance times."""
        if self.type.needs_timing:
            return True
        for name in self.type.children:
            value = self.params.get(name)
            nested = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(c, Cond) and c.needs_timing for c in nested):
                return True
        return False
