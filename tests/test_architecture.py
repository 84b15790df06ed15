"""The house's one rule of imports: they point down, and nothing goes round in a circle.

Floors, from the top: ``eval`` → ``channels`` → ``contact_center`` → ``knowledge_base`` and
``routing`` → ``retrieval`` → ``foundation``. Inside ``contact_center``, the web layer and the
shipped ``testing`` room sit above the domain rooms (conversation, gru, agents, handoffs,
kb_admin), which never import them. Only the composition roots may import upward: the app
factory (``contact_center.app``, which mounts the channels), the CLI (``contact_center.cli``,
which reaches eval too), what the lifespan builds (``contact_center.services``, which picks the
fake backends that settings can ask for) and the shipped harnesses of ``contact_center.testing``,
which drive the whole application. The graph is read with :mod:`ast` from the source files, imports
inside functions and under ``TYPE_CHECKING`` included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Higher number, higher floor. An import may only go to the same floor or a lower one.
FLOORS = {
    "foundation": 0,
    "retrieval": 1,
    "routing": 2,
    "knowledge_base": 2,
    "contact_center": 3,
    "channels": 4,
    "eval": 5,
}
#: Inside contact_center: the web layer over the domain rooms.
CONTACT_CENTER_TOP = ("contact_center.web", "contact_center.testing")
COMPOSITION_ROOTS = (
    "contact_center.app",
    "contact_center.cli",
    "contact_center.services",
    "contact_center.testing",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    modules = {}
    for package in FLOORS:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            modules[module_name(path)] = path
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The product modules that ``name`` imports (``from x import y`` counts ``x.y`` when it
    is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = product_modules()
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def is_root(module: str) -> bool:
    return any(module == root or module.startswith(root + ".") for root in COMPOSITION_ROOTS)


def upward(source: str, target: str) -> bool:
    source_floor, target_floor = FLOORS[source.split(".")[0]], FLOORS[target.split(".")[0]]
    if target_floor != source_floor:
        return target_floor > source_floor
    if source.startswith("contact_center."):
        in_top = [target.startswith(top) for top in CONTACT_CENTER_TOP]
        return any(in_top) and not any(source.startswith(top) for top in CONTACT_CENTER_TOP)
    return False


def test_the_graph_is_read() -> None:
    graph = import_graph()
    # Guards the reader itself: a known downward import must be seen.
    assert "contact_center.conversation.engine" in graph
    assert "retrieval.hybrid" in graph["contact_center.conversation.engine"]
    assert "foundation.errors" in graph["retrieval.qdrant_store"]


def test_no_import_runs_up_a_floor() -> None:
    graph = import_graph()
    offending = sorted(
        f"{source} imports {target}"
        for source, targets in graph.items()
        if not is_root(source)
        for target in targets
        if upward(source, target)
    )
    assert not offending, "imports that run up a floor:\n" + "\n".join(offending)


def test_no_circle_of_imports() -> None:
    graph = import_graph()
    circles = strongly_connected(graph)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm; returns the components of more than one module, and self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
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
                result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_the_circle_finder_finds_circles(graph: dict[str, set[str]], expected: list) -> None:
    assert strongly_connected(graph) == expected


def test_upward_rule_names_an_offence() -> None:
    assert upward("retrieval.hybrid", "contact_center.errors")
    assert upward("contact_center.conversation.engine", "contact_center.web.deps")
    assert not upward("channels.webchat.routes", "contact_center.web.deps")
    assert not upward("contact_center.web.deps", "contact_center.conversation.engine")
