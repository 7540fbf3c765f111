"""The catalog's problems."""

from __future__ import annotations

from broker.kit.problems import Conflict, NotFound, Problem


class DatasetNotFound(NotFound):
    def __init__(self, dataset_id: str) -> None:
        super().__init__(f"no dataset '{dataset_id}'", dataset_id=dataset_id)


class DatasetExists(Conflict):
    slug = "dataset-exists"
    title = "Dataset exists"
    title_zh = "数据资源已存在"


class InvalidOwner(Problem):
    status = 422
    slug = "invalid-owner"
    title = "Invalid dataset owner"
    title_zh = "数据资源提供单位无效"


class DraftIncomplete(Problem):
    status = 422
    slug = "draft-incomplete"
    title = "The draft entry is not described yet"
    title_zh = "数据资源目录草稿信息不完整"
