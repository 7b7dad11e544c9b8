"""Strict YAML for user-written files (rules, scorecards) with a position for every key and value.

Parsing keeps line and column (1-based) of every mapping key, value and list item, refuses
duplicate keys, and collects every problem as a :class:`YamlError` that prints the way ruff and
every CI system read it: ``file:line:col: CODE message``.

Mappings come back as :class:`YMap` (a ``dict``) and sequences as :class:`YList` (a ``list``),
so code that only reads values can treat them as plain containers; scalars are plain Python values.
Validation helpers (:func:`check_keys`, :func:`expect_type`, :func:`did_you_mean`) add errors
to a :class:`Problems` collector so a file reports all of its errors at once.

Safety: a file over :data:`MAX_BYTES` (1 MB) is refused unread, and anchors/aliases (``&x`` /
``*x``) are refused while the file is composed, before anything is built (a "billion laughs" file
of a few hundred bytes would otherwise expand to gigabytes). Booleans follow YAML 1.2: only
``true``/``false``; ``on``, ``off``, ``yes``, ``no`` are strings, so ``on: raw`` means the key "on".

Example::

    doc = load_yaml("rules/opening.yaml")          # raises YamlFileError on syntax errors
    problems = Problems()
    check_keys(doc.data, allowed={"rules"}, required={"rules"}, problems=problems)
    problems.raise_if_any()
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

__all__ = [
    "Pos",
    "YamlError",
    "YamlFileError",
    "YMap",
    "YList",
    "YamlDoc",
    "Problems",
    "load_yaml",
    "load_each",
    "parse_yaml",
    "did_you_mean",
    "check_keys",
    "expect_type",
    "type_name",
    "MAX_BYTES",
]

#: the largest user-written YAML file read (rule files are a few kB)
MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class Pos:
    """A place in a file; ``line`` and ``col`` are 1-based."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class YamlError:
    """One problem in a user-written file."""

    pos: Pos
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.pos}: {self.code} {self.message}"


class YamlFileError(ValueError):
    """A file with one or more problems; ``errors`` lists them all, sorted by position."""

    def __init__(self, errors: Iterable[YamlError]):
        self.errors = sorted(errors, key=lambda e: (e.pos.file, e.pos.line, e.pos.col, e.code))
        super().__init__("\n".join(str(e) for e in self.errors))


class YMap(dict):
    """A YAML mapping with positions: ``pos`` (the mapping), ``key_pos[k]`` and ``value_pos[k]``."""

    pos: Pos
    key_pos: dict[Any, Pos]
    value_pos: dict[Any, Pos]

    def where(self, key: Any) -> Pos:
        """Position of ``key``'s value if present, else of the mapping itself."""
        return self.value_pos.get(key) or self.pos

    def where_key(self, key: Any) -> Pos:
        """Position of ``key`` itself if present, else of the mapping."""
        return self.key_pos.get(key) or self.pos


class YList(list):
    """A YAML sequence with positions: ``pos`` (the sequence) and ``item_pos[i]``."""

    pos: Pos
    item_pos: list[Pos]

    def where(self, index: int) -> Pos:
        return self.item_pos[index] if 0 <= index < len(self.item_pos) else self.pos


@dataclass
class YamlDoc:
    """A parsed file: ``data`` (YMap/YList/scalar), ``errors`` (duplicate keys...) and the source lines."""

    path: str
    data: Any
    errors: list[YamlError] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def line(self, n: int) -> str:
        """The source text of 1-based line ``n`` (for showing the offending line)."""
        return self.lines[n - 1] if 0 < n <= len(self.lines) else ""


class Problems:
    """Collects errors across a whole file (or several) so all are reported at once."""

    def __init__(self) -> None:
        self.errors: list[YamlError] = []

    def add(self, pos: Pos, code: str, message: str) -> None:
        self.errors.append(YamlError(pos, code, message))

    def extend(self, errors: Iterable[YamlError]) -> None:
        self.errors.extend(errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise YamlFileError(self.errors)


class _AliasRefused(yaml.MarkedYAMLError):
    pass


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans that refuses aliases before they are expanded."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _AliasRefused(None, None, f"alias *{event.anchor} refused", event.start_mark)
        return super().compose_node(parent, index)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _pos(file: str, mark: Any) -> Pos:
    return Pos(file, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, file: str):
        self.loader = loader
        self.file = file
        self.errors: list[YamlError] = []
        self._done: dict[int, Any] = {}  # aliases share the node object; build it once

    def build(self, node: yaml.Node) -> Any:
        key = id(node)
        if key in self._done:
            return self._done[key]
        if isinstance(node, yaml.MappingNode):
            result: Any = self._mapping(node)
        elif isinstance(node, yaml.SequenceNode):
            result = YList()
            result.pos = _pos(self.file, node.start_mark)
            result.item_pos = []
            self._done[key] = result
            for item in node.value:
                result.append(self.build(item))
                result.item_pos.append(_pos(self.file, item.start_mark))
            return result
        else:
            result = self.loader.construct_object(node, deep=True)
        self._done[key] = result
        return result

    def _mapping(self, node: yaml.MappingNode) -> YMap:
        result = YMap()
        result.pos = _pos(self.file, node.start_mark)
        result.key_pos = {}
        result.value_pos = {}
        self._done[id(node)] = result
        for key_node, value_node in node.value:
            kpos = _pos(self.file, key_node.start_mark)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.errors.append(YamlError(kpos, "YAML004", "merge keys (<<) are not supported; write the keys out"))
                continue
            key = self.build(key_node)
            if isinstance(key, (YMap, YList)):
                self.errors.append(YamlError(kpos, "YAML005", "a mapping key must be a plain value"))
                continue
            if key in result:
                first = result.key_pos[key]
                self.errors.append(
                    YamlError(kpos, "YAML002", f"duplicate key {key!r} (first defined at line {first.line})")
                )
                continue
            result[key] = self.build(value_node)
            result.key_pos[key] = kpos
            result.value_pos[key] = _pos(self.file, value_node.start_mark)
        return result


def parse_yaml(text: str, file: str = "<string>") -> YamlDoc:
    """Parse YAML text keeping positions.

    Duplicate keys and unsupported constructs are collected in ``YamlDoc.errors`` (parsing goes
    on so that later errors are found too).

    Raises:
        YamlFileError: the text is not valid YAML (the error carries the line and column).
    """
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDoc(file, None, [], text.splitlines())
        builder = _Builder(loader, file)
        data = builder.build(node)
    except _AliasRefused as e:
        raise YamlFileError([YamlError(_pos(file, e.problem_mark), "YAML006",
                                       "anchors and aliases (&name / *name) are not supported; write the value out")]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        pos = _pos(file, mark) if mark is not None else Pos(file, 1, 1)
        what = " ".join(x for x in (e.context, e.problem) if x) or "invalid YAML"
        raise YamlFileError([YamlError(pos, "YAML001", f"invalid YAML: {what}")]) from None
    except yaml.YAMLError as e:
        raise YamlFileError([YamlError(Pos(file, 1, 1), "YAML001", f"invalid YAML: {e}")]) from None
    finally:
        loader.dispose()
    return YamlDoc(file, data, builder.errors, text.splitlines())


def load_yaml(path: str | Path) -> YamlDoc:
    """Read and parse one YAML file keeping positions (see :func:`parse_yaml`).

    Raises:
        YamlFileError: the file is missing, over 1 MB, not UTF-8, or not valid YAML.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise YamlFileError([YamlError(Pos(str(path), 1, 1), "YAML000",
                                           f"file is {size / 1e6:.1f} MB, over the {MAX_BYTES >> 20} MB limit for a rule or scorecard file; split it")])
        if path.is_dir():
            raise YamlFileError([YamlError(Pos(str(path), 1, 1), "YAML000", "is a folder, not a YAML file")])
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlFileError([YamlError(Pos(str(path), 1, 1), "YAML000", "no such file")]) from None
    except OSError as e:
        raise YamlFileError([YamlError(Pos(str(path), 1, 1), "YAML000", f"cannot read ({e.strerror or e})")]) from None
    except UnicodeDecodeError:
        raise YamlFileError([YamlError(Pos(str(path), 1, 1), "YAML000", "not UTF-8 text")]) from None
    return parse_yaml(text, str(path))


def load_each(files: Iterable[str | Path], problems: Problems) -> Iterator[YamlDoc]:
    """Each file that reads and parses, with its problems (and those of the files that do not)
    added to ``problems``: a folder of rule or taxonomy files reports every error at once."""
    for f in files:
        try:
            doc = load_yaml(f)
        except YamlFileError as e:
            problems.extend(e.errors)
            continue
        problems.extend(doc.errors)
        yield doc


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ``"; did you mean 'x'?"`` hint for a misspelt name, or ``""`` when nothing is close."""
    matches = difflib.get_close_matches(str(word), sorted(str(c) for c in choices), n=1, cutoff=0.6)
    return f"; did you mean {matches[0]!r}?" if matches else ""


def check_keys(
    mapping: YMap,
    *,
    allowed: Iterable[str],
    required: Iterable[str] = (),
    problems: Problems,
    where: str = "",
) -> None:
    """Report unknown keys (with did-you-mean, code ``YAML010``) and missing required keys (``YAML011``)."""
    allowed = set(allowed)
    prefix = f"{where}: " if where else ""
    for key in mapping:
        if key not in allowed:
            problems.add(
                mapping.where_key(key),
                "YAML010",
                f"{prefix}unknown key {key!r}{did_you_mean(key, allowed)}",
            )
    for key in required:
        if key not in mapping:
            problems.add(mapping.pos, "YAML011", f"{prefix}missing required key {key!r}")


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
    type(None): "null",
}


def type_name(value_or_type: Any) -> str:
    """Human name of a YAML value's type ("a string", "a list"...)."""
    t = value_or_type if isinstance(value_or_type, type) else type(value_or_type)
    if issubclass(t, bool):
        return "true or false"
    for base, name in _TYPE_NAMES.items():
        if issubclass(t, base):
            return name
    return t.__name__


def expect_type(value: Any, types: type | tuple[type, ...], pos: Pos, problems: Problems, what: str) -> bool:
    """Check a value's type; add a ``YAML012`` error and return False when it is wrong.

    ``bool`` is never accepted where a number is expected (YAML's ``yes``/``true`` is not 1).
    """
    types = types if isinstance(types, tuple) else (types,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok:
        shown = tuple(t for t in types if not (t is int and float in types))
        expected = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in shown)
        problems.add(pos, "YAML012", f"{what} must be {expected}, not {type_name(value)} ({value!r:.40})")
    return ok
