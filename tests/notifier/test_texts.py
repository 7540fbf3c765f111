"""The Chinese messages people read in their work chat and mailbox (notifier/texts.py)."""

from __future__ import annotations

from typing import Any

from notifier.texts import compose
from notifier.wording import when
from testing.events import approval_task, problem_event

CONSOLE = "https://cdo.gd.gov.cn/console"
NAMES = {"gd-rst": "广东省人力资源和社会保障厅", "gz-gov": "广州市人民政府", "gd-rst-x": "参保信息"}


def task(**changes: Any) -> dict[str, Any]:
    data = approval_task("gd-rst", "req_1") | changes
    data["due_at"] = "2026-12-08T10:00:00+00:00"  # a Tuesday, 18:00 in Beijing
    return data


def facts(message: Any) -> dict[str, str]:
    return dict(message.facts)


def test_the_deadline_is_read_in_china_standard_time() -> None:
    assert when("2026-12-08T10:00:00+00:00") == "2026年12月8日（星期二）18:00（北京时间）"
    assert when("2026-12-31T16:30:00Z") == "2027年1月1日（星期五）00:30（北京时间）"


def test_an_approval_task_names_step_deadline_and_the_console_page() -> None:
    data = task(console_url=f"{CONSOLE}/requests/req_1")
    message = compose("approval.requested", data, recipient="gd-rst", names=NAMES,
                      console_base="unused")  # fmt: skip
    assert message.title == "【待审批】广州市公安局的数据共享申请"
    assert "请首席数据官在办理时限内审批" in message.lead
    shown = facts(message)
    assert shown["办理时限"] == "2026年12月8日（星期二）18:00（北京时间）"
    assert shown["审批环节"] == "第1环节（共0环节）"
    assert shown["申请单位"] == "广州市公安局"
    assert shown["申请编号"] == "req_1"
    assert message.link == f"{CONSOLE}/requests/req_1"
    assert message.link_text == "前往首席数据官工作台审批"


def test_without_console_url_the_link_is_built_from_the_console_base() -> None:
    message = compose("approval.requested", task(), recipient="gd-rst", names=NAMES,
                      console_base=CONSOLE)  # fmt: skip
    assert message.link == f"{CONSOLE}/requests/req_1"


def test_reminders_escalations_and_delegates_say_what_happened() -> None:
    reminder = compose("approval.reminder", task(), recipient="gd-rst", names=NAMES,
                       console_base=CONSOLE)  # fmt: skip
    assert reminder.title.startswith("【催办】")
    assert "提级协调" in reminder.lead
    escalated = task(approver_id="gz-gov", escalated_from="gd-rst")
    new = compose("approval.escalated", escalated, recipient="gz-gov", names=NAMES,
                  console_base=CONSOLE)  # fmt: skip
    assert new.title.startswith("【提级协调】")
    assert new.lead.startswith("广东省人力资源和社会保障厅未在办理时限内审批")
    lapsed = compose("approval.escalated", escalated, recipient="gd-rst", names=NAMES,
                     console_base=CONSOLE)  # fmt: skip
    assert lapsed.title.startswith("【超期提级】")
    assert "已提级由广州市人民政府协调办理" in lapsed.lead
    delegate = compose("approval.requested", task(delegate_ids=["gz-gov"]), recipient="gz-gov",
                       names=NAMES, console_base=CONSOLE)  # fmt: skip
    assert "受托代为审批" in delegate.title


def test_an_outcome_and_a_revoked_grant() -> None:
    decided = {
        "event": "rejected", "request_id": "req_1", "kind": "share", "status": "rejected",
        "requester_id": "gz-gaj", "provider_id": "gd-rst", "dataset_id": "gd-rst-x",
        "detail": {"reason": "用途不明确"},
    }  # fmt: skip
    outcome = compose("request.decided", decided, recipient="gz-gaj", names=NAMES,
                      console_base=CONSOLE)  # fmt: skip
    assert outcome.title == "【办理结果】数据共享申请：不同意"
    assert facts(outcome)["理由"] == "用途不明确"
    assert facts(outcome)["提供单位"] == "广东省人力资源和社会保障厅"
    assert outcome.link == f"{CONSOLE}/requests/req_1"  # the requester reads it there
    grant = {
        "grant_id": "grt_1", "request_id": "req_1", "grantee_id": "gz-gaj",
        "provider_id": "gd-rst", "dataset_id": "gd-rst-x", "fields": ["id_number"],
        "starts_at": "2026-12-01T00:00:00+08:00", "ends_at": "2027-11-30T23:59:59+08:00",
        "reason": "超范围使用",
    }  # fmt: skip
    revoked = compose("grant.revoked", grant, recipient="gz-gaj", names=NAMES,
                      console_base=CONSOLE)  # fmt: skip
    assert revoked.title == "【数据使用授权】参保信息：已撤销"
    assert facts(revoked)["有效期"] == "2026年12月1日至2027年11月30日"


def test_typed_text_stays_on_one_line_and_is_cut() -> None:
    message = compose("approval.requested", task(purpose="第一行\n第二行\r\n" + "长" * 500),
                      recipient="gd-rst", names=NAMES, console_base=CONSOLE)  # fmt: skip
    purpose = facts(message)["用途"]
    assert "\n" not in purpose
    assert purpose.startswith("第一行 第二行 ")
    assert len(purpose) == 200
    assert purpose.endswith("…")


def test_a_task_names_the_grade_and_the_personal_fields() -> None:
    dataset = {
        "id": "gd-rst-x", "name": "参保信息", "sharing_class": "conditional", "owner_id": "gd-rst",
        "grade": "important",
        "fields": [{"name": "id_number", "label": "公民身份号码", "personal": True},
                   {"name": "unit", "label": "参保单位", "personal": False}],
    }  # fmt: skip
    shown = facts(compose("approval.requested", task(dataset=dataset), recipient="gd-rst",
                          names=NAMES, console_base=CONSOLE))  # fmt: skip
    assert shown["数据分级"] == "重要数据"
    assert shown["个人信息数据项"] == "公民身份号码"


def test_a_demand_and_an_it_project_say_what_they_ask() -> None:
    wanted = {"description": "灵活就业人员缴费明细", "presumed_provider_id": "gd-rst"}
    demand = task(kind="demand", dataset=None, demand=wanted)
    asked = compose("approval.requested", demand, recipient="gd-rst", names=NAMES,
                    console_base=CONSOLE)  # fmt: skip
    assert asked.title == "【待审批】广州市公安局的数据需求"
    assert facts(asked)["需求内容"] == "灵活就业人员缴费明细"
    plan = {"name": "户政一体化平台", "code": "GZ-017", "budget_cny": 12800000,
            "stage": "acceptance"}  # fmt: skip
    project = task(kind="it_project", dataset=None, project=plan)
    review = compose("approval.requested", project, recipient="gd-rst", names=NAMES,
                     console_base=CONSOLE)  # fmt: skip
    shown = facts(review)
    assert (shown["项目名称"], shown["项目预算"], shown["审核阶段"]) == (
        "户政一体化平台", "12,800,000元", "验收")  # fmt: skip
    assert "使用期限" not in shown
    assert "一票否决" in review.lead


def test_a_veto_is_told_with_its_reason() -> None:
    vetoed = {
        "event": "vetoed", "request_id": "req_2", "kind": "it_project", "status": "vetoed",
        "requester_id": "gz-gaj", "provider_id": "gz-gaj", "dataset_id": None,
        "detail": {"reason": "重复建设"},
    }  # fmt: skip
    outcome = compose("request.decided", vetoed, recipient="gz-gaj", names=NAMES,
                      console_base=CONSOLE)  # fmt: skip
    assert outcome.title == "【办理结果】信息化项目：一票否决"
    assert "一票否决" in outcome.lead
    assert facts(outcome)["理由"] == "重复建设"
    assert "数据资源" not in facts(outcome)
    assert "提供单位" not in facts(outcome)


def test_a_problem_report_and_its_answer_in_the_scheme_s_words() -> None:
    names = {
        "gz-gaj": "广州市公安局",
        "gz-rsj": "广州市人力资源和社会保障局",
        "gd-dsb": "广东省政务服务数据管理局",
    }
    to_bureau = compose("problem.reported", problem_event(), recipient="gd-dsb", names=names,
                        console_base=CONSOLE)  # fmt: skip
    assert to_bureau.title == "【问题反映】广州市公安局：人社局逾期未答复共享申请"
    assert "请及时研究答复" in to_bureau.lead
    assert facts(to_bureau)["涉及单位"] == "广州市人力资源和社会保障局"
    assert to_bureau.link == f"{CONSOLE}/problems"
    to_named = compose("problem.reported", problem_event(), recipient="gz-rsj", names=names,
                       console_base=CONSOLE)  # fmt: skip
    assert "涉及贵单位" in to_named.title
    answer = compose("problem.answered", problem_event("answered"), recipient="gz-gaj",
                     names=names, console_base=CONSOLE)  # fmt: skip
    assert answer.lead == "贵单位反映的问题，省政务服务数据管理局已答复。"
    assert facts(answer)["答复意见"] == "已督促答复"


def test_an_appeal_to_coordinate_and_its_outcome() -> None:
    names = {"gd-gat": "广东省公安厅", "gd-gov": "广东省人民政府", "gz-rsj": "广州市人社局"}
    data = task(
        task="appeal.requested",
        approver_id="gd-gov",
        appeal={"appeal_id": "apl_1", "reason": "人才落户必需", "grounds": "rejected",
                "against": ["gd-gat"], "granted_fields": ["id_number"]},
    )  # fmt: skip
    message = compose("appeal.requested", data, recipient="gd-gov", names=names,
                      console_base=CONSOLE)  # fmt: skip
    assert message.title == "【申请协调】广州市公安局的数据共享申请待贵单位协调"
    assert facts(message)["原决定单位"] == "广东省公安厅"
    assert facts(message)["原决定"] == "不同意"
    assert facts(message)["申请协调理由"] == "人才落户必需"
    outcome = {
        "kind": "share", "request_id": "req_1", "requester_id": "gz-rsj",
        "provider_id": "gd-gat", "dataset_id": "gd-gat-x", "actor": "gd-gov",
        "detail": {"decision": "overturn", "comment": "同意共享"},
    }  # fmt: skip
    to_provider = compose("appeal.decided", outcome, recipient="gd-gat", names=names,
                          console_base=CONSOLE)  # fmt: skip
    assert to_provider.title == "【申请协调结果】数据共享申请：改变原决定（同意）"
    assert "原决定不再审批" in to_provider.lead
    assert facts(to_provider)["协调单位"] == "广东省人民政府"


def test_an_appeal_that_climbs_tells_both_coordinators_and_an_upheld_one_the_requester() -> None:
    names = {
        "gd-gat": "广东省公安厅",
        "gd-gov": "广东省人民政府",
        "gd-dsb": "广东省政务服务数据管理局",
    }
    climbed = task(
        task="appeal.escalated", approver_id="gd-dsb", escalated_from="gd-gov",
        appeal={"appeal_id": "apl_1", "reason": "人才落户必需", "grounds": "narrowed",
                "against": ["gd-gat"], "granted_fields": ["id_number"]},
    )  # fmt: skip
    to_new = compose("appeal.escalated", climbed, recipient="gd-dsb", names=names,
                     console_base=CONSOLE)  # fmt: skip
    assert to_new.title == "【申请协调】广州市公安局的数据共享申请待贵单位协调"
    assert facts(to_new)["原决定"] == "部分同意（缩小范围）"
    assert to_new.link_text == "前往首席数据官工作台协调"
    to_lapsed = compose("appeal.escalated", climbed, recipient="gd-gov", names=names,
                        console_base=CONSOLE)  # fmt: skip
    assert to_lapsed.title == "【申请协调超期】广州市公安局的数据共享申请已提级协调"
    assert to_lapsed.lead == (
        "贵单位未在办理时限内办理以下申请协调，已提级由广东省政务服务数据管理局协调。"
    )
    upheld = {
        "kind": "share", "request_id": "req_1", "requester_id": "gz-gaj",
        "provider_id": "gd-gat", "dataset_id": "gd-gat-x", "actor": "gd-gov",
        "detail": {"decision": "uphold", "comment": "涉及个人信息"},
    }  # fmt: skip
    to_requester = compose("appeal.decided", upheld, recipient="gz-gaj", names=names,
                           console_base=CONSOLE)  # fmt: skip
    assert to_requester.title == "【申请协调结果】数据共享申请：维持原决定"
    assert to_requester.lead == "贵单位提交的数据共享申请的申请协调已办结：维持原决定。"
    assert to_requester.link_text == "在首席数据官工作台查看"


def test_a_problem_s_answer_reaches_the_bodies_it_names_and_long_titles_are_cut() -> None:
    names = {"gz-gaj": "广州市公安局"}
    answered = problem_event("answered", summary="逾期\n未答复" * 40)
    to_named = compose("problem.answered", answered, recipient="gz-rsj", names=names,
                       console_base=CONSOLE)  # fmt: skip
    assert to_named.lead == "广州市公安局反映的涉及贵单位的问题，省政务服务数据管理局已答复。"
    assert "\n" not in to_named.title
    assert len(to_named.title) == 120
    assert to_named.title.endswith("…")
