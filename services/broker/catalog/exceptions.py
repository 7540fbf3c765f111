"""The catalog's problems."""

from __future__ import annotations

from broker.kit.problems import Conflict, NotFound, Problem, Worded


class DatasetNotFound(Worded, NotFound):
    wording = ("no dataset '{}'", "政务数据资源目录中没有数据资源“{}”")
    member = "dataset_id"


class DatasetExists(Worded, Conflict):
    slug = "dataset-exists"
    title = "Dataset exists"
    title_zh = "数据资源已存在"
    wording = ("dataset '{}' exists", "数据资源“{}”已存在")
    field = "id"


class InvalidOwner(Worded, Problem):
    status = 422
    slug = "invalid-owner"
    title = "Invalid dataset owner"
    title_zh = "数据资源提供单位无效"
    wording = (
        "owner_id: '{}' is not a department or data bureau",
        "owner_id: “{}”不是部门或政务服务数据管理局",
    )
    field = "owner_id"


class DraftIncomplete(Problem):
    status = 422
    slug = "draft-incomplete"
    title = "The draft entry is not described yet"
    title_zh = "数据资源目录草稿信息不完整"
