"""The parts every Chinese message is made of (notifier/texts.py, notifier/coordination_texts.py):
the message's shape, the scheme's words for outcomes (for kinds: core/words.py), times in China
Standard Time, and values people typed kept on one line and cut. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from core.words import KINDS_ZH

CST = timezone(timedelta(hours=8), "CST")  # China Standard Time: UTC+8, no summer time
WEEKDAYS = "一二三四五六日"
OUTCOMES = {
    "approved": "同意",
    "rejected": "不同意",
    "vetoed": "一票否决",
    "cancelled": "已撤回",
    "expired": "已超期终止",
}
DEADLINE = "办理时限"  # the fact formats may highlight
SEE = "在首席数据官工作台查看"  # the link of a message that asks nothing of its reader
TITLE_CHARS = 120
VALUE_CHARS = 200  # a fact's value is cut here (formats may cut further to fit their limits)
FIELDS_SHOWN = 20
GRADES = {"general": "一般数据", "important": "重要数据", "core": "核心数据"}
STAGES = {"initiation": "立项", "acceptance": "验收"}


@dataclass(frozen=True)
class Message:
    title: str  # one line: the chat's headline, the e-mail's subject
    lead: str  # one sentence: what happened, what to do
    facts: tuple[tuple[str, str], ...]  # (label, value), in reading order
    link_text: str
    link: str

    @classmethod
    def of(
        cls,
        *,
        title: str,
        lead: str,
        facts: tuple[tuple[str, str], ...],
        link: str,
        link_text: str = SEE,
    ) -> Message:
        """A message whose title is one line of at most TITLE_CHARS (it holds typed values)."""
        return cls(clip(one_line(title), TITLE_CHARS), lead, facts, link_text, link)

    def cut(self, chars: int) -> Message:
        """The same message with every fact's value at most `chars` characters."""
        return replace(self, facts=tuple((label, clip(v, chars)) for label, v in self.facts))


@dataclass(frozen=True)
class Notice:
    """One notification as its message reads it: its type and data, the organisation told, the
    names of the organisations and dataset it mentions (by id), and the console page it leads to."""

    webhook_type: str
    data: Mapping[str, Any]
    recipient: str
    names: Mapping[str, str]
    link: str

    def name(self, key: Any) -> str:
        return name_of(self.names, key)

    def message(
        self, title: str, lead: str, *facts: tuple[str, Any], link_text: str = SEE
    ) -> Message:
        """The message leading to this notice's page; facts without a value are left out."""
        return Message.of(
            title=title, lead=lead, facts=facts_of(*facts), link_text=link_text, link=self.link
        )


def clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else f"{text[: max(chars - 1, 0)]}…"


def one_line(value: Any) -> str:
    """A value as one line of text: line breaks and other control characters become spaces."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    return " ".join(text.split())


def when(value: str | datetime) -> str:
    """`2026年12月8日（星期二）18:00（北京时间）`."""
    moment = _moment(value)
    return f"{day(moment)}（星期{WEEKDAYS[moment.weekday()]}）{moment:%H:%M}（北京时间）"


def day(value: str | datetime) -> str:
    moment = _moment(value)
    return f"{moment.year}年{moment.month}月{moment.day}日"


def _moment(value: str | datetime) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(CST)


def kind_of(data: Mapping[str, Any]) -> str:
    """The request's kind in the scheme's words."""
    return KINDS_ZH.get(str(data["kind"]), "申请")


def requester_of(task: Mapping[str, Any]) -> str:
    """An approval task's requester, by name (its id when it has none)."""
    return one_line(task["requester"].get("name") or task["requester"]["id"])


def name_of(names: Mapping[str, str], key: Any) -> str:
    return one_line(names.get(str(key)) or key)


def facts_of(*pairs: tuple[str, Any]) -> tuple[tuple[str, str], ...]:
    """The pairs with a value, each on one line and cut to VALUE_CHARS."""
    return tuple(
        (label, clip(one_line(value), VALUE_CHARS))
        for label, value in pairs
        if value not in (None, "", [])
    )


def field_list(fields: Sequence[str]) -> str:
    shown = "、".join(fields[:FIELDS_SHOWN])
    return f"{shown}等{len(fields)}项" if len(fields) > FIELDS_SHOWN else shown
