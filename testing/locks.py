"""What the lock files were made from: one digest of every requirement list in the two
pyproject.toml files (the broker's and the client package's), written by deploy/local/lock on
each lock's first line, so that a pyproject edited without locking again is caught.

    python -m testing.locks          prints the lock's first line for the pyprojects as they are
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from testing import REPO_ROOT

PYPROJECTS = (REPO_ROOT / "pyproject.toml", REPO_ROOT / "clients" / "python" / "pyproject.toml")
LOCKS = (REPO_ROOT / "requirements.lock", REPO_ROOT / "requirements-dev.lock")
PREFIX = "# inputs sha256: "


def requirement_lists(pyproject: Path) -> dict[str, Any]:
    """Every requirement the pyproject names: its dependencies, extras, Python and build
    backend, each list sorted and with its spaces removed (order and layout lock nothing)."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data["project"]

    def tidy(items: list[str]) -> list[str]:
        return sorted(re.sub(r"\s+", "", item) for item in items)

    return {
        "requires-python": project.get("requires-python"),
        "dependencies": tidy(project.get("dependencies", [])),
        "optional-dependencies": {
            extra: tidy(items) for extra, items in project.get("optional-dependencies", {}).items()
        },
        "build-system": tidy(data.get("build-system", {}).get("requires", [])),
    }


def inputs_digest() -> str:
    lists = {str(p.relative_to(REPO_ROOT)): requirement_lists(p) for p in PYPROJECTS}
    return hashlib.sha256(json.dumps(lists, sort_keys=True).encode()).hexdigest()


def recorded_digest(lock: Path) -> str | None:
    """The digest on the lock's first line, if it has one."""
    first = lock.read_text(encoding="utf-8").partition("\n")[0]
    return first.removeprefix(PREFIX) if first.startswith(PREFIX) else None


def pins(lock: Path) -> dict[str, str]:
    """Each locked distribution's (normalised) name and version."""
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", lock.read_text(), re.M)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in found}


if __name__ == "__main__":
    sys.stdout.write(f"{PREFIX}{inputs_digest()}\n")
