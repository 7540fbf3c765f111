"""The grants' problems."""

from __future__ import annotations

from broker.kit.problems import Conflict, NotFound, Problem, Worded

# A grant's status as people read it (GLOSSARY.md).
STATUS_ZH = {"active": "有效", "paused": "已暂停", "revoked": "已撤销", "expired": "已到期"}


class GrantNotFound(Worded, NotFound):
    wording = ("no grant '{}' visible to you", "未找到数据使用授权“{}”，或您无权查看")
    member = "grant_id"


class GrantChangeRefused(Problem):
    status = 403
    slug = "not-grant-authority"
    title = "Only the provider's CDO or the data bureau may change this grant"
    title_zh = "仅提供方首席数据官或数据管理部门可变更该授权"
    said_zh = "只有数据提供单位或有管辖权的数据管理局可以变更该授权"
    detail_on_pages = False


class GrantClosed(Conflict):
    slug = "grant-closed"
    title = "The grant is no longer in force"
    title_zh = "该数据使用授权已失效"

    def __init__(self, status: str) -> None:
        super().__init__(
            f"the grant is {status}",
            detail_zh=f"该数据使用授权的状态为“{STATUS_ZH.get(status, status)}”",
            grant_status=status,
        )
