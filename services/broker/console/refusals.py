"""A refused form in words: the same rules and problems as the API, said in Chinese as the
scheme's documents say it (the problem type's `said_zh`, or its `title_zh`) with the problem's
Chinese detail, or in English with its title and detail (kit/problems.py keeps both)."""

from __future__ import annotations

import re

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from broker.console.texts import text
from broker.kit.problems import Problem
from broker.kit.validation_errors import message_zh

FIELD_PREFIX = re.compile(r"^[a-z_.]+: ")


class Refused(Exception):
    """A form the console refuses before any service is asked; its key names the words."""

    def __init__(self, key: str, status: int = 422) -> None:
        super().__init__(key)
        self.status = status


def in_words(refused: Exception, lang: str) -> str:
    if isinstance(refused, Refused):
        return text(str(refused), lang)
    if isinstance(refused, Problem):
        kind = type(refused)
        if lang == "en":
            return f"{kind.title}: {refused.detail}"
        said = kind.said_zh or kind.title_zh or kind.title
        # the detail without the field name it may start with (people see the field)
        detail = FIELD_PREFIX.sub("", refused.detail_zh)
        return f"{said}：{detail}" if detail and kind.detail_on_pages else said
    assert isinstance(refused, ValidationError)
    said = "; ".join(_error_in(error, lang) for error in refused.errors())
    return said if lang == "en" else f"填写的内容不符合要求：{said}"


def _error_in(error: ErrorDetails, lang: str) -> str:
    message = str(error["msg"]).replace("Value error, ", "")
    if lang != "en":
        message = message_zh(error) or message
    return f"{'.'.join(str(p) for p in error['loc'])}: {message}".removeprefix(": ")


def status_of(refused: Exception) -> int:
    """The status a refused form's page answers with: the problem's, 422 for the rest."""
    if isinstance(refused, Problem | Refused):
        return refused.status
    return 422
