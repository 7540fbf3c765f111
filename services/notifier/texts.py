"""What a person reads about a notification in a work-chat group or a mailbox: Chinese, in the
scheme's words (docs: ../shared/GLOSSARY.md), the deadline in China Standard Time, and a link to
the request's page in the console. Pure: the formats (robots.py, mail.py) lay it out.

Values people typed (a purpose, a reason) are kept on one line and cut to a length: a message is
a notice that leads to the console, not a copy of the request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

CST = timezone(timedelta(hours=8), "CST")  # China Standard Time: UTC+8, no summer time
WEEKDAYS = "一二三四五六日"
KINDS = {
    "share": "数据共享申请",
    "return": "数据回流申请",
    "demand": "数据需求",
    "it_project": "信息化项目",
}
OUTCOMES = {
    "approved": "同意",
    "rejected": "不同意",
    "vetoed": "一票否决",
    "cancelled": "已撤回",
    "expired": "已超期终止",
}
DEADLINE = "办理时限"  # the fact formats may highlight
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

    def cut(self, chars: int) -> Message:
        """The same message with every fact's value at most `chars` characters."""
        return replace(self, facts=tuple((label, clip(v, chars)) for label, v in self.facts))


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


def compose(
    webhook_type: str,
    data: Mapping[str, Any],
    *,
    recipient: str,
    names: Mapping[str, str],
    console_base: str,
) -> Message:
    """The message for `recipient` (an organisation id) about one notification; `names` holds
    the names of the organisations and the dataset it mentions, by id."""
    if webhook_type.startswith("problem."):
        return _problem(webhook_type, data, recipient, names, f"{console_base}/problems")
    link = str(data.get("console_url") or f"{console_base}/requests/{data['request_id']}")
    if webhook_type.startswith("approval."):
        return _approval(webhook_type, data, recipient, names, link)
    if webhook_type == "request.decided":
        return _outcome(data, names, link)
    if webhook_type in ("grant.issued", "grant.revoked"):
        return _grant(webhook_type, data, recipient, names, link)
    raise ValueError(f"no message for {webhook_type!r}")


def _name(names: Mapping[str, str], key: Any) -> str:
    return one_line(names.get(str(key)) or key)


def _facts(*pairs: tuple[str, Any]) -> tuple[tuple[str, str], ...]:
    """The pairs with a value, each on one line and cut to VALUE_CHARS."""
    return tuple(
        (label, clip(one_line(value), VALUE_CHARS))
        for label, value in pairs
        if value not in (None, "", [])
    )


def _fields(fields: Sequence[str]) -> str:
    shown = "、".join(fields[:FIELDS_SHOWN])
    return f"{shown}等{len(fields)}项" if len(fields) > FIELDS_SHOWN else shown


def _approval(
    webhook_type: str,
    data: Mapping[str, Any],
    recipient: str,
    names: Mapping[str, str],
    link: str,
) -> Message:
    kind = KINDS.get(str(data["kind"]), "申请")
    requester = one_line(data["requester"].get("name") or data["requester"]["id"])
    approver = data["approver_id"]
    lapsed = data.get("escalated_from")
    subject = f"{requester}的{kind}"
    link_text = "前往首席数据官工作台审批"
    if webhook_type == "approval.reminder":
        title = f"【催办】{subject}即将超期"
        lead = f"催办：以下{kind}的办理时限将至，请尽快审批；超期未办将提级协调。"
    elif webhook_type == "approval.escalated" and recipient == lapsed:
        title = f"【超期提级】{subject}已提级协调"
        lead = f"贵单位未在办理时限内审批以下{kind}，已提级由{_name(names, approver)}协调办理。"
        link_text = "在首席数据官工作台查看"
    elif webhook_type == "approval.escalated":
        title = f"【提级协调】{subject}待贵单位协调审批"
        before = _name(names, lapsed) if lapsed else "原审批单位"
        lead = f"{before}未在办理时限内审批，以下{kind}已提级由贵单位协调审批。"
    elif recipient != approver:
        title = f"【待审批】{subject}（受托代为审批）"
        lead = f"{_name(names, approver)}首席数据官已委托贵单位，贵单位可代为审批以下{kind}。"
    else:
        title = f"【待审批】{subject}"
        lead = f"贵单位有一项{kind}待审批，请首席数据官在办理时限内审批。"
    if data["kind"] == "it_project":
        lead += "首席数据官可同意，或一票否决并说明理由。"
    period = data.get("period") or {}
    acting_for = data.get("acting_for")
    return Message(
        title=clip(one_line(title), 120),
        lead=lead,
        facts=_facts(
            ("申请编号", data["request_id"]),
            ("申请单位", requester),
            ("申请类型", kind),
            *_subject_facts(data),
            ("数据项", _fields(list(data.get("fields") or []))),
            ("用途", data.get("purpose")),
            ("共享依据", data.get("legal_basis")),
            (
                "使用期限",
                f"{day(period['start'])}至{day(period['end'])}"
                if period and data["kind"] != "it_project"
                else None,
            ),
            ("管辖范围", _name(names, data["jurisdiction"]) if data.get("jurisdiction") else None),
            ("审批环节", f"第{int(data['step']) + 1}环节（共{len(data.get('route') or [])}环节）"),
            (
                "代为审批",
                f"代{_name(names, acting_for)}审批（该单位暂无首席数据官）" if acting_for else None,
            ),
            (DEADLINE, when(data["due_at"])),
        ),
        link_text=link_text,
        link=link,
    )


def _subject_facts(data: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """What the task is about: the dataset with its grade and personal fields, the demand's
    data wanted, or the IT project."""
    dataset = data.get("dataset")
    if dataset:
        fields = dataset.get("fields") or []
        return (
            ("数据资源", dataset.get("name") or dataset.get("id")),
            ("数据分级", GRADES.get(str(dataset.get("grade")))),
            ("个人信息数据项", _fields([f["label"] for f in fields if f.get("personal")])),
        )
    demand = data.get("demand")
    if demand:
        return (("需求内容", demand["description"]),)
    project = data.get("project") or {}
    return (
        ("项目名称", project.get("name")),
        ("项目编号", project.get("code")),
        ("项目预算", f"{int(project['budget_cny']):,}元" if "budget_cny" in project else None),
        ("审核阶段", STAGES.get(str(project.get("stage")))),
    )


def _outcome(data: Mapping[str, Any], names: Mapping[str, str], link: str) -> Message:
    kind = KINDS.get(str(data["kind"]), "申请")
    event = str(data["event"])
    outcome = OUTCOMES.get(event, event)
    approved = {
        "demand": f"贵单位提出的{kind}已获同意，提供单位编制并发布数据资源目录后，授权即生效。",
        "it_project": f"贵单位报审的{kind}已审核通过。",
    }
    leads = {
        "approved": approved.get(
            str(data["kind"]), f"贵单位提交的{kind}已获同意，数据使用授权已生效。"
        ),
        "rejected": f"贵单位提交的{kind}未获同意。",
        "vetoed": f"贵单位报审的{kind}已被首席数据官一票否决。",
        "cancelled": f"贵单位提交的{kind}已撤回。",
        "expired": f"贵单位提交的{kind}在使用期限内未办结，已终止。",
    }
    detail = data.get("detail") or {}
    return Message(
        title=f"【办理结果】{kind}：{outcome}",
        lead=leads.get(event, f"贵单位提交的{kind}已办结。"),
        facts=_facts(
            ("申请编号", data["request_id"]),
            ("数据资源", _name(names, data["dataset_id"]) if data.get("dataset_id") else None),
            (
                "提供单位",
                _name(names, data["provider_id"]) if data["kind"] != "it_project" else None,
            ),
            ("办理结果", outcome),
            ("理由", detail.get("reason") or detail.get("comment")),
        ),
        link_text="在首席数据官工作台查看",
        link=link,
    )


def _grant(
    webhook_type: str,
    data: Mapping[str, Any],
    recipient: str,
    names: Mapping[str, str],
    link: str,
) -> Message:
    dataset = _name(names, data["dataset_id"])
    grantee = _name(names, data["grantee_id"])
    if webhook_type == "grant.revoked":
        title, lead = f"【数据使用授权】{dataset}：已撤销", "以下数据使用授权已撤销，即时停止使用。"
    elif recipient == data["grantee_id"]:
        title, lead = f"【数据使用授权】{dataset}：已生效", "贵单位获得以下数据使用授权。"
    else:
        title = f"【数据使用授权】{dataset}：已生效"
        lead = f"贵单位提供的数据资源已向{grantee}授权使用。"
    return Message(
        title=clip(one_line(title), 120),
        lead=lead,
        facts=_facts(
            ("授权编号", data["grant_id"]),
            ("申请编号", data["request_id"]),
            ("被授权单位", grantee),
            ("提供单位", _name(names, data["provider_id"])),
            ("数据资源", dataset),
            ("数据项", _fields(list(data.get("fields") or []))),
            ("有效期", f"{day(data['starts_at'])}至{day(data['ends_at'])}"),
            ("理由", data.get("reason")),
        ),
        link_text="在首席数据官工作台查看",
        link=link,
    )


def _problem(
    webhook_type: str,
    data: Mapping[str, Any],
    recipient: str,
    names: Mapping[str, str],
    link: str,
) -> Message:
    reporter = _name(names, data["reporter_id"])
    summary = one_line(data["summary"])
    concerns = data.get("concerns") or {}
    named = [_name(names, org) for org in concerns.get("organisations") or []]
    if webhook_type == "problem.answered":
        title = f"【问题反映答复】{summary}"
        if recipient == data["reporter_id"]:
            lead = "贵单位反映的问题，省政务服务数据管理局已答复。"
        else:
            lead = f"{reporter}反映的涉及贵单位的问题，省政务服务数据管理局已答复。"
    elif recipient == data["addressed_to"]:
        title = f"【问题反映】{reporter}：{summary}"
        lead = f"{reporter}向省政务服务数据管理局反映以下协调问题，请及时研究答复。"
    else:
        title = f"【问题反映】涉及贵单位：{summary}"
        lead = f"{reporter}向省政务服务数据管理局反映了涉及贵单位的协调问题。"
    return Message(
        title=clip(one_line(title), 120),
        lead=lead,
        facts=_facts(
            ("反映编号", data["problem_id"]),
            ("反映单位", reporter),
            ("问题概要", summary),
            ("具体情况", data.get("details")),
            ("涉及单位", "、".join(named)),
            ("涉及申请", "、".join(concerns.get("requests") or [])),
            ("答复意见", data.get("resolution")),
        ),
        link_text="在首席数据官工作台查看",
        link=link,
    )
