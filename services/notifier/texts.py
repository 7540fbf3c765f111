"""What a person reads about a notification in a work-chat group or a mailbox: Chinese, in the
scheme's words (docs: ../shared/GLOSSARY.md), the deadline in China Standard Time, and a link to
the request's page in the console. Pure: the formats (robots.py, mail.py) lay it out.

Values people typed (a purpose, a reason) are kept on one line and cut to a length: a message is
a notice that leads to the console, not a copy of the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notifier import coordination_texts as coordination
from notifier.wording import (
    DEADLINE,
    GRADES,
    OUTCOMES,
    SEE,
    STAGES,
    Message,
    Notice,
    day,
    field_list,
    kind_of,
    requester_of,
    when,
)


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
    problem = webhook_type.startswith("problem.")
    if problem:
        link = f"{console_base}/problems"
    else:
        link = str(data.get("console_url") or f"{console_base}/requests/{data['request_id']}")
    notice = Notice(webhook_type, data, recipient, names, link)
    if problem:
        return coordination.problem(notice)
    if webhook_type.startswith("approval."):
        return _approval(notice)
    if webhook_type in ("appeal.requested", "appeal.escalated"):
        return coordination.appeal_task(notice)
    if webhook_type == "appeal.decided":
        return coordination.appeal_decided(notice)
    if webhook_type == "request.decided":
        return _outcome(notice)
    if webhook_type in ("grant.issued", "grant.revoked"):
        return _grant(notice)
    raise ValueError(f"no message for {webhook_type!r}")


def _approval(notice: Notice) -> Message:
    data, recipient = notice.data, notice.recipient
    kind = kind_of(data)
    requester = requester_of(data)
    approver = data["approver_id"]
    lapsed = data.get("escalated_from")
    subject = f"{requester}的{kind}"
    link_text = "前往首席数据官工作台审批"
    if notice.webhook_type == "approval.reminder":
        title = f"【催办】{subject}即将超期"
        lead = f"催办：以下{kind}的办理时限将至，请尽快审批；超期未办将提级协调。"
    elif notice.webhook_type == "approval.escalated" and recipient == lapsed:
        title = f"【超期提级】{subject}已提级协调"
        lead = f"贵单位未在办理时限内审批以下{kind}，已提级由{notice.name(approver)}协调办理。"
        link_text = SEE
    elif notice.webhook_type == "approval.escalated":
        title = f"【提级协调】{subject}待贵单位协调审批"
        before = notice.name(lapsed) if lapsed else "原审批单位"
        lead = f"{before}未在办理时限内审批，以下{kind}已提级由贵单位协调审批。"
    elif recipient != approver:
        title = f"【待审批】{subject}（受托代为审批）"
        lead = f"{notice.name(approver)}首席数据官已委托贵单位，贵单位可代为审批以下{kind}。"
    else:
        title = f"【待审批】{subject}"
        lead = f"贵单位有一项{kind}待审批，请首席数据官在办理时限内审批。"
    if data["kind"] == "it_project":
        lead += "首席数据官可同意，或一票否决并说明理由。"
    period = data.get("period") or {}
    acting_for = data.get("acting_for")
    return notice.message(
        title,
        lead,
        ("申请编号", data["request_id"]),
        ("申请单位", requester),
        ("申请类型", kind),
        *_subjectfacts_of(data),
        ("数据项", field_list(list(data.get("fields") or []))),
        ("用途", data.get("purpose")),
        ("共享依据", data.get("legal_basis")),
        (
            "使用期限",
            f"{day(period['start'])}至{day(period['end'])}"
            if period and data["kind"] != "it_project"
            else None,
        ),
        ("管辖范围", notice.name(data["jurisdiction"]) if data.get("jurisdiction") else None),
        ("审批环节", f"第{int(data['step']) + 1}环节（共{len(data.get('route') or [])}环节）"),
        (
            "代为审批",
            f"代{notice.name(acting_for)}审批（该单位暂无首席数据官）" if acting_for else None,
        ),
        (DEADLINE, when(data["due_at"])),
        link_text=link_text,
    )


def _subjectfacts_of(data: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """What the task is about: the dataset with its grade and personal fields, the demand's
    data wanted, or the IT project."""
    dataset = data.get("dataset")
    if dataset:
        fields = dataset.get("fields") or []
        return (
            ("数据资源", dataset.get("name") or dataset.get("id")),
            ("数据分级", GRADES.get(str(dataset.get("grade")))),
            ("个人信息数据项", field_list([f["label"] for f in fields if f.get("personal")])),
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


def _outcome(notice: Notice) -> Message:
    data = notice.data
    kind = kind_of(data)
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
    return notice.message(
        f"【办理结果】{kind}：{outcome}",
        leads.get(event, f"贵单位提交的{kind}已办结。"),
        ("申请编号", data["request_id"]),
        ("数据资源", notice.name(data["dataset_id"]) if data.get("dataset_id") else None),
        ("提供单位", notice.name(data["provider_id"]) if data["kind"] != "it_project" else None),
        ("办理结果", outcome),
        ("理由", detail.get("reason") or detail.get("comment")),
    )


def _grant(notice: Notice) -> Message:
    data = notice.data
    dataset = notice.name(data["dataset_id"])
    grantee = notice.name(data["grantee_id"])
    revoked = notice.webhook_type == "grant.revoked"
    if revoked:
        lead = "以下数据使用授权已撤销，即时停止使用。"
    elif notice.recipient == data["grantee_id"]:
        lead = "贵单位获得以下数据使用授权。"
    else:
        lead = f"贵单位提供的数据资源已向{grantee}授权使用。"
    return notice.message(
        f"【数据使用授权】{dataset}：{'已撤销' if revoked else '已生效'}",
        lead,
        ("授权编号", data["grant_id"]),
        ("申请编号", data["request_id"]),
        ("被授权单位", grantee),
        ("提供单位", notice.name(data["provider_id"])),
        ("数据资源", dataset),
        ("数据项", field_list(list(data.get("fields") or []))),
        ("有效期", f"{day(data['starts_at'])}至{day(data['ends_at'])}"),
        ("理由", data.get("reason")),
    )
