"""A request's kinds, statuses and decisions in the words the scheme's documents use
(GLOSSARY.md), for the problems that name them. Pure."""

from __future__ import annotations

KINDS_ZH = {
    "share": "数据共享申请",
    "return": "数据回流申请",
    "demand": "数据需求",
    "it_project": "信息化项目",
}
STATUS_ZH = {
    "pending": "审批中",
    "approved": "已同意",
    "rejected": "不同意",
    "cancelled": "已撤回",
    "expired": "已到期",
    "vetoed": "一票否决",
}
DECISIONS_ZH = {"approve": "同意", "reject": "不同意", "veto": "一票否决"}


def said(words: dict[str, str], code: str) -> str:
    """`code` in words, or as it is where the words lack it (a value added later)."""
    return words.get(code, code)
