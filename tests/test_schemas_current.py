"""Committed schemas match the code: a stale document fails here, with the command to refresh."""

from __future__ import annotations

from broker.openapi import render
from tests.conftest import REPO_ROOT


def test_openapi_document_is_current() -> None:
    committed = (REPO_ROOT / "schemas" / "openapi.json").read_text(encoding="utf-8")
    assert committed == render(), "refresh it: cdo-broker openapi > schemas/openapi.json"
