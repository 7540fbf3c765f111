"""A refused form in words: the same rules and problems as the API (their `type` slugs), said in
Chinese as the scheme's documents say it (or as the problem's own `title_zh`), or in English with
the problem's own detail."""

from __future__ import annotations

import re

from pydantic import ValidationError

from broker.console.texts import text
from broker.kit.problems import Problem

FIELD_PREFIX = re.compile(r"^[a-z_.]+: ")
# By problem slug (kit/problems.py and the services' exceptions): what a person reads.
PROBLEMS: dict[str, str] = {
    "not-the-approver": "您所在单位不是当前审批环节的审批单位",
    "cdo-not-in-office": "该单位首席数据官已不在任，不能审批；待办已转由数据管理局代为审批",
    "not-the-appointed-cdo": "您不是该单位在任的首席数据官，不能审批",
    "person-required": "须由首席数据官本人登录审批",
    "requester-cannot-decide": "申请单位不得审批自己的申请",
    "no-independent-approver": "除申请单位外无独立审批单位",
    "request-closed": "该申请当前的状态下不能办理此事项（已办结，或无待答复的补充说明）",
    "decision-conflict": "本单位已提交了不同的审批意见",
    "invalid-decision": "审批意见不符合规则：部分同意只能减少数据项或缩短使用期限",
    "minimisation-reason-required": "须说明授予个人信息的理由（最小必要原则）",
    "not-the-requester": "只有申请单位可以办理此事项",
    "not-found": "未找到该事项，或您无权查看",
    "invalid-request": "申请内容不符合要求",
    "not-shareable": "该数据资源不予共享；有法律、法规依据的，请填写共享依据后提交",
    "grant-closed": "该数据使用授权已失效",
    "not-grant-authority": "只有数据提供单位或有管辖权的数据管理局可以变更该授权",
    "outside-jurisdiction": "该单位不在您的管辖范围内",
    "delegation-ended": "该授权委托已结束",
    "rate-limited": "操作过于频繁，请稍后再试",
    "conflict": "该事项的状态已变化，请刷新页面",
}


class Refused(Exception):
    """A form the console refuses before any service is asked; its key names the words."""

    def __init__(self, key: str, status: int = 422) -> None:
        super().__init__(key)
        self.status = status


def in_words(refused: Exception, lang: str) -> str:
    if isinstance(refused, Refused):
        return text(str(refused), lang)
    if isinstance(refused, Problem):
        if lang == "en":
            return f"{type(refused).title}: {refused.detail}"
        said = (
            PROBLEMS.get(type(refused).slug)
            or refused.title_zh
            or type(refused).title.split(" / ")[0]
        )
        # the detail without the field name it may start with (people see the field)
        detail = FIELD_PREFIX.sub("", refused.detail_zh or "")
        return f"{said}：{detail}" if detail else said
    assert isinstance(refused, ValidationError)
    said = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}".removeprefix(": ").replace(
            "Value error, ", ""
        )
        for e in refused.errors()
    )
    return said if lang == "en" else f"填写的内容不符合要求：{said}"


def status_of(refused: Exception) -> int:
    """The status a refused form's page answers with: the problem's, 422 for the rest."""
    if isinstance(refused, Problem | Refused):
        return refused.status
    return 422
