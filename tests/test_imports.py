"""Every qc module imports on its own, and the import graph has no loops where it must not."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "qc").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        found[".".join(parts)] = path
    return found


def test_every_module_imports_alone():
    # One fresh interpreter; before each module, every qc module is dropped from sys.modules, so each
    # is imported as if it were the first (an import loop shows up as a partially initialised module).
    script = """
import importlib, json, sys, traceback
failed = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "qc" or m.startswith("qc.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed[name] = traceback.format_exc(limit=3)
print(json.dumps(failed))
"""
    names = sorted(_modules())
    out = subprocess.run([sys.executable, "-c", script, json.dumps(names)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    failed = json.loads(out.stdout.strip().splitlines()[-1])
    assert not failed, "\n".join(f"{k}:\n{v}" for k, v in failed.items())
    assert len(names) > 60


def _imports(name: str, path: Path, modules: dict[str, Path], module_level: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in found if m in modules and m != name}


def _loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in graph:
        if v not in index:
            visit(v)
    return loops


def test_no_module_level_import_loops():
    modules = _modules()
    graph = {name: _imports(name, path, modules, module_level=True) for name, path in modules.items()}
    assert _loops(graph) == []


def test_the_run_layer_and_the_rule_engine_have_no_loops_even_through_lazy_imports():
    # qc.run.night <-> qc.run.ray and qc.rules.registry <-> qc.rules.conditions were such loops
    modules = _modules()
    graph = {name: _imports(name, path, modules, module_level=False) for name, path in modules.items()}
    bad = [loop for loop in _loops(graph) if any(m.startswith(("qc.run", "qc.rules", "qc.types")) for m in loop)]
    assert bad == []


def test_inspecting_a_night_imports_no_asr_stage():
    # the dependency rule: rules, emotion, scoring, reports, the results store and the night driver
    # read transcripts; the ASR stage (and Whisper, torch, Ray) loads only when a call needs it
    code = ("import sys, qc.run.store, qc.run.night, qc.run.progress, qc.report, qc.scoring, qc.rules, qc.emotion; "
            "print(','.join(m for m in sys.modules if m.startswith('qc.asr') or m in "
            "('torch', 'whisper', 'faster_whisper', 'ctranslate2', 'ray')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == ""
