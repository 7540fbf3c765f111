"""A refused form in words: the same rules and problems as the API, said as the problem says
them in the reader's language (Chinese where the problem has it), or the console's own words
for what it refuses before any service is asked."""

from __future__ import annotations

from pydantic import ValidationError

from broker.console.texts import text
from broker.kit.languages import Language
from broker.kit.problems import Problem


class Refused(Exception):
    """A form the console refuses before any service is asked; its key names the words."""

    def __init__(self, key: str, status: int = 422) -> None:
        super().__init__(key)
        self.status = status


def in_words(refused: Exception, lang: str) -> str:
    if isinstance(refused, Refused):
        return text(str(refused), lang)
    if isinstance(refused, Problem):
        title, detail = refused.texts(Language.en if lang == "en" else Language.zh)
        return f"{title}：{detail}" if lang != "en" else f"{title}: {detail}"
    assert isinstance(refused, ValidationError)
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in refused.errors())


def status_of(refused: Exception) -> int:
    if isinstance(refused, Problem | Refused):
        return refused.status
    return 422
