"""The evaluation's problems."""

from __future__ import annotations

from broker.kit.problems import Forbidden, Problem


class NotAnEnteredIndicator(Problem):
    status = 422
    slug = "not-an-entered-indicator"
    title = "Not an indicator a bureau scores"
    title_zh = "该指标不由数据管理部门评分"


class OnlyABureauScores(Forbidden):
    slug = "only-a-bureau-scores"
    title = "Only a data bureau scores CDOs"
    title_zh = "仅数据管理部门可评分"
