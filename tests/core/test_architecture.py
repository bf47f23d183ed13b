"""The shape of the house: dependencies point one way, the outbox keeps its internals,
functions and files stay short enough to read.

Every import counts, those inside functions too: an import moved into a function to dodge
a cycle is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ancillary"
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 400


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _resolve(name: str, modules) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        targets = {_resolve(imported, modules) for imported in _imports(path)}
        graph[name] = {t for t in targets if t and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(root):
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_no_import_cycle_inside_the_package():
    assert _cycles(import_graph()) == []


def test_the_cycle_check_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_outbox_reaches_into_the_outbox():
    graph = import_graph()
    reaching = sorted(f"{name} -> {target}" for name, targets in graph.items() for target in targets
                      if target.startswith("ancillary.outbox.") and not name.startswith("ancillary.outbox"))
    assert reaching == []


def test_the_outbox_depends_on_no_context_that_uses_it():
    users = ("ancillary.reminders", "ancillary.service", "ancillary.scheduling", "ancillary.archive")
    graph = import_graph()
    wrong = sorted(f"{name} -> {target}" for name, targets in graph.items() if name.startswith("ancillary.outbox")
                   for target in targets if target.startswith(users))
    assert wrong == []


def test_functions_and_files_are_short():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(PACKAGE.parent)
        if len(source.splitlines()) > MAX_FILE_LINES:
            long.append(f"{where}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{where}:{node.lineno} {node.name}: {length} lines")
    assert long == []


def _writes_of(path: Path, attributes: set[str], owner: str) -> list[str]:
    """Assignments ``<owner>.<attribute> = ...`` (or ``<owner>.task.<attribute>``) in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            for leaf in (target.elts if isinstance(target, ast.Tuple) else [target]):
                if (isinstance(leaf, ast.Attribute) and leaf.attr in attributes
                        and isinstance(leaf.value, ast.Name) and leaf.value.id == owner):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{leaf.lineno}")
    return found


def test_only_the_ladder_moves_a_service_order():
    """Status and layer of an order change in service/ladder.py only, each move with its audit entry."""
    writes = [hit for path in PACKAGE.rglob("*.py") if path.name != "ladder.py"
              for hit in _writes_of(path, {"status", "layer"}, "order")]
    assert writes == []


def test_only_the_task_moves_a_task():
    """Task status changes in Task's own methods (claim, release, complete, cancel)."""
    writes = [hit for path in PACKAGE.rglob("*.py") if path != PACKAGE / "queues" / "models.py"
              for hit in _writes_of(path, {"status", "assignee_id"}, "task")]
    assert writes == []
