"""Which language a caller reads: Chinese unless its `Accept-Language` (RFC 9110) prefers English.

People in the scheme read Chinese, so Chinese is the default: no header, `*`, or languages we do
not have all answer Chinese. English is chosen only when an `en` range ranks above every `zh`
one (by q-value, then by order).
"""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    zh = "zh-CN"
    en = "en"


def preferred_language(accept_language: str | None) -> Language:
    best: tuple[float, int, Language] | None = None
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        language = _ours(tag.strip().lower())
        if language is None:
            continue
        quality = _quality(params)
        if quality <= 0:
            continue
        rank = (quality, -position, language)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else Language.zh


def _ours(tag: str) -> Language | None:
    if tag == "zh" or tag.startswith("zh-"):
        return Language.zh
    if tag == "en" or tag.startswith("en-"):
        return Language.en
    return None


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0
