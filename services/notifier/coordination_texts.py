"""What people read of coordination (统筹协调) in their work chat and mailbox: problem reports to
the provincial bureau and their answers, appeals to a coordinating CDO and their outcome. Pure,
made of notifier/wording.py's parts (notifier/texts.py's `compose` calls these)."""

from __future__ import annotations

from notifier.wording import (
    DEADLINE,
    Message,
    Notice,
    field_list,
    kind_of,
    one_line,
    requester_of,
    when,
)


def problem(notice: Notice) -> Message:
    data, recipient = notice.data, notice.recipient
    reporter = notice.name(data["reporter_id"])
    summary = one_line(data["summary"])
    concerns = data.get("concerns") or {}
    named = [notice.name(org) for org in concerns.get("organisations") or []]
    if notice.webhook_type == "problem.answered":
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
    return notice.message(
        title,
        lead,
        ("反映编号", data["problem_id"]),
        ("反映单位", reporter),
        ("问题概要", summary),
        ("具体情况", data.get("details")),
        ("涉及单位", "、".join(named)),
        ("涉及申请", "、".join(concerns.get("requests") or [])),
        ("答复意见", data.get("resolution")),
    )


def appeal_task(notice: Notice) -> Message:
    data = notice.data
    kind = kind_of(data)
    requester = requester_of(data)
    appeal = data.get("appeal") or {}
    against = "、".join(notice.name(org) for org in appeal.get("against") or [])
    lapsed = data.get("escalated_from")
    if notice.webhook_type == "appeal.escalated" and notice.recipient == lapsed:
        title = f"【申请协调超期】{requester}的{kind}已提级协调"
        above = notice.name(data["approver_id"])
        lead = f"贵单位未在办理时限内办理以下申请协调，已提级由{above}协调。"
    else:
        title = f"【申请协调】{requester}的{kind}待贵单位协调"
        lead = (
            f"{requester}对{against}的决定申请协调，"
            "请首席数据官在办理时限内作出维持或改变原决定的意见。"
        )
    return notice.message(
        title,
        lead,
        ("申请编号", data["request_id"]),
        ("申请单位", requester),
        ("数据资源", data["dataset"].get("name") or data["dataset"].get("id")),
        ("申请数据项", field_list(list(data.get("fields") or []))),
        ("原决定单位", against),
        ("原决定", "不同意" if appeal.get("grounds") == "rejected" else "部分同意（缩小范围）"),
        ("申请协调理由", appeal.get("reason")),
        (DEADLINE, when(data["due_at"])),
        link_text="前往首席数据官工作台协调",
    )


def appeal_decided(notice: Notice) -> Message:
    data = notice.data
    kind = kind_of(data)
    detail = data.get("detail") or {}
    overturned = detail.get("decision") == "overturn"
    outcome = "改变原决定（同意）" if overturned else "维持原决定"
    if notice.recipient == data["requester_id"]:
        lead = f"贵单位提交的{kind}的申请协调已办结：{outcome}。"
    else:
        requester = notice.name(data["requester_id"])
        lead = f"{requester}对贵单位决定的申请协调已办结：{outcome}，原决定不再审批。"
    return notice.message(
        f"【申请协调结果】{kind}：{outcome}",
        lead,
        ("申请编号", data["request_id"]),
        ("数据资源", notice.name(data["dataset_id"])),
        ("协调单位", notice.name(data.get("actor"))),
        ("协调意见", detail.get("comment")),
    )
