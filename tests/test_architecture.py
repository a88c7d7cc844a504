"""Imports inside govern/ point one way: down the layers of docs/architecture.md.

Every import of a govern module counts, wherever it stands: at the top of a
module, inside a function (a lazy import that goes up a layer is still an
arrow) or under ``if TYPE_CHECKING``. The layer table is read from the
```layers block of docs/architecture.md, so the document and the test agree.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "govern"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


# ---------------------------------------------------------------- modules and imports


@lru_cache(maxsize=1)
def modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, whether it is a package's __init__) for every module of govern/."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        out[".".join(parts)] = (path, is_package)
    return out


def module_of(name: str, known) -> str | None:
    """The module ``name`` (a module, or a name defined in one) lives in."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in known:
            return ".".join(parts)
        parts.pop()
    return None


def absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` names, relative imports resolved."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_in(module: str, is_package: bool, source: str, known) -> list[tuple[str, str, str, int]]:
    """(module, imported module, name imported or "", line) for each govern import in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):  # every node: function bodies and TYPE_CHECKING blocks too
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = module_of(alias.name, known)
                if target is not None and target != module:
                    found.append((module, target, "", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = absolute(module, is_package, node)
            for alias in node.names:
                # `from govern.pii import engine` imports the module govern.pii.engine
                full = f"{base}.{alias.name}"
                target = full if full in known else module_of(base, known)
                if target is not None and target != module:
                    found.append((module, target, alias.name, node.lineno))
    return found


@lru_cache(maxsize=1)
def imports() -> list[tuple[str, str, str, int]]:
    known = modules()
    return [i for m, (path, is_package) in known.items() for i in imports_in(m, is_package, path.read_text(encoding="utf-8"), known)]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# ---------------------------------------------------------------- the layer table


@lru_cache(maxsize=1)
def layers() -> tuple[tuple[str, ...], dict[str, str]]:
    """(layer names, bottom first; entry -> layer) from the ```layers block of docs/architecture.md."""
    block = re.search(r"^```layers\n(.*?)^```", ARCHITECTURE.read_text(encoding="utf-8"), re.S | re.M)
    assert block, f"{ARCHITECTURE} has no ```layers block"
    order: list[str] = []
    entries: dict[str, str] = {}
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        layer, *names = line.split()
        if layer not in order:
            order.append(layer)
        for name in names:
            assert name not in entries, f"{name} is listed twice in {ARCHITECTURE.name}"
            entries[name] = layer
    return tuple(order), entries


def layer_of(module: str) -> str | None:
    """The most specific entry: ``a.b`` (that module) over ``a.b.*`` over ``a.*``."""
    _, entries = layers()
    if module in entries:
        return entries[module]
    parts = module.split(".")
    while parts:
        if ".".join(parts) + ".*" in entries:
            return entries[".".join(parts) + ".*"]
        parts.pop()
    return None


def upward(found) -> list[str]:
    order, _ = layers()
    return [f"{s}:{line} ({layer_of(s)}) imports {t} ({layer_of(t)})" for s, t, _, line in sorted(set(found))
            if order.index(layer_of(t)) > order.index(layer_of(s))]


# ---------------------------------------------------------------- the checks on govern/


def test_the_walk_sees_every_arrow():
    graph = {m: {t for s, t, _, _ in imports() if s == m} for m in modules()}
    assert sum(len(v) for v in graph.values()) > 150
    assert "govern.governor" in graph["govern"]
    assert "govern.pii.engine" in graph["govern.governor"]  # inside pii_engine() and under TYPE_CHECKING
    assert "govern.audit.canonical" in graph["govern.audit.sinks.file"]  # `from .. import canonical`


def test_no_import_cycle():
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for source, target, _, _ in imports():
        graph[source].add(target)
    found = cycles(graph)
    arrows = [f"{s} -> {t}" for cycle in found for s in cycle for t in sorted(graph[s]) if t in cycle]
    assert not found, f"import cycles in govern/: {found}\n  " + "\n  ".join(arrows)


def test_no_private_name_is_imported_from_another_module():
    private = [f"{s}:{line} imports {name} from {t}" for s, t, name, line in imports()
               if name.startswith("_") and not name.startswith("__")]
    assert not private, "private names imported from other modules:\n  " + "\n  ".join(private)


def private_names_defined(tree: ast.AST) -> set[str]:
    """Private names a module defines: functions, classes, variables, arguments, attributes it sets."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def test_no_private_attribute_of_another_module_is_used():
    """``gov._govern(...)``, ``P._kind``: an attribute named like a private name of another govern module.

    ``self._x`` / ``cls._x`` and names the module defines itself are its own business.
    """
    trees = {m: ast.parse(path.read_text(encoding="utf-8")) for m, (path, _) in modules().items()}
    defined = {m: private_names_defined(tree) for m, tree in trees.items()}
    found = []
    for module, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not node.attr.startswith("_") or node.attr.startswith("__"):
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls") or node.attr in defined[module]:
                continue
            owners = sorted(m for m, names in defined.items() if node.attr in names)
            if owners:
                found.append(f"{module}:{node.lineno} uses {ast.unparse(node)} (private to {', '.join(owners)})")
    assert not found, "private attributes of other modules used:\n  " + "\n  ".join(found)


def test_every_module_has_a_layer():
    missing = sorted(m for m in modules() if layer_of(m) is None)
    assert not missing, f"modules with no layer: add them to the ```layers block of docs/architecture.md: {missing}"


def test_every_entry_of_the_table_names_a_module():
    _, entries = layers()
    stale = sorted(e for e in entries if e.removesuffix(".*") not in modules())
    assert not stale, f"entries of docs/architecture.md's ```layers block that name no module: {stale}"


def test_imports_point_down_the_layers():
    order, _ = layers()
    assert order == ("model", "bundle", "engines", "features", "edges")
    up = upward(imports())
    assert not up, f"imports that point up ({' < '.join(order)}):\n  " + "\n  ".join(up)


@pytest.mark.parametrize("module, layer", [
    ("govern.errors", "model"),
    ("govern.principal", "model"),
    ("govern.bundle.compiled", "model"),
    ("govern.sql.safety", "model"),
    ("govern.bundle.loader", "bundle"),
    ("govern.bundle.yaml_source", "bundle"),
    ("govern.bundle.entities", "bundle"),
    ("govern.sql.passes.check_statement", "engines"),
    ("govern.pii.engine", "engines"),
    ("govern.audit.trail", "engines"),
    ("govern.connections", "engines"),
    ("govern.entities.scope", "features"),
    ("govern.retrieval.wrapper", "features"),
    ("govern.governor", "edges"),
    ("govern.cli", "edges"),
    ("govern.adapters.langchain", "edges"),
])
def test_layer_of(module, layer):
    assert layer_of(module) == layer


# ---------------------------------------------------------------- the checks catch what they should


def test_a_lazy_relative_or_type_checking_import_is_an_arrow():
    known = {"govern", "govern.a", "govern.a.b", "govern.a.c", "govern.d"}
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import c\n"
        "if TYPE_CHECKING:\n"
        "    from govern.d import Thing\n"
        "def f():\n"
        "    from .. import d\n"
        "    import govern.a.c\n"
        "    from govern.a.c import _hidden\n"
    )
    found = imports_in("govern.a.b", False, source, known)
    assert [(t, name) for _, t, name, _ in found] == [
        ("govern.a.c", "c"), ("govern.d", "Thing"), ("govern.d", "d"), ("govern.a.c", ""), ("govern.a.c", "_hidden"),
    ]


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_an_upward_import_is_found():
    assert upward([("govern.bundle.loader", "govern.retrieval.rules", "load_documents", 1)])
    assert upward([("govern.entities.scope", "govern.governor", "cursor_for", 1)])
    assert not upward([("govern.governor", "govern.entities.scope", "entity_scope", 1)])
