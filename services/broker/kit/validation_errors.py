"""Validation errors as people read them: the field each names, and its message in English
and in Chinese. Pydantic words its errors in English; a person reads the first one as the 422's
detail (and on the console's refused form), so each error type it raises on our schemas is said
here in Chinese, with the values from its context. Our own validators raise `Refusal`, which
carries its Chinese. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Refusal(ValueError):
    """A validator's refusal in both languages: pydantic reports the English (`str()`), the
    Chinese rides along for whoever reads Chinese. A message naming a field starts with it in
    both (`end: ...`)."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.zh = zh


_PLAIN = {
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "datetime_type": "应为日期时间，如 2026-01-01T09:00:00+08:00",
    "datetime_parsing": "应为日期时间，如 2026-01-01T09:00:00+08:00",
    "datetime_from_date_parsing": "应为日期时间，如 2026-01-01T09:00:00+08:00",
    "date_type": "应为日期，如 2026-01-01",
    "date_parsing": "应为日期，如 2026-01-01",
    "date_from_datetime_parsing": "应为日期，如 2026-01-01",
    "timezone_aware": "须注明时区，如 2026-01-01T00:00:00+08:00",
    "url_type": "应为网址",
    "url_parsing": "应为有效的网址",
    "url_scheme": "网址的协议不被接受",
    "uuid_parsing": "应为 UUID",
    "string_unicode": "应为有效的 Unicode 文本",
}

_FILLED = {
    "missing": "必填",
    "extra_forbidden": "不接受该字段",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符合要求（{pattern}）",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "literal_error": "应为以下值之一：{expected}",
    "enum": "应为以下值之一：{expected}",
    "union_tag_invalid": "{discriminator} 应为以下值之一：{expected_tags}",
    "union_tag_not_found": "缺少 {discriminator}",
}


def message_zh(error: Mapping[str, Any]) -> str | None:
    """One pydantic error's message in Chinese; None for a type not said here (the English
    message stands, and a test lists the types our schemas raise)."""
    kind = str(error.get("type", ""))
    context = dict(error.get("ctx") or {})
    if kind == "value_error":
        raised = context.get("error")
        return raised.zh if isinstance(raised, Refusal) else None
    if kind in _PLAIN:
        return _PLAIN[kind]
    template = _FILLED.get(kind)
    if template is None:
        return None
    # pydantic lists choices as "'a', 'b' or 'c'"
    said = {k: str(v).replace(" or ", "、").replace(", ", "、") for k, v in context.items()}
    try:
        return template.format(**said)
    except KeyError:  # a context without the value the sentence names
        return None


@dataclass(frozen=True)
class Described:
    field: str
    where: str  # body, query, path, header
    message: str
    message_zh: str

    def as_json(self) -> dict[str, str]:
        """The entry of a 422's `errors`: English, as programs read it."""
        return {"field": self.field, "in": self.where, "message": self.message}


_NAMED = re.compile(r"^(?P<field>[A-Za-z_][\w.]*): ")


def describe(error: Mapping[str, Any]) -> Described:
    loc = tuple(error["loc"])
    if error.get("type") == "json_invalid":  # located by a character offset, which is no field
        why = (error.get("ctx") or {}).get("error", "JSON decode error")
        return Described(
            "body",
            "body",
            f"not JSON: {why} at {loc[-1]}",
            f"不是有效的 JSON（第 {loc[-1]} 个字符处）",
        )
    message = str(error["msg"]).removeprefix("Value error, ")
    said = message_zh(error) or message
    field = _field_name(loc)
    # A model-level check names its field in its message ("end: must be after start").
    named = _NAMED.match(message)
    if named and len(loc) <= 2:
        prefix = field if field not in ("body", "query") and len(loc) == 2 else ""
        field = f"{prefix}.{named['field']}" if prefix else named["field"]
        message = message[named.end() :]
        said = said.removeprefix(named[0])
    return Described(field, str(loc[0]), message, said)


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "period", "end") -> "period.end"; the leading location is reported separately
    return ".".join(str(part) for part in loc[1:]) or str(loc[0])
