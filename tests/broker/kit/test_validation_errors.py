"""Validation errors as people read them: every error our request bodies raise has its Chinese,
and our validators refuse in both languages. Pure."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import broker
from broker.catalog.schemas import DatasetIn
from broker.directory.schemas import AppointmentIn, OrganisationIn
from broker.kit.validation_errors import describe, message_zh
from broker.requests.filing.schemas import RequestIn
from broker.requests.schemas import DecisionIn
from broker.webhooks.schemas import RangeReplayIn

PERIOD = {"start": "2026-01-01T00:00:00+08:00", "end": "2026-06-01T00:00:00+08:00"}
SHARE = {
    "kind": "share",
    "dataset_id": "gd-gat-fugitives",
    "fields": ["name"],
    "purpose": "核验身份所需的数据",
    "period": PERIOD,
}


def _errors(model: type[BaseModel], body: dict[str, Any]) -> list[Any]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    return list(refused.value.errors())


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (RequestIn, {}),  # missing
        (RequestIn, SHARE | {"kind": "loan"}),  # literal_error
        (RequestIn, SHARE | {"purpose": "x"}),  # string_too_short
        (RequestIn, SHARE | {"fields": []}),  # too_short
        (RequestIn, SHARE | {"fields": "name"}),  # list_type
        (RequestIn, SHARE | {"surprise": 1}),  # extra_forbidden
        (RequestIn, SHARE | {"period": {"start": "soon", "end": "later"}}),  # datetime parsing
        (RequestIn, SHARE | {"period": PERIOD | {"end": "2025-01-01T00:00:00+08:00"}}),
        (RequestIn, SHARE | {"fields": ["name", "name"]}),  # our validator
        (RequestIn, SHARE | {"kind": "demand"}),  # our validator: a demand's own fields
        (RequestIn, SHARE | {"purpose": 5}),  # string_type
        (DecisionIn, {"decision": "reject"}),  # our validator: a reason
        (OrganisationIn, {"id": "A!", "kind": "ministry"}),  # pattern, enum, missing
        (AppointmentIn, {"organisation_id": "gz-gaj", "starts_at": "2026-01-01T00:00:00"}),
        (DatasetIn, {"fields": [{"name": "a", "label": "甲", "sensitive": True}]}),
        (RangeReplayIn, {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
    ],
)
def test_every_error_a_body_raises_is_said_in_chinese(
    model: type[BaseModel], body: dict[str, Any]
) -> None:
    errors = _errors(model, body)
    assert errors
    assert [e["type"] for e in errors if message_zh(e) is None] == []


def test_a_model_check_names_its_field_in_both_languages() -> None:
    [error] = _errors(RequestIn, SHARE | {"period": PERIOD | {"end": "2025-01-01T00:00:00Z"}})
    error["loc"] = ("body", *error["loc"])  # as FastAPI locates a body's errors
    described = describe(error)
    assert (described.field, described.where) == ("period.end", "body")
    assert described.message == "must be after start"
    assert described.message_zh == "结束时间须晚于开始时间"


def test_a_choice_is_listed_in_chinese() -> None:
    [error] = _errors(RequestIn, SHARE | {"kind": "loan"})
    assert message_zh(error) == "应为以下值之一：'share'、'return'、'demand'、'it_project'"


def test_no_schema_refuses_in_english_only() -> None:
    """A validator on a request body raises `Refusal` (both languages), not a bare ValueError."""
    bare = []
    for path in Path(broker.__file__).parent.rglob("schemas.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            raised = node.exc if isinstance(node, ast.Raise) else None
            if isinstance(raised, ast.Call) and ast.unparse(raised.func) == "ValueError":
                bare.append(f"{path.name}:{node.lineno}")
    assert bare == []
