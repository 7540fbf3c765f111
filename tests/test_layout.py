"""Where test code lives: tests/ holds test modules and conftest files; whatever tests and benches
share lives in the `testing` package; conftest files declare fixtures and pytest hooks, nothing a
test imports."""

from __future__ import annotations

import ast
from pathlib import Path

from testing import REPO_ROOT

TESTS = REPO_ROOT / "tests"


def _sources(*folders: str) -> dict[Path, ast.Module]:
    return {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for folder in folders
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
    }


def _imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_tests_holds_only_test_modules_and_conftests() -> None:
    helpers = [
        str(path.relative_to(REPO_ROOT))
        for path in TESTS.rglob("*.py")
        if path.name not in ("__init__.py", "conftest.py") and not path.name.startswith("test_")
    ]
    assert helpers == [], "helpers belong in the testing package"


def test_nothing_imports_a_test_module_or_a_conftest() -> None:
    importing = {
        str(path.relative_to(REPO_ROOT)): sorted(
            name for name in _imported(tree) if name == "tests" or name.startswith("tests.")
        )
        for path, tree in _sources("tests", "testing", "bench").items()
    }
    assert {path: names for path, names in importing.items() if names} == {}


def _is_fixture(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return ast.unparse(target) in ("pytest.fixture", "fixture")


def test_conftests_declare_only_fixtures_and_hooks() -> None:
    others = []
    for path in TESTS.rglob("conftest.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                any(_is_fixture(d) for d in node.decorator_list)
                or node.name.startswith(("pytest_", "_"))  # hooks, and the fixtures' own helpers
            ):
                continue
            if isinstance(node, ast.Import | ast.ImportFrom | ast.Expr):  # imports, docstring
                continue
            others.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert others == [], "a conftest declares fixtures; what else a test needs is in testing/"
