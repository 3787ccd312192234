"""The layout a newcomer can read: no import circle among the project's modules (function-local
imports count too), no long module without a reason, the agent never imports the hub, and no
source points to a document the repository does not have."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hub", "shared", "node_agent")
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    mods = {}
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = path
    return mods


def _runtime_nodes(tree: ast.AST):
    """Every node that can run: ``if TYPE_CHECKING:`` blocks are for the type checker only."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the project modules it imports anywhere in its body (``from a import b`` means a.b when b is a module)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in mods.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package[:len(package) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    graph[name].add(target if target in mods else base)
            elif isinstance(node, ast.Import):
                graph[name].update(alias.name for alias in node.names)
        graph[name] = {t for t in graph[name] if t in mods and t != name}
    return graph


def _cycles(graph: dict[str, set[str]], nodes) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found


MODULES = _modules()


def test_no_import_circle():
    assert _cycles(_imports(MODULES), MODULES) == []


def test_the_cycle_check_sees_a_circle():
    graph = defaultdict(set, {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert _cycles(graph, ["a", "b", "c", "d"]) == [["a", "b", "c"]]


def test_the_agent_never_imports_the_hub():
    graph = _imports(MODULES)
    leaks = {m: sorted(t for t in graph[m] if t.split(".")[0] == "hub") for m in MODULES if m.startswith("node_agent")}
    assert {m: t for m, t in leaks.items() if t} == {}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_long_module_says_why(name):
    path = MODULES[name]
    text = path.read_text(encoding="utf-8")
    if text.count("\n") <= MAX_LINES:
        return
    doc = ast.get_docstring(ast.parse(text)) or ""
    assert re.search(r"\b(long|lines)\b", doc), f"{path.relative_to(ROOT)} has over {MAX_LINES} lines and its docstring does not say why"


STALE = re.compile(r"CONTRACTS\.md|\.\./shared|shared/spec/|\bissue \d+\b|\bCORE\b")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_pointer_to_a_document_outside_the_repository(name):
    path = MODULES[name]
    hits = [f"{i}: {line.strip()}" for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if STALE.search(line)]
    assert hits == [], f"{path.relative_to(ROOT)}"
