"""The catalog's problems."""

from __future__ import annotations

from broker.kit.problems import Conflict, NotFound, Problem


class DatasetNotFound(NotFound):
    def __init__(self, dataset_id: str) -> None:
        super().__init__(
            f"no dataset '{dataset_id}'",
            detail_zh=f"政务数据资源目录中没有数据资源“{dataset_id}”",
            dataset_id=dataset_id,
        )


class DatasetExists(Conflict):
    slug = "dataset-exists"
    title = "Dataset exists"
    title_zh = "数据资源已存在"

    def __init__(self, dataset_id: str) -> None:
        super().__init__(
            f"dataset '{dataset_id}' exists",
            detail_zh=f"数据资源“{dataset_id}”已存在",
            field="id",
        )


class InvalidOwner(Problem):
    status = 422
    slug = "invalid-owner"
    title = "Invalid dataset owner"
    title_zh = "数据资源提供单位无效"

    def __init__(self, owner_id: str) -> None:
        super().__init__(
            f"owner_id: '{owner_id}' is not a department or data bureau",
            detail_zh=f"owner_id: “{owner_id}”不是部门或政务服务数据管理局",
            field="owner_id",
        )


class DraftIncomplete(Problem):
    status = 422
    slug = "draft-incomplete"
    title = "The draft entry is not described yet"
    title_zh = "数据资源目录草稿信息不完整"
