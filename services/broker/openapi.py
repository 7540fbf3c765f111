"""The OpenAPI document, as committed in `schemas/openapi.json` (a test keeps them equal)."""

from __future__ import annotations

import json
from typing import Any

from broker.app import create_app
from broker.settings import BrokerSettings


def openapi_document() -> dict[str, Any]:
    # The document does not depend on configuration: no lifespan runs to produce it.
    return create_app(BrokerSettings.model_validate({})).openapi()


def render() -> str:
    return json.dumps(openapi_document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
