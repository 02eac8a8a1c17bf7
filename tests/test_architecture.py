"""The engine's shape: no import circles, the engine never imports the UI or the lab, a run imports only the check
families its plan needs, CheckId follows the checklist."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from checks.audit.run import AUDIT_CHECKS
from checks.model import CheckId
from checks.registry import CHECKLIST

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("checks", "console", "lab")
UI_AND_LAB = ("streamlit", "console", "pages", "lab", "app")
KNOWN_CIRCLES: list[list[str]] = []  # none left: add one here only with the plan to remove it


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


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle: the strongly connected groups of two or more modules (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def test_given_the_import_graph_when_walked_then_no_module_imports_itself_through_others():
    # Given every module of checks/, console/ and lab/
    graph = import_graph()
    # When the imports are followed (function-level ones included)
    found = circles(graph)
    # Then there is no circle
    assert [c for c in found if c not in KNOWN_CIRCLES] == []


def test_given_the_engine_when_its_imports_are_read_then_it_never_imports_the_ui_or_the_lab():
    offenders = sorted(
        f"{name} imports {imported}"
        for name, path in module_files().items() if name.split(".")[0] == "checks"
        for imported in imported_names(path) if imported.split(".")[0] in UI_AND_LAB
    )
    assert offenders == []


def function_level_imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import inside a function of `path`."""
    found = []
    for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    found += [(node.lineno, alias.name) for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    found.append((node.lineno, node.module))
    return found


DEFERRING = {  # the modules allowed to import project modules inside functions, and why
    "checks.cli": "the CLI loads only the command that runs",
    "checks.registry": "a check's module loads when the check first runs",
    "checks.knowledge.network": "the catalog loads on the first network failure to explain, not before a connect",
}


def test_given_the_project_when_imports_sit_inside_functions_then_only_the_cli_and_the_registry_defer_modules():
    # Given the modules outside the CLI and the registry
    hidden = sorted(
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for module, path in module_files().items() if not module.startswith(tuple(DEFERRING))
        for line, name in function_level_imports(path)
        if name.split(".")[0] in PACKAGES
    )
    # Then none of them imports a project module inside a function (that only hides a circle); heavy libraries
    # such as pandas may still load on first use
    assert hidden == []


def test_given_a_circle_when_the_walker_looks_then_it_finds_it():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_check_ids_are_declared_in_checklist_order():
    # Given the checklist and the admin audit's checks, in the order they run and are reported
    order = [spec.id for spec in CHECKLIST] + [check_id for check_id, *_ in AUDIT_CHECKS]
    # Then CheckId lists exactly these ids, in that order (reports and imports sort by it)
    assert list(CheckId) == order


def test_given_a_run_when_it_ends_then_it_imported_only_the_families_its_plan_needed():
    # Given a fresh interpreter and a Gmail app-password setup, running only the `settings` check
    code = ("import sys; from checks import config_from_values, run_checklist; run_checklist(config_from_values("
            "{'profile': 'gmail', 'username': 'a@gmail.com', 'password': 'x'}), only=['settings']); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith(('checks.oauth', 'checks.domain', "
            "'checks.smtp', 'checks.dns', 'checks.knowledge.catalog', 'msal', 'checkdmarc', 'smtplib')))))")
    # When it runs
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    # Then no OAuth2, sender-domain, SMTP or DNS check module (nor the catalog, MSAL or smtplib) was imported
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == ""
