"""The engine's shape: no import circles, the engine never imports the UI or the lab, CheckId follows the checklist."""

from __future__ import annotations

import ast
from pathlib import Path

from checks.audit.run import AUDIT_CHECKS
from checks.model import CheckId
from checks.registry import CHECKLIST

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("checks", "console", "lab")
UI_AND_LAB = ("streamlit", "console", "pages", "lab", "app")


def module_files() -> dict[str, Path]:
    """Every module of checks/, console/ and lab/ by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def imported_names(path: Path) -> set[str]:
    """Dotted names `path` imports when it runs (imports for annotations under TYPE_CHECKING left out)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                names.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names.add(child.module)
                names.update(f"{child.module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a name imported from a package counts as that package)."""
    modules = module_files()

    def project_module(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        targets = {project_module(imported) for imported in imported_names(path)}
        graph[name] = {t for t in targets if t is not None and t != name and not name.startswith(t + ".")}
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None (depth-first search with colours)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                circle = visit(target)
                if circle:
                    return circle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            circle = visit(module)
            if circle:
                return circle
    return None


def test_given_the_import_graph_when_walked_then_no_module_imports_itself_through_others():
    # Given every module of checks/, console/ and lab/
    graph = import_graph()
    # When the imports are followed (function-level ones included)
    circle = find_circle(graph)
    # Then there is no circle
    assert circle is None, "import circle: " + " -> ".join(circle or ())


def test_given_the_engine_when_its_imports_are_read_then_it_never_imports_the_ui_or_the_lab():
    offenders = sorted(
        f"{name} imports {imported}"
        for name, path in module_files().items() if name.split(".")[0] == "checks"
        for imported in imported_names(path) if imported.split(".")[0] in UI_AND_LAB
    )
    assert offenders == []


def test_given_a_circle_when_the_walker_looks_then_it_finds_it():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


def test_check_ids_are_declared_in_checklist_order():
    # Given the checklist and the admin audit's checks, in the order they run and are reported
    order = [spec.id for spec in CHECKLIST] + [check_id for check_id, *_ in AUDIT_CHECKS]
    # Then CheckId lists exactly these ids, in that order (reports and imports sort by it)
    assert list(CheckId) == order
