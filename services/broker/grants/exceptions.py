"""The grants' problems."""

from __future__ import annotations

from broker.kit.problems import Conflict, NotFound, Problem


class GrantNotFound(NotFound):
    def __init__(self, grant_id: str) -> None:
        super().__init__(f"no grant '{grant_id}' visible to you", grant_id=grant_id)


class GrantChangeRefused(Problem):
    status = 403
    slug = "not-grant-authority"
    title = "Only the provider's CDO or the data bureau may change this grant"
    title_zh = "仅提供方首席数据官或数据管理部门可变更该授权"


class GrantClosed(Conflict):
    slug = "grant-closed"
    title = "The grant is no longer in force"
    title_zh = "该数据使用授权已失效"
