"""The lock files are the pyprojects' (a requirement edited without locking again fails here), the
image's lock is the suite's versions, and the suite runs on exactly what the dev lock pins."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

from testing.locks import (
    LOCKS,
    PYPROJECTS,
    inputs_digest,
    pins,
    recorded_digest,
    requirement_lists,
)

RELOCK = "lock again: deploy/local/lock"
IMAGE_LOCK, DEV_LOCK = LOCKS


@pytest.mark.parametrize("lock", LOCKS, ids=lambda path: path.name)
def test_lock_is_made_from_the_pyprojects_as_they_are(lock: Path) -> None:
    assert recorded_digest(lock) == inputs_digest(), RELOCK


def test_a_changed_requirement_counts_and_its_layout_does_not(tmp_path: Path) -> None:
    text = PYPROJECTS[0].read_text(encoding="utf-8")
    variants = {
        "same": text,
        "wider": text.replace('"pip-tools>=7.4"', '"pip-tools>=7.3"'),
        "respaced": text.replace('"pip-tools>=7.4"', '"pip-tools >= 7.4"'),
    }
    lists = {}
    for name, variant in variants.items():
        assert name == "same" or variant != text
        (tmp_path / f"{name}.toml").write_text(variant, encoding="utf-8")
        lists[name] = requirement_lists(tmp_path / f"{name}.toml")
    assert lists["respaced"] == lists["same"]
    assert lists["wider"] != lists["same"]


def test_every_pin_is_exact_and_hashed() -> None:
    for lock in LOCKS:
        entries = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text(encoding="utf-8"))
        requirements = [e for e in entries if not e.startswith("#")]
        assert requirements, lock.name
        for entry in requirements:
            assert re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*==\S+", entry), entry.splitlines()[0]
            assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_image_installs_the_versions_the_suite_runs_on() -> None:
    image, dev = pins(IMAGE_LOCK), pins(DEV_LOCK)
    assert image, IMAGE_LOCK.name
    assert {name: dev.get(name) for name in image} == image


def test_the_suite_runs_on_what_the_dev_lock_pins() -> None:
    installed = {}
    for name in pins(DEV_LOCK):
        try:
            installed[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed[name] = None
    assert installed == pins(DEV_LOCK), "make the venv again: deploy/local/bootstrap"
