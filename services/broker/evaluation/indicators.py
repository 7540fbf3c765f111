"""The evaluation's indicators and weights as data (YAML checked against its JSON Schema), and
how a measure scores (pure).

The packaged `default_indicators.yaml` is read unless `EVALUATION_INDICATORS_FILE` names an
operator's own; a bad file stops the broker at start, naming the entry (as a bad routing policy
does), so that no report is ever computed from a half-read scheme.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from jsonschema import Draft202012Validator

SCHEMA_FILE = Path(__file__).with_name("indicators.schema.json")
DEFAULT_FILE = Path(__file__).with_name("default_indicators.yaml")
TOTAL_WEIGHT = 100


class IndicatorsError(ValueError):
    """An invalid indicators file; the message names each bad entry by its JSON path."""


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    name_en: str


@dataclass(frozen=True)
class Indicator:
    id: str
    group: str
    name: str
    name_en: str
    source: Literal["computed", "entered"]
    weight: float
    measure: str | None = None
    best: float | None = None
    worst: float | None = None

    def score(self, value: float | None) -> float | None:
        """0-100: 100 at `best` or beyond, 0 at `worst` or beyond, linear between; None
        without a value. An entered indicator's value is its score."""
        if value is None:
            return None
        if self.source == "entered":
            return float(value)
        assert self.best is not None
        assert self.worst is not None
        if self.best == self.worst:
            return 100.0 if value == self.best else 0.0
        fraction = (value - self.worst) / (self.best - self.worst)
        return round(100 * min(1.0, max(0.0, fraction)), 1)


@dataclass(frozen=True)
class Indicators:
    groups: tuple[Group, ...]
    indicators: tuple[Indicator, ...]

    def get(self, indicator_id: str) -> Indicator | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)

    def total(self, scores: Mapping[str, float | None], group: str | None = None) -> float | None:
        """The weighted mean of the indicators (of `group`, or all) that have a score: an
        unscored indicator's weight leaves the mean rather than counting as 0, so a CDO is not
        marked down for a bureau that has not scored yet. None when nothing weighted has."""
        return weighted_mean(
            (i.weight, scores.get(i.id))
            for i in self.indicators
            if i.weight > 0 and group in (None, i.group)
        )

    def totals(
        self, scores: Sequence[float | None]
    ) -> tuple[float | None, dict[str, float | None]]:
        """`total` of all the indicators and of each group at once, from the scores in the
        indicators' order: a scorecard row's, without a mapping per row."""
        weighed = [(i, s) for i, s in zip(self.indicators, scores, strict=True) if i.weight > 0]
        return weighted_mean((i.weight, s) for i, s in weighed), {
            g.id: weighted_mean((i.weight, s) for i, s in weighed if i.group == g.id)
            for g in self.groups
        }


def weighted_mean(scores: Iterable[tuple[float, float | None]]) -> float | None:
    """The mean of the (weight, score) pairs that have a score, weighted, to 0.1; None when
    their weights sum to nothing."""
    weights = weighted = 0.0
    for weight, score in scores:
        if score is not None:
            weights += weight
            weighted += weight * score
    return round(weighted / weights, 1) if weights else None


def load_indicators(path: Path | None = None) -> Indicators:
    source = path or DEFAULT_FILE
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise IndicatorsError(f"evaluation indicators {source}: {exc}") from exc
    return parse_indicators(data, source=str(source))


def parse_indicators(data: object, *, source: str = "<data>") -> Indicators:
    problems = sorted((error.json_path, error.message) for error in _validator().iter_errors(data))
    if not problems:
        problems = list(_semantic_problems(cast(dict[str, Any], data)))
    if problems:
        lines = "\n".join(f"  {path}: {message}" for path, message in problems)
        raise IndicatorsError(f"invalid evaluation indicators {source}:\n{lines}")
    document = cast(dict[str, Any], data)
    return Indicators(
        groups=tuple(Group(**g) for g in document["groups"]),
        indicators=tuple(Indicator(**i) for i in document["indicators"]),
    )


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def _semantic_problems(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    groups = {g["id"] for g in document["groups"]}
    seen: set[str] = set()
    for n, indicator in enumerate(document["indicators"]):
        if indicator["id"] in seen:
            yield f"$.indicators[{n}].id", f"{indicator['id']!r} names an earlier indicator too"
        seen.add(indicator["id"])
        if indicator["group"] not in groups:
            yield f"$.indicators[{n}].group", f"{indicator['group']!r} is not among `groups`"
    total = sum(i["weight"] for i in document["indicators"])
    if abs(total - TOTAL_WEIGHT) > 1e-9:
        yield "$.indicators", f"the weights sum to {total:g}, not {TOTAL_WEIGHT}"
