"""Where SQL lives: every statement is built and run in a repository (a `repository.py` module or
a `repository/` package), so a reader finds a domain's queries in one place and a service reads
as the rules it applies. Outside them only the database kit (core/db.py, and core/driver.py,
which runs a repository's statement on the driver), the tables' own DDL
(core/models/) and the migrations may touch SQL.

A session used as the unit of work is not SQL here: `add`, `flush`, `delete` of a loaded object
and `get` by primary key belong to services (docs/ARCHITECTURE.md, "Where SQL lives")."""

from __future__ import annotations

import ast
from pathlib import Path

from testing import REPO_ROOT

SERVICES = REPO_ROOT / "services"
# What builds a statement, as imported from sqlalchemy (or read off `import sqlalchemy as sa`).
BUILDERS = {
    "select", "insert", "update", "delete", "text", "exists", "union", "union_all", "func",
    "and_", "or_", "not_", "case", "tuple_", "literal_column", "bindparam", "values", "column",
    "table", "lambda_stmt",
}  # fmt: skip
# What runs one: a session's or a connection's methods given a statement.
RUNNERS = {"execute", "scalars", "scalar", "stream", "stream_scalars"}
ALLOWED = (
    "core/db.py",
    "core/driver.py",
    "core/models/",
    "broker/migrations/",
)


def _allowed(path: Path) -> bool:
    relative = path.relative_to(SERVICES).as_posix()
    return (
        path.name == "repository.py"
        or "repository" in path.relative_to(SERVICES).parts[:-1]
        or relative.startswith(ALLOWED)
    )


def _sql_in(tree: ast.Module) -> list[str]:
    found = []
    modules = set()  # names `import sqlalchemy [as sa]` binds
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name.startswith("sqlalchemy")}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name in BUILDERS]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr in BUILDERS
        ):
            found.append(f"{node.lineno}: uses {node.value.id}.{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in RUNNERS
            and node.args  # a statement given: not a Redis pipeline's execute()
        ):
            found.append(f"{node.lineno}: runs {ast.unparse(node.func)}")
    return sorted(found, key=lambda hit: int(hit.split(":")[0]))


def test_sql_is_built_and_run_only_in_repositories() -> None:
    outside = {
        path.relative_to(REPO_ROOT).as_posix(): found
        for path in sorted(SERVICES.rglob("*.py"))
        if not _allowed(path) and (found := _sql_in(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert outside == {}, "move these statements to the domain's repository"


def test_the_check_sees_sql() -> None:
    """The check above passes only because it can fail: each way of writing SQL is caught."""
    caught = _sql_in(
        ast.parse(
            "import sqlalchemy as sa\n"
            "from sqlalchemy import select\n"
            "from sqlalchemy.dialects.postgresql import insert\n"
            "async def f(session, pipe):\n"
            "    await session.execute(sa.text('SELECT 1'))\n"
            "    await session.scalars(select(1))\n"
            "    await pipe.execute()\n"
        )
    )
    assert caught == [
        "2: imports select",
        "3: imports insert",
        "5: runs session.execute",
        "5: uses sa.text",
        "6: runs session.scalars",
    ]


def test_only_repositories_and_the_kit_are_exempt() -> None:
    """The check above passes only because it reads the services' modules: a page, a service or
    a job is read; a repository module or package, the kit, the DDL and the migrations are not."""
    assert [
        _allowed(SERVICES / path)
        for path in (
            "broker/console/pages.py",
            "broker/requests/decisions.py",
            "notifier/worker.py",
            "broker/console/repository.py",
            "broker/requests/repository/listing.py",
            "core/db.py",
            "core/driver.py",
            "core/models/directory.py",
            "broker/migrations/versions/x.py",
        )
    ] == [False, False, False, True, True, True, True, True, True]
