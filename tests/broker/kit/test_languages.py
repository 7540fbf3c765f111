"""Chinese unless the caller's Accept-Language prefers English."""

from __future__ import annotations

import pytest

from broker.kit.languages import Language, preferred_language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, Language.zh),
        ("", Language.zh),
        ("*", Language.zh),
        ("fr-FR, de", Language.zh),  # nothing we have: Chinese
        ("zh-CN", Language.zh),
        ("en", Language.en),
        ("en-GB,en;q=0.9", Language.en),
        ("zh-CN,zh;q=0.9,en;q=0.8", Language.zh),
        ("en;q=0.8,zh-CN;q=0.9", Language.zh),  # by q-value, not order
        ("zh-TW;q=0.5, en-US;q=0.7", Language.en),
        ("en, zh", Language.en),  # equal q: the first named
        ("zh, en", Language.zh),
        ("en;q=0", Language.zh),  # "not English"
        ("en;q=oops", Language.zh),  # an unreadable weight counts as none
    ],
)
def test_the_preferred_language(header: str | None, language: Language) -> None:
    assert preferred_language(header) is language
