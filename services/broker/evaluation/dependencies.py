"""The indicators the lifespan (app.py) loads, as a typed dependency (kit/deps.py says how)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from broker.evaluation.indicators import Indicators
from broker.kit.deps import AppResource

EVALUATION_INDICATORS = AppResource[Indicators]("evaluation_indicators")

IndicatorsDep = Annotated[Indicators, Depends(EVALUATION_INDICATORS.provide)]
