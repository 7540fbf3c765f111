"""Minimisation (最小必要, PIPL art. 6): an approval that grants personal fields says why."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from broker.requests.exceptions import MinimisationReasonRequired
from broker.requests.schemas import DecisionIn
from core.models.catalog import Dataset
from core.models.requests import DataRequest


async def require_minimisation_reason(
    session: AsyncSession, request: DataRequest, granted: Sequence[str], body: DecisionIn
) -> None:
    """An approval that grants personal fields says why they are needed (最小必要)."""
    if body.comment and body.comment.strip():
        return
    dataset = await session.get(Dataset, request.dataset_id) if request.dataset_id else None
    personal = dataset.personal_fields(granted) if dataset else []
    if personal:
        raise MinimisationReasonRequired(
            f"comment: the approval grants personal fields ({', '.join(personal)}); say why "
            "each is needed, or narrow `fields`",
            detail_zh=f"comment: 本次同意将授予个人信息数据项（{'、'.join(personal)}），"
            "请在审批意见中说明必要性，或缩小数据项范围",
            field="comment",
            personal_fields=personal,
        )
