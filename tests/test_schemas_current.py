"""Committed schemas match the code: a stale one fails here, with the command to refresh it."""

from __future__ import annotations

import pytest

from broker.openapi import render
from core.events import EVENT_MODELS, schema_of
from testing import REPO_ROOT

REFRESH = "refresh them: cdo-broker schemas"


def test_openapi_document_is_current() -> None:
    committed = (REPO_ROOT / "schemas" / "openapi.json").read_text(encoding="utf-8")
    assert committed == render(), REFRESH


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_event_schema_is_current(name: str) -> None:
    path = REPO_ROOT / "schemas" / "events" / f"{name}.schema.json"
    assert path.exists(), REFRESH
    assert path.read_text(encoding="utf-8") == schema_of(name), REFRESH
