"""`HOLIDAYS_FILE`: the years an operator adds to the packaged calendar, read and checked once
at start, so a mistake stops the process with the entry named instead of moving deadlines.

The file is YAML, one key per year (schema: `holidays.schema.json` here, public copy
`schemas/holidays.schema.json`; a test keeps them equal):

    2027:
      notice: 国办发明电〔2026〕7号   # optional, for people
      holidays: [2027-01-01, 2027-02-06, ...]
      workdays: [2027-02-14]          # make-up working days (调休), weekends

Beyond the schema: each date lies in its year, no date is both a holiday and a workday, and a
make-up working day is a Saturday or Sunday (a weekday is a working day anyway: listing one is a
typo for another date).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker

from broker.calendar.days import YearRules

SCHEMA_FILE = Path(__file__).with_name("holidays.schema.json")


class HolidaysFileError(ValueError):
    """An invalid holidays file; `problems` holds (path, message) pairs, paths like
    `$['2027'].holidays[3]`."""

    def __init__(self, source: str, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {path}: {message}" for path, message in self.problems)
        super().__init__(f"invalid HOLIDAYS_FILE {source}:\n{lines}")


class _DatesAsText(yaml.SafeLoader):
    """YAML's own date parsing would fail on 2027-02-30 without saying where; read dates as text
    and let the schema's `format: date` name the entry."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_holidays_file(path: Path) -> dict[int, YearRules]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_DatesAsText)
    except OSError as exc:
        raise HolidaysFileError(str(path), [("$", f"cannot be read: {exc}")]) from exc
    except yaml.YAMLError as exc:
        raise HolidaysFileError(str(path), [("$", f"not valid YAML: {exc}")]) from exc
    return parse_holidays(data if data is not None else {}, source=str(path))


def parse_holidays(data: object, *, source: str = "<data>") -> dict[int, YearRules]:
    document = _as_json(data)
    problems = sorted((e.json_path, e.message) for e in _validator().iter_errors(document))
    if not problems:
        problems = list(_semantic_problems(document))
    if problems:
        raise HolidaysFileError(source, problems)
    return {
        int(year): YearRules(
            holidays=frozenset(date.fromisoformat(d) for d in entry["holidays"]),
            workdays=frozenset(date.fromisoformat(d) for d in entry["workdays"]),
        )
        for year, entry in document.items()
    }


def _as_json(value: object) -> Any:
    """YAML reads `2027:` as an int (and a caller's data may hold dates); the schema speaks
    JSON."""
    if isinstance(value, dict):
        return {str(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


@functools.cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _semantic_problems(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for year, entry in document.items():
        holidays = set(entry["holidays"])
        for kind in ("holidays", "workdays"):
            for i, text in enumerate(entry[kind]):
                path = f"$['{year}'].{kind}[{i}]"
                day = date.fromisoformat(text)
                if day.year != int(year):
                    yield path, f"{text} is not in {year}"
                elif kind == "workdays" and text in holidays:
                    yield path, f"{text} is listed as a holiday too"
                elif kind == "workdays" and day.weekday() < 5:
                    yield (
                        path,
                        f"{text} is a {day:%A}: make-up working days (调休) are weekends, "
                        "and a weekday works anyway",
                    )
