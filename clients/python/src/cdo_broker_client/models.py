"""The API's request and response bodies, generated from the broker's OpenAPI document
(`generated/api.py`); the ones the client's calls take and return are named here."""

from __future__ import annotations

from cdo_broker_client.generated.api import (
    DecisionIn,
    DecisionOut,
    GrantOut,
    PageGrantOut,
    PageRequestOut,
    PeriodIn,
    RequestIn,
    RequestOut,
    StepOut,
)

__all__ = [
    "DecisionIn",
    "DecisionOut",
    "GrantOut",
    "PageGrantOut",
    "PageRequestOut",
    "PeriodIn",
    "RequestIn",
    "RequestOut",
    "StepOut",
]
