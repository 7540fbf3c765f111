"""The words of coordination: appeals (申请协调) and problem reports (问题反映), Chinese first
(GLOSSARY.md's terms), English for `?lang=en`; texts.py looks them up with the rest."""

from __future__ import annotations

COORDINATION_TEXTS: dict[str, tuple[str, str]] = {
    "appeal": ("申请协调", "Appeal"),
    "appeal_pending": ("协调中", "being decided"),
    "appeal_upheld": ("维持原决定", "upheld"),
    "appeal_overturned": ("改变原决定", "overturned"),
    "appeal_grounds": ("申请协调事项", "Appealed"),
    "appeal_grounds_rejected": ("不同意", "a rejection"),
    "appeal_grounds_narrowed": ("部分同意（缩小范围）", "a narrowed approval"),
    "appeal_reason": ("申请协调理由", "Why the decision should change"),
    "appeal_filed_at": ("申请时间", "Appealed at"),
    "appeal_route": ("协调单位", "Who coordinates"),
    "appeal_current": ("当前协调单位", "deciding now"),
    "appeal_hint": (
        "对审批决定有异议的，可在{deadline}（北京时间）前申请上级首席数据官协调，每项申请限一次。",
        "You may appeal the decision to the CDO above once, until {deadline} (China "
        "Standard Time).",
    ),
    "appeal_submit": ("申请协调", "Appeal"),
    "done_appealed": ("已申请协调", "The appeal was filed"),
    "appeal_reason_required": ("申请协调须填写理由", "An appeal needs a reason"),
    "coordinate": ("协调", "Decide the appeal"),
    "overturn_fields": ("改变原决定时同意的数据项", "Fields approved if overturned"),
    "coordination_comment": ("协调意见", "Reason"),
    "overturn": ("改变原决定（同意）", "Overturn (approve)"),
    "uphold": ("维持原决定", "Uphold"),
    "done_coordinated": ("协调意见已提交", "Your decision on the appeal was recorded"),
    "appeal_comment_required": ("协调意见须填写理由", "A decision on an appeal needs a reason"),
    "appeals_to_decide": ("待协调", "Appeals to decide"),
    "problems_to_answer": ("待答复的问题反映", "Problem reports to answer"),
    "problems": ("问题反映", "Problem reports"),
    "problem": ("问题反映", "Problem report"),
    "report_problem": ("反映问题", "Report a problem"),
    "report_problem_hint": (
        "向省政务服务数据管理局反映数据共享中的协调问题（如单位逾期不答复、目录缺少所需数据、"
        "回流申请被拒绝），写明涉及的单位和申请。",
        "Tell the provincial data bureau of a coordination problem (a body that does not "
        "answer, a dataset missing from the catalog, a refused return), naming the bodies and "
        "requests concerned.",
    ),
    "problems_answerer": ("待本单位答复", "To answer"),
    "problems_reporter": ("本单位反映的问题", "Reported by us"),
    "problems_named": ("涉及本单位的问题", "About us"),
    "no_problems": ("暂无", "None"),
    "problem_open": ("待答复", "open"),
    "problem_answered": ("已答复", "answered"),
    "answered_at": ("答复时间", "answered"),
    "problem_filed": (
        "问题已反映至省政务服务数据管理局",
        "The report went to the provincial data bureau",
    ),
    "problem_answered_notice": ("答复已提交", "Your answer was recorded"),
    "problem_reporter": ("反映单位", "Reported by"),
    "problem_addressed_to": ("受理单位", "Addressed to"),
    "problem_summary": ("问题概要", "Summary"),
    "problem_details": ("具体情况", "Details"),
    "concerned_organisations": ("涉及单位", "Bodies concerned"),
    "concerned_requests": ("涉及申请", "Requests concerned"),
    "ids_hint": (
        "填写单位编码（如 gz-rsj）或申请编号，多个以逗号或空格分隔",
        "Organisation ids (e.g. gz-rsj) or request ids, separated by commas or spaces",
    ),
    "problem_resolution": ("答复意见", "Resolution"),
    "problem_answer": ("答复", "Answer"),
    "problem_not_found": (
        "未找到该问题反映，或您无权查看",
        "No such problem report visible to you",
    ),
    "reporters_only": ("只有经办人可以反映问题", "Only staff who file requests report problems"),
    "answerers_only": (
        "只有首席数据官或数据管理局工作人员可以答复",
        "Only a CDO or a bureau operator answers",
    ),
    "problem_text_required": ("问题概要和具体情况须填写", "A summary and the details are needed"),
    "resolution_required": ("答复意见须填写", "An answer needs its resolution"),
}
