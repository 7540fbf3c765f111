"""A request's kinds, statuses and decisions in the words the scheme's documents use
(GLOSSARY.md): the broker's problems and the notifier's messages name them alike. A status is
said as the console's pages say it (未同意, 已否决), a decision as GLOSSARY.md does (不同意,
一票否决). Pure."""

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
    "rejected": "未同意",
    "cancelled": "已撤回",
    "expired": "已到期",
    "vetoed": "已否决",
}
DECISIONS_ZH = {"approve": "同意", "reject": "不同意", "veto": "一票否决"}


def said(words: dict[str, str], code: str) -> str:
    """`code` in words, or as it is where the words lack it (a value added later)."""
    return words.get(code, code)
